/**
 * Playbook step 3, Contain: deactivate the key, revoke the sessions it minted (deny-older-sessions
 * inline policy) and note any AWS quarantine policy, all three at once once the user is known; then
 * read the key's status back. Deactivate, never delete (facts.md).
 */
import { errorMessage, isRetryable } from "../domain/errors.js";
import {
  isAwsQuarantinePolicy,
  REVOKE_OLDER_SESSIONS_POLICY_NAME,
} from "../domain/revoke-sessions-policy.js";
import type { AccountIam, Clock } from "../ports.js";
import type { Timeline } from "./timeline.js";

export interface ContainmentResult {
  containedAt: string;
  deactivated: boolean;
  sessionsRevoked: boolean;
  quarantinePolicies: string[];
  keyStatusAfter: "Active" | "Inactive" | "unknown";
  warnings: string[];
  /** Set when the key could not be deactivated: the error as the adapter raised it. */
  failure?: unknown;
}

/**
 * Extra tries, after the SDK's own, for every containment call. When a whole organisation's
 * keys leak at once IAM throttles the account for longer than the client's attempts last; the
 * sessions must still be revoked now, not reported as a warning (the storm test found this).
 */
const RETRY_DELAYS_MS = [500, 1_500];

async function timed<T>(clock: Clock, work: () => Promise<T>, retryDelaysMs: readonly number[] = []) {
  const startedAt = clock.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const value = await work();
      return { ok: true as const, value, startedAt, endedAt: clock.now() };
    } catch (error: unknown) {
      const delay = retryDelaysMs[attempt];
      if (delay === undefined || !isRetryable(error))
        return { ok: false as const, error, startedAt, endedAt: clock.now() };
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export async function containKey(input: {
  iam: AccountIam;
  userName: string;
  accessKeyId: string;
  clock: Clock;
  timeline: Timeline;
}): Promise<ContainmentResult> {
  const { iam, userName, accessKeyId, clock, timeline } = input;
  // facts.md: sessions issued before this instant are denied; it is also "the containment time".
  const cutoff = clock.now();
  const [deactivation, revocation, attached] = await Promise.all([
    timed(clock, () => iam.deactivateKey(userName, accessKeyId), RETRY_DELAYS_MS),
    timed(clock, () => iam.denyOlderUserSessions(userName, cutoff), RETRY_DELAYS_MS),
    timed(clock, () => iam.attachedUserPolicies(userName), RETRY_DELAYS_MS),
  ]);

  const warnings: string[] = [];
  let failure: unknown;
  if (deactivation.ok) {
    timeline.recordAt(
      "key-deactivated",
      "done",
      `iam:UpdateAccessKey ${accessKeyId} of ${userName} in ${iam.accountId} -> Inactive`,
      deactivation.endedAt,
      deactivation.startedAt,
    );
  } else {
    const message = errorMessage(deactivation.error);
    timeline.recordAt("key-deactivated", "failed", message, deactivation.endedAt, deactivation.startedAt);
    failure = deactivation.error;
  }
  if (revocation.ok) {
    timeline.recordAt(
      "sessions-revoked",
      "done",
      `iam:PutUserPolicy ${REVOKE_OLDER_SESSIONS_POLICY_NAME} on ${userName}: deny tokens issued before ${cutoff.toISOString()}`,
      revocation.endedAt,
      revocation.startedAt,
    );
  } else {
    const message = errorMessage(revocation.error);
    timeline.recordAt("sessions-revoked", "failed", message, revocation.endedAt, revocation.startedAt);
    warnings.push(
      `Sessions minted with the key were NOT revoked (${message}); they stay valid for up to 36 hours. ` +
        `Revoke them by hand: IAM console > Users > ${userName} > Revoke active sessions.`,
    );
  }
  let quarantinePolicies: string[] = [];
  if (attached.ok) {
    quarantinePolicies = attached.value.filter(isAwsQuarantinePolicy);
    timeline.recordAt(
      "quarantine-checked",
      "done",
      quarantinePolicies.length > 0
        ? `AWS had already attached ${quarantinePolicies.join(", ")} (it does not deny everything, so containment ran anyway)`
        : "No AWS quarantine policy attached",
      attached.endedAt,
      attached.startedAt,
    );
  } else {
    timeline.recordAt(
      "quarantine-checked",
      "failed",
      errorMessage(attached.error),
      attached.endedAt,
      attached.startedAt,
    );
    warnings.push(`Could not check for an AWS quarantine policy: ${errorMessage(attached.error)}`);
  }

  // Read back, off the critical path: the key is already dead or failed by now.
  let keyStatusAfter: ContainmentResult["keyStatusAfter"] = "unknown";
  const readBack = await timed(clock, () => iam.keyStatus(userName, accessKeyId), RETRY_DELAYS_MS);
  if (readBack.ok && readBack.value) {
    keyStatusAfter = readBack.value;
    const outcome = keyStatusAfter === "Inactive" ? "done" : "failed";
    timeline.record(
      "key-status-verified",
      outcome,
      `iam:ListAccessKeys reads the key as ${keyStatusAfter}`,
      readBack.startedAt,
    );
    if (deactivation.ok && keyStatusAfter !== "Inactive") {
      warnings.push(`IAM still reports the key as ${keyStatusAfter} after deactivation: check it by hand.`);
    }
  } else {
    const detail = readBack.ok ? "the key is no longer listed on the user" : errorMessage(readBack.error);
    timeline.record("key-status-verified", "failed", detail, readBack.startedAt);
    warnings.push(`Could not read the key's status back: ${detail}`);
  }

  return {
    containedAt: cutoff.toISOString(),
    deactivated: deactivation.ok,
    sessionsRevoked: revocation.ok,
    quarantinePolicies,
    keyStatusAfter,
    warnings,
    ...(deactivation.ok ? {} : { failure }),
  };
}
