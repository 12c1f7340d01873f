/**
 * Containment of a temporary (ASIA) key. It cannot be deactivated: it ends when the sessions of the
 * principal that minted it are denied (facts.md: the deny-older-sessions policy, on the user or on
 * every role the key assumed). CloudTrail names that principal on any call the key made: the
 * session issuer of an AssumedRole identity, the IAM user of GetSessionToken credentials, or the
 * IAM user behind a FederatedUser (GetFederationToken).
 */
import { errorMessage } from "../domain/errors.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import type { ActivityLog } from "../ports.js";

export type Minter = { kind: "role"; name: string } | { kind: "user"; name: string };

/** facts.md: temporary credentials live up to 36 h; older calls cannot be this key's. */
const SESSION_LIFETIME_MS = 36 * 3_600_000;

/** The principal whose session a call with temporary credentials ran in, from its identity. */
export function minterOf(event: TrailEvent): Minter | undefined {
  const identity = event.userIdentity;
  const issuer = identity.sessionIssuer;
  if (identity.type === "AssumedRole" && issuer?.type === "Role" && issuer.userName)
    return { kind: "role", name: issuer.userName };
  if (identity.type === "FederatedUser" && issuer?.type === "IAMUser" && issuer.userName)
    return { kind: "user", name: issuer.userName };
  if (identity.type === "IAMUser" && identity.userName) return { kind: "user", name: identity.userName };
  return undefined;
}

export interface MinterSearch {
  minter?: Minter;
  /** Regions whose history could not be read: the minter may be there. */
  unread: string[];
}

/**
 * Reads the first page of the key's calls in every enabled region at once (one request a region,
 * within LookupEvents' 2 per second) and takes the principal from the first call that names one.
 */
export async function findMinter(
  activity: ActivityLog,
  accessKeyId: string,
  now: Date,
  regions?: readonly string[],
): Promise<MinterSearch> {
  const unread: string[] = [];
  const all = regions ?? (await activity.enabledRegions());
  const window = { startTime: new Date(now.getTime() - SESSION_LIFETIME_MS), endTime: now };
  const pages = await Promise.all(
    all.map((region) =>
      activity.lookupByAccessKey({ region, accessKeyId, ...window }).then(
        (page) => page.events,
        (error: unknown) => {
          unread.push(`${region} (${errorMessage(error)})`);
          return [] as TrailEvent[];
        },
      ),
    ),
  );
  for (const event of pages.flat()) {
    const minter = minterOf(event);
    if (minter) return { minter, unread };
  }
  return { unread };
}
