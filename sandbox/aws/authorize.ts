/**
 * Who may call, shared by every simulated AWS service: the signer must be a live credential (with
 * its session token for temporary keys), and temporary credentials die when an inline policy denies
 * tokens issued before a cut-off (facts.md: the deny-older-sessions policy, the pattern behind the
 * console's "Revoke active sessions"). Enforcing it makes "sessions revoked" observable over HTTP.
 */
import { SandboxError, type SandboxRequest } from "../service.js";
import type { Caller, SandboxState } from "../state.js";

/** How the service words authentication failures: S3 has its own codes. */
export type AuthDialect = "query" | "s3";

export interface AuthorizeOptions {
  /** The service as it appears in the key's last-used record ("iam", "s3"...). */
  service: string;
  /** The IAM action, as AWS names it in AccessDenied messages ("iam:UpdateAccessKey"). */
  action: string;
  /** The resource as AWS names it in AccessDenied messages. */
  resource: string;
  dialect: AuthDialect;
  /** sts:GetCallerIdentity: AWS answers it even when every other action is denied. */
  skipRevocation?: boolean;
}

/** The caller, or the error AWS would return for this signer. Records the long-term key's last use. */
export function authorize(request: SandboxRequest, state: SandboxState, options: AuthorizeOptions): Caller {
  const caller = authenticate(request, state, options.dialect);
  if (!options.skipRevocation && revokedByPolicy(state, caller)) {
    throw accessDenied(caller.arn, options.action, options.resource, "explicit-deny");
  }
  if (caller.kind === "user" && caller.userName) {
    const key = state.accounts
      .get(caller.accountId)
      ?.users.get(caller.userName)
      ?.accessKeys.get(caller.accessKeyId);
    if (key)
      key.lastUsed = { date: new Date(), service: options.service, region: request.region ?? "us-east-1" };
  }
  return caller;
}

function authenticate(request: SandboxRequest, state: SandboxState, dialect: AuthDialect): Caller {
  const record = request.signingKeyId ? state.credentials.get(request.signingKeyId) : undefined;
  // server.ts resolves only usable credentials; an expired session still has a record, and AWS says so.
  if (!request.caller) {
    if (record?.caller.expiresAt && record.caller.expiresAt.getTime() < Date.now())
      throw expiredToken(dialect);
    throw unknownKey(dialect);
  }
  if (record?.sessionToken !== undefined && request.headers["x-amz-security-token"] !== record.sessionToken) {
    throw dialect === "s3"
      ? new SandboxError(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
      : unknownKey(dialect);
  }
  return request.caller;
}

export function unknownKey(dialect: AuthDialect): SandboxError {
  return dialect === "s3"
    ? new SandboxError(
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
      )
    : new SandboxError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
}

function expiredToken(dialect: AuthDialect): SandboxError {
  return dialect === "s3"
    ? new SandboxError(400, "ExpiredToken", "The provided token has expired.")
    : new SandboxError(403, "ExpiredToken", "The security token included in the request is expired");
}

/** AWS's wording, which names the caller, the action and the resource (CloudTrail and humans read it). */
export function accessDenied(
  callerArn: string | undefined,
  action: string,
  resource: string,
  reason: "no-allow" | "explicit-deny" = "no-allow",
): SandboxError {
  const why =
    reason === "explicit-deny"
      ? "with an explicit deny in an identity-based policy"
      : `because no identity-based policy allows the ${action} action`;
  const who = callerArn ?? "anonymous";
  return new SandboxError(
    403,
    "AccessDenied",
    `User: ${who} is not authorized to perform: ${action} on resource: ${resource} ${why}`,
  );
}

/**
 * True when `caller` is temporary credentials issued before the DateLessThan aws:TokenIssueTime of a
 * Deny-everything inline policy on the user that minted them (GetSessionToken) or on the assumed role.
 * Long-term keys have no token issue time, so the condition never matches them (as in IAM).
 */
export function revokedByPolicy(state: SandboxState, caller: Caller): boolean {
  if (caller.kind === "user" || !caller.issuedAt) return false;
  const account = state.accounts.get(caller.accountId);
  const policies =
    caller.kind === "session"
      ? account?.users.get(caller.userName ?? "")?.inlinePolicies
      : account?.roles.get(caller.roleName ?? "")?.inlinePolicies;
  if (!policies) return false;
  const issuedAt = caller.issuedAt.getTime();
  for (const document of policies.values()) {
    if (tokenIssueCutoffs(document).some((cutoff) => issuedAt < cutoff)) return true;
  }
  return false;
}

/** The cut-offs of every `Deny * on *` statement conditioned on DateLessThan aws:TokenIssueTime. */
function tokenIssueCutoffs(document: string): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return [];
  }
  if (!isRecord(parsed)) return [];
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  const cutoffs: number[] = [];
  for (const statement of statements) {
    if (!isRecord(statement) || statement.Effect !== "Deny") continue;
    if (!listOf(statement.Action).includes("*") || !listOf(statement.Resource).includes("*")) continue;
    const condition = isRecord(statement.Condition)
      ? caseInsensitive(statement.Condition, "DateLessThan")
      : undefined;
    // Condition keys are case-insensitive in IAM; the values may be one date or a list.
    const dates = isRecord(condition) ? listOf(caseInsensitive(condition, "aws:TokenIssueTime")) : [];
    for (const date of dates) {
      const time = Date.parse(date);
      if (!Number.isNaN(time)) cutoffs.push(time);
    }
  }
  return cutoffs;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function listOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function caseInsensitive(record: Record<string, unknown>, key: string): unknown {
  const match = Object.keys(record).find((k) => k.toLowerCase() === key.toLowerCase());
  return match === undefined ? undefined : record[match];
}
