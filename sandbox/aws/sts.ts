/**
 * Simulated STS (query protocol, 2011-06-15): GetCallerIdentity, GetAccessKeyInfo, AssumeRole and
 * GetSessionToken, enough for the responder to locate a key's account and act in it, and for tests
 * to mint the temporary credentials an attacker would.
 */
import { createHash } from "node:crypto";
import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import type { Caller, SandboxState } from "../state.js";
import { accessDenied, authorize } from "./authorize.js";
import {
  invalidAction,
  optionalInt,
  parseForm,
  queryAction,
  queryErrorResponse,
  queryResponse,
  required,
  type XmlObject,
} from "./query-protocol.js";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const VERSION = "2011-06-15";
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** Role chaining caps a session at one hour, whatever the role allows. */
const ROLE_CHAINING_MAX_SECONDS = 3600;

export const stsService: SandboxService = {
  name: "sts",

  operation: queryAction,

  handle(request: SandboxRequest, operation: string, state: SandboxState): SandboxResponse {
    const form = parseForm(request.body);
    const auth = { service: "sts", action: `sts:${operation}`, dialect: "query" as const };
    switch (operation) {
      case "GetCallerIdentity": {
        // AWS never denies GetCallerIdentity, not even to a revoked session.
        const caller = authorize(request, state, { ...auth, resource: "*", skipRevocation: true });
        return queryResponse(operation, XMLNS, {
          UserId: caller.userId,
          Account: caller.accountId,
          Arn: caller.arn,
        });
      }
      case "GetAccessKeyInfo": {
        const caller = authorize(request, state, { ...auth, resource: "*" });
        refuseSessionCredentials(caller, operation);
        const accessKeyId = required(form, "AccessKeyId");
        if (!/^\w{16,128}$/.test(accessKeyId)) {
          throw new SandboxError(
            400,
            "ValidationError",
            `Value '${accessKeyId}' at 'accessKeyId' failed to satisfy constraint`,
          );
        }
        return queryResponse(operation, XMLNS, { Account: accountOfKey(state, accessKeyId) });
      }
      case "AssumeRole": {
        const roleArn = required(form, "RoleArn");
        const caller = authorize(request, state, { ...auth, resource: roleArn });
        return queryResponse(operation, XMLNS, assumeRole(state, caller, form, roleArn));
      }
      case "GetSessionToken": {
        const caller = authorize(request, state, { ...auth, resource: "*" });
        return queryResponse(operation, XMLNS, getSessionToken(state, caller, form));
      }
      default:
        throw invalidAction(operation, VERSION);
    }
  },

  faultError(kind: Exclude<FaultKind, "timeout">, operation: string, request?: SandboxRequest): SandboxError {
    if (kind === "throttle") return new SandboxError(400, "Throttling", "Rate exceeded");
    if (kind === "server-error")
      return new SandboxError(500, "InternalFailure", "An internal error has occurred.", false);
    const resource = (request && parseForm(request.body).get("RoleArn")) || "*";
    return accessDenied(request?.caller?.arn, `sts:${operation}`, resource);
  },

  render(error: SandboxError): SandboxResponse {
    return queryErrorResponse(error, XMLNS);
  },
};

/**
 * The owning account of any key id, as sts:GetAccessKeyInfo answers for keys it has never seen: a
 * key outside the sandbox gets a stable "foreign" account that is never one of the sandbox's own.
 */
export function accountOfKey(state: SandboxState, accessKeyId: string): string {
  const known =
    state.credentials.get(accessKeyId)?.caller.accountId ?? state.findAccessKey(accessKeyId)?.account.id;
  if (known) return known;
  for (let salt = 0; ; salt++) {
    const digest = createHash("sha256").update(`${accessKeyId}:${salt}`).digest();
    let account = "";
    for (let i = 0; account.length < 12; i++) account += String((digest[i] ?? 0) % 10);
    if (!state.accounts.has(account)) return account;
  }
}

/**
 * GetSessionToken credentials may call only AssumeRole and GetCallerIdentity in STS. Assumed-role
 * sessions (a Lambda function's role, say) may call GetAccessKeyInfo, but GetSessionToken refuses
 * every kind of temporary credentials (`strict`).
 */
function refuseSessionCredentials(caller: Caller, operation: string, strict = false): void {
  if (caller.kind === "session" || (strict && caller.kind !== "user")) {
    throw new SandboxError(403, "AccessDenied", `Cannot call ${operation} with session credentials`);
  }
}

function durationSeconds(form: URLSearchParams, fallback: number, max: number): number {
  const seconds = optionalInt(form, "DurationSeconds") ?? fallback;
  if (seconds < 900 || seconds > max) {
    throw new SandboxError(
      400,
      "ValidationError",
      `1 validation error detected: Value '${seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${seconds < 900 ? "greater than or equal to 900" : `less than or equal to ${max}`}`,
    );
  }
  return seconds;
}

/** The simplified trust policy: the caller's account, its user ARN, or the role it is acting as. */
function trusts(trustedPrincipals: string[], caller: Caller): boolean {
  const principals = [caller.accountId, `arn:aws:iam::${caller.accountId}:root`, caller.arn];
  if (caller.kind === "assumed-role" && caller.roleName) {
    principals.push(`arn:aws:iam::${caller.accountId}:role/${caller.roleName}`);
  }
  return principals.some((p) => trustedPrincipals.includes(p));
}

function assumeRole(state: SandboxState, caller: Caller, form: URLSearchParams, roleArn: string): XmlObject {
  const sessionName = required(form, "RoleSessionName");
  if (!SESSION_NAME.test(sessionName)) {
    throw new SandboxError(
      400,
      "ValidationError",
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  const match = ROLE_ARN.exec(roleArn);
  if (!match) throw new SandboxError(400, "ValidationError", `${roleArn} is invalid`);
  const [, accountId = "", roleName = ""] = match;
  const chained = caller.kind === "assumed-role";
  const seconds = durationSeconds(form, 3600, 43_200);
  if (chained && seconds > ROLE_CHAINING_MAX_SECONDS) {
    throw new SandboxError(
      400,
      "ValidationError",
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
  }
  // A role that does not exist is indistinguishable from one that does not trust you (as in AWS).
  const role = state.accounts.get(accountId)?.roles.get(roleName);
  if (!role || !trusts(role.trustedPrincipals, caller))
    throw accessDenied(caller.arn, "sts:AssumeRole", roleArn);
  // The member template's condition `StringEquals sts:ExternalId`: a missing or different id is denied.
  if (role.externalId !== undefined && form.get("ExternalId") !== role.externalId)
    throw accessDenied(caller.arn, "sts:AssumeRole", roleArn);
  const issuedAt = new Date();
  const expiresAt = new Date(issuedAt.getTime() + seconds * 1000);
  const assumedRoleId = `${role.roleId}:${sessionName}`;
  const assumedArn = `arn:aws:sts::${accountId}:assumed-role/${role.name}/${sessionName}`;
  const issued = state.issueTemporaryCredentials({
    accountId,
    arn: assumedArn,
    userId: assumedRoleId,
    kind: "assumed-role",
    roleName: role.name,
    issuedAt,
    expiresAt,
  });
  return {
    Credentials: credentialsXml(issued, expiresAt),
    AssumedRoleUser: { AssumedRoleId: assumedRoleId, Arn: assumedArn },
    PackedPolicySize: 0,
  };
}

function getSessionToken(state: SandboxState, caller: Caller, form: URLSearchParams): XmlObject {
  refuseSessionCredentials(caller, "GetSessionToken", true);
  const seconds = durationSeconds(form, 43_200, 129_600);
  const issuedAt = new Date();
  const expiresAt = new Date(issuedAt.getTime() + seconds * 1000);
  const issued = state.issueTemporaryCredentials({
    accountId: caller.accountId,
    arn: caller.arn,
    userId: caller.userId,
    kind: "session",
    ...(caller.userName ? { userName: caller.userName } : {}),
    issuedAt,
    expiresAt,
  });
  return { Credentials: credentialsXml(issued, expiresAt) };
}

function credentialsXml(
  issued: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  expiresAt: Date,
): XmlObject {
  return {
    AccessKeyId: issued.accessKeyId,
    SecretAccessKey: issued.secretAccessKey,
    SessionToken: issued.sessionToken,
    Expiration: expiresAt,
  };
}
