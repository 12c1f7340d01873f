/**
 * facts.md (AWS: locate and contain): deactivating a key does not end the temporary credentials it
 * already minted; an inline deny on every action for tokens issued before the containment time does.
 * The name matches the console's "Revoke active sessions", so an engineer recognises it, and a
 * later revocation (console or ours) replaces it with a later, stricter cut-off.
 */
export const REVOKE_OLDER_SESSIONS_POLICY_NAME = "AWSRevokeOlderSessions";

export function revokeOlderSessionsPolicy(cutoff: Date): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "LeakResponderRevokeOlderSessions",
        Effect: "Deny",
        Action: ["*"],
        Resource: ["*"],
        Condition: { DateLessThan: { "aws:TokenIssueTime": cutoff.toISOString() } },
      },
    ],
  });
}

/** facts.md: AWS attaches these ~1 minute after a public leak. */
export function isAwsQuarantinePolicy(policyName: string): boolean {
  return /^AWSCompromisedKeyQuarantine/.test(policyName);
}
