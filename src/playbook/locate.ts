/**
 * Playbook step 2, Locate: the owning account (sts:GetAccessKeyInfo), IAM there (the member role
 * when it is not the home account) and the owning user (iam:GetAccessKeyLastUsed).
 */
import { keyKind } from "../domain/access-key.js";
import { PermanentFailure } from "../domain/errors.js";
import type { KeyLocation } from "../domain/incident.js";
import type { AccountIam, KeyDirectory, MemberAccounts } from "../ports.js";

export type Located =
  | { kind: "not-ours"; accountId: string }
  | { kind: "temporary"; accountId: string; iam: AccountIam }
  | { kind: "user"; location: KeyLocation & { userName: string }; iam: AccountIam };

/**
 * The responder acts in its home account, the static list and, when configured, the organisation's
 * ACTIVE accounts; the organisation is asked only for an account found in neither.
 */
export async function isManagedAccount(
  accountId: string,
  home: string,
  managedAccountIds: readonly string[],
  memberAccounts?: MemberAccounts,
): Promise<boolean> {
  if (accountId === home || managedAccountIds.includes(accountId)) return true;
  return memberAccounts ? (await memberAccounts.list()).includes(accountId) : false;
}

export async function locateKey(
  accessKeyId: string,
  directory: KeyDirectory,
  managedAccountIds: readonly string[],
  memberAccounts?: MemberAccounts,
): Promise<Located> {
  const [accountId, home] = await Promise.all([directory.accountOf(accessKeyId), directory.homeAccountId()]);
  if (!(await isManagedAccount(accountId, home, managedAccountIds, memberAccounts)))
    return { kind: "not-ours", accountId };
  const iam = await directory.iamIn(accountId);
  // Temporary credentials have no user to deactivate; they end when their minting principal's
  // sessions are revoked, which needs the trail to find (forensics).
  if (keyKind(accessKeyId) === "temporary") return { kind: "temporary", accountId, iam };
  const owner = await iam.findKeyOwner(accessKeyId);
  if (!owner) {
    throw new PermanentFailure(
      `Key is in account ${accountId} by sts:GetAccessKeyInfo, but IAM there has no user owning it (deleted already?)`,
      "KeyNotFound",
    );
  }
  return {
    kind: "user",
    iam,
    location: {
      accountId,
      viaMemberRole: iam.viaMemberRole,
      userName: owner.userName,
      ...(owner.lastUsed ? { lastUsed: owner.lastUsed } : {}),
    },
  };
}
