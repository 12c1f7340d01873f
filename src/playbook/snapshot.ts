/**
 * Playbook step 5, Preserve: the key's CloudTrail history in every enabled region, in parallel,
 * each region paced under the API's limit, every page followed to the end; then the temporary keys
 * it minted (GetSessionToken, GetFederationToken, AssumeRole) the same way (facts.md: pivot).
 * Throttling is absorbed (pace + backoff), never turned into missing events; a region that still
 * fails is named as incomplete. Nothing here claims completeness it does not have.
 */
import { errorMessage, isRetryable } from "../domain/errors.js";
import type { Pacer } from "../forensics/region-pacer.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import type { ActivityLog } from "../ports.js";

/** facts.md: event history keeps 90 days. */
export const MAX_LOOKBACK_DAYS = 90;
/** How many generations of minted keys to follow, and how many keys at most. */
const MAX_PIVOT_DEPTH = 3;
const MAX_KEYS = 50;
/** Retries of one page after throttling or a 5xx, with doubling backoff (0.25 s, 0.5 s, 1 s...). */
const PAGE_RETRIES = 7;
const FIRST_BACKOFF_MS = 250;

export interface SnapshotWindow {
  startTime: Date;
  endTime: Date;
}

export interface RegionResult {
  region: string;
  accessKeyId: string;
  events: number;
  pages: number;
  complete: boolean;
  error?: string;
  /** Set when the deadline stopped it: where to continue. */
  nextToken?: string;
}

export interface Snapshot {
  accountId: string;
  window: { startTime: string; endTime: string };
  regions: string[];
  /** The leaked key first, then the keys it minted, in the order found. */
  accessKeyIds: string[];
  results: RegionResult[];
  incompleteRegions: string[];
  /** Roles assumed by the key or its minted keys: `arn:aws:iam::ACCOUNT:role/NAME`. */
  rolesAssumed: string[];
  events: TrailEvent[];
  /** The raw records, verbatim, in event order (the evidence). */
  raw: string[];
  complete: boolean;
  /** The deadline came first: the snapshot can continue from here. */
  checkpoint?: SnapshotCheckpoint;
}

export interface SnapshotCheckpoint {
  pending: Array<{ accessKeyId: string; region: string; nextToken?: string }>;
  seenKeys: string[];
}

export interface SnapshotInput {
  activity: ActivityLog;
  accessKeyId: string;
  window: SnapshotWindow;
  pacer: Pacer;
  /** Overrides the enabled-regions lookup (configuration). */
  regions?: string[];
  /** Stop starting new pages after this time (ms since epoch) and return a checkpoint. */
  deadline?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Told of each role the key (or a key it minted) assumed, as soon as the page naming it is read:
   * its sessions are revoked then, not after the slowest region (design.md: revoke sessions on
   * those roles). Told once per role.
   */
  onRoleAssumed?: (roleArn: string) => void;
}

/** The window: look-back before the leak (default 7 days, at most 90) to containment plus a grace. */
export function snapshotWindow(input: {
  leakedAt: Date;
  containedAt: Date;
  now: Date;
  lookbackDays?: number;
  graceMinutes?: number;
}): SnapshotWindow {
  const lookback = Math.min(Math.max(input.lookbackDays ?? 7, 0), MAX_LOOKBACK_DAYS);
  const oldest = input.now.getTime() - MAX_LOOKBACK_DAYS * 86_400_000;
  const start = Math.max(input.leakedAt.getTime() - lookback * 86_400_000, oldest);
  const end = Math.min(
    input.containedAt.getTime() + (input.graceMinutes ?? 15) * 60_000,
    input.now.getTime(),
  );
  return { startTime: new Date(start), endTime: new Date(Math.max(end, start)) };
}

const PIVOT_EVENTS = new Set(["GetSessionToken", "GetFederationToken", "AssumeRole"]);

/** Keys minted by a successful GetSessionToken / GetFederationToken / AssumeRole event. */
export function mintedKeys(event: TrailEvent): { accessKeyId?: string; roleArn?: string } {
  if (!PIVOT_EVENTS.has(event.eventName) || event.errorCode) return {};
  const credentials = (
    event.responseElements as { credentials?: { accessKeyId?: unknown } } | null | undefined
  )?.credentials;
  const accessKeyId = typeof credentials?.accessKeyId === "string" ? credentials.accessKeyId : undefined;
  const roleArn =
    event.eventName === "AssumeRole" && typeof event.requestParameters?.roleArn === "string"
      ? event.requestParameters.roleArn
      : undefined;
  return { ...(accessKeyId ? { accessKeyId } : {}), ...(roleArn ? { roleArn } : {}) };
}

export async function takeSnapshot(input: SnapshotInput): Promise<Snapshot> {
  return continueSnapshot(input, undefined);
}

export async function continueSnapshot(
  input: SnapshotInput,
  checkpoint: SnapshotCheckpoint | undefined,
  previous?: Snapshot,
): Promise<Snapshot> {
  const { activity, pacer, window } = input;
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const regions = previous?.regions ?? input.regions ?? (await activity.enabledRegions());
  const seen = new Set<string>(checkpoint?.seenKeys ?? [input.accessKeyId]);
  const byId = new Map<string, { event: TrailEvent; raw: string }>();
  for (const [index, event] of (previous?.events ?? []).entries()) {
    byId.set(event.eventId, { event, raw: previous?.raw[index] ?? "" });
  }
  const results: RegionResult[] = [...(previous?.results.filter((r) => r.nextToken === undefined) ?? [])];
  const rolesAssumed = new Set<string>(previous?.rolesAssumed ?? []);
  const pending: SnapshotCheckpoint["pending"] = [];
  const toldRoles = new Set<string>(rolesAssumed);
  const onPage = (events: TrailEvent[]) => {
    for (const event of events) {
      const { roleArn } = mintedKeys(event);
      if (roleArn && !toldRoles.has(roleArn)) {
        toldRoles.add(roleArn);
        input.onRoleAssumed?.(roleArn);
      }
    }
  };

  let wave: Array<{ accessKeyId: string; region: string; nextToken?: string }> =
    checkpoint?.pending ?? regions.map((region) => ({ accessKeyId: input.accessKeyId, region }));
  for (let depth = 0; wave.length > 0 && depth <= MAX_PIVOT_DEPTH; depth++) {
    const found = await Promise.all(
      wave.map((task) =>
        lookupRegion({ ...task, activity, pacer, window, sleep, deadline: input.deadline, onPage }),
      ),
    );
    const minted: string[] = [];
    for (const outcome of found) {
      results.push(outcome.result);
      if (outcome.result.nextToken !== undefined) {
        pending.push({
          accessKeyId: outcome.result.accessKeyId,
          region: outcome.result.region,
          nextToken: outcome.result.nextToken,
        });
      }
      for (const item of outcome.items) {
        byId.set(item.event.eventId, item);
        const { accessKeyId, roleArn } = mintedKeys(item.event);
        if (roleArn) rolesAssumed.add(roleArn);
        if (accessKeyId && !seen.has(accessKeyId) && seen.size < MAX_KEYS) {
          seen.add(accessKeyId);
          minted.push(accessKeyId);
        }
      }
    }
    wave = minted.flatMap((accessKeyId) => regions.map((region) => ({ accessKeyId, region })));
    if (input.deadline !== undefined && Date.now() >= input.deadline) {
      pending.push(...wave);
      break;
    }
  }

  const ordered = [...byId.values()].sort(
    (a, b) =>
      a.event.eventTime.localeCompare(b.event.eventTime) || a.event.eventId.localeCompare(b.event.eventId),
  );
  const incompleteRegions = [
    ...new Set(results.filter((r) => !r.complete && r.nextToken === undefined).map((r) => r.region)),
  ].sort();
  return {
    accountId: activity.accountId,
    window: { startTime: window.startTime.toISOString(), endTime: window.endTime.toISOString() },
    regions,
    accessKeyIds: [...seen],
    results,
    incompleteRegions,
    rolesAssumed: [...rolesAssumed].sort(),
    events: ordered.map((o) => o.event),
    raw: ordered.map((o) => o.raw),
    complete: pending.length === 0 && incompleteRegions.length === 0,
    ...(pending.length > 0 ? { checkpoint: { pending, seenKeys: [...seen] } } : {}),
  };
}

async function lookupRegion(task: {
  accessKeyId: string;
  region: string;
  nextToken?: string;
  activity: ActivityLog;
  pacer: Pacer;
  window: SnapshotWindow;
  sleep: (ms: number) => Promise<void>;
  deadline: number | undefined;
  onPage: (events: TrailEvent[]) => void;
}): Promise<{ result: RegionResult; items: Array<{ event: TrailEvent; raw: string }> }> {
  const key = `${task.activity.accountId}:${task.region}`;
  const items: Array<{ event: TrailEvent; raw: string }> = [];
  let nextToken = task.nextToken;
  let pages = 0;
  do {
    if (task.deadline !== undefined && Date.now() >= task.deadline) {
      const result: RegionResult = {
        region: task.region,
        accessKeyId: task.accessKeyId,
        events: items.length,
        pages,
        complete: false,
      };
      // A region that has not started continues from its beginning; one in progress from its token.
      return { result: { ...result, nextToken: nextToken ?? "" }, items };
    }
    let attempt = 0;
    for (;;) {
      await task.pacer.acquire(key);
      try {
        const page = await task.activity.lookupByAccessKey({
          region: task.region,
          accessKeyId: task.accessKeyId,
          startTime: task.window.startTime,
          endTime: task.window.endTime,
          ...(nextToken ? { nextToken } : {}),
        });
        pages += 1;
        page.events.forEach((event, index) => {
          items.push({ event, raw: page.raw[index] ?? "" });
        });
        task.onPage(page.events);
        nextToken = page.nextToken;
        break;
      } catch (error: unknown) {
        attempt += 1;
        if (!isRetryable(error) || attempt > PAGE_RETRIES) {
          return {
            result: {
              region: task.region,
              accessKeyId: task.accessKeyId,
              events: items.length,
              pages,
              complete: false,
              error: errorMessage(error),
            },
            items,
          };
        }
        const backoff = FIRST_BACKOFF_MS * 2 ** (attempt - 1);
        task.pacer.backOff(key, backoff);
        await task.sleep(0);
      }
    }
  } while (nextToken);
  return {
    result: {
      region: task.region,
      accessKeyId: task.accessKeyId,
      events: items.length,
      pages,
      complete: true,
    },
    items,
  };
}
