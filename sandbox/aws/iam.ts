/**
 * Simulated IAM (query protocol, 2010-05-08): the operations the responder contains a key with, and
 * the reads its follow-through checks the OIDC roles with, always acting in the caller's own account,
 * as IAM does (cross-account work goes through AssumeRole).
 */
import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import type { AccountRecord, Caller, RoleRecord, SandboxState, UserRecord } from "../state.js";
import { accessDenied, authorize, unknownKey } from "./authorize.js";
import {
  invalidAction,
  members,
  parseForm,
  queryAction,
  queryErrorResponse,
  queryResponse,
  required,
  type XmlObject,
} from "./query-protocol.js";

const XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/";
const VERSION = "2010-05-08";
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
/** A role's creation date: the sandbox does not track it. */
const SANDBOX_EPOCH = new Date("2026-01-01T00:00:00Z");

type Handler = (context: IamContext) => XmlObject | undefined;

interface IamContext {
  form: URLSearchParams;
  caller: Caller;
  account: AccountRecord;
}

const OPERATIONS: Record<string, Handler> = {
  GetUser: ({ form, caller, account }) => {
    const user = targetUser(form, caller, account);
    return {
      User: {
        Path: user.path,
        UserName: user.name,
        UserId: user.userId,
        Arn: user.arn,
        CreateDate: user.createdAt,
      },
    };
  },

  GetAccessKeyLastUsed: ({ form, account }) => {
    const accessKeyId = required(form, "AccessKeyId");
    for (const user of account.users.values()) {
      const key = user.accessKeys.get(accessKeyId);
      if (!key) continue;
      // facts.md: "N/A" for service and region when the key was never used, and no date.
      const lastUsed = key.lastUsed;
      return {
        UserName: user.name,
        AccessKeyLastUsed: lastUsed
          ? { LastUsedDate: lastUsed.date, ServiceName: lastUsed.service, Region: lastUsed.region }
          : { ServiceName: "N/A", Region: "N/A" },
      };
    }
    throw noSuchAccessKey(accessKeyId);
  },

  ListAccessKeys: ({ form, caller, account }) => {
    const user = targetUser(form, caller, account);
    return {
      AccessKeyMetadata: members(
        [...user.accessKeys.values()].map((key) => ({
          UserName: user.name,
          AccessKeyId: key.accessKeyId,
          Status: key.status,
          CreateDate: key.createdAt,
        })),
      ),
      IsTruncated: false,
    };
  },

  UpdateAccessKey: ({ form, caller, account }) => {
    const accessKeyId = required(form, "AccessKeyId");
    const status = required(form, "Status");
    if (status !== "Active" && status !== "Inactive") {
      throw new SandboxError(
        400,
        "ValidationError",
        `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
      );
    }
    const user = targetUser(form, caller, account);
    const key = user.accessKeys.get(accessKeyId);
    if (!key) throw noSuchAccessKey(accessKeyId);
    key.status = status;
    return undefined;
  },

  PutUserPolicy: ({ form, account }) => {
    const user = namedUser(form, account);
    const [name, document] = policyInput(form);
    user.inlinePolicies.set(name, document);
    return undefined;
  },

  GetUserPolicy: ({ form, account }) => {
    const user = namedUser(form, account);
    const name = required(form, "PolicyName");
    const document = user.inlinePolicies.get(name);
    if (document === undefined) throw noSuchEntity(`The user policy with name ${name} cannot be found.`);
    // IAM returns policy documents URL-encoded (RFC 3986); callers decode them.
    return { UserName: user.name, PolicyName: name, PolicyDocument: encodeURIComponent(document) };
  },

  ListUserPolicies: ({ form, account }) => {
    const user = namedUser(form, account);
    return { PolicyNames: members([...user.inlinePolicies.keys()]), IsTruncated: false };
  },

  ListAttachedUserPolicies: ({ form, account }) => {
    const user = namedUser(form, account);
    return {
      AttachedPolicies: members(
        user.attachedPolicies.map((p) => ({ PolicyName: p.policyName, PolicyArn: p.policyArn })),
      ),
      IsTruncated: false,
    };
  },

  PutRolePolicy: ({ form, account }) => {
    const role = namedRole(form, account);
    const [name, document] = policyInput(form);
    role.inlinePolicies.set(name, document);
    return undefined;
  },

  GetRolePolicy: ({ form, account }) => {
    const role = namedRole(form, account);
    const name = required(form, "PolicyName");
    const document = role.inlinePolicies.get(name);
    if (document === undefined) throw noSuchEntity(`The role policy with name ${name} cannot be found.`);
    return { RoleName: role.name, PolicyName: name, PolicyDocument: encodeURIComponent(document) };
  },

  GetRole: ({ form, account }) => {
    const role = namedRole(form, account);
    const trust =
      role.trustPolicy ??
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: role.trustedPrincipals }, Action: "sts:AssumeRole" },
        ],
      });
    return {
      Role: {
        Path: "/",
        RoleName: role.name,
        RoleId: role.roleId,
        Arn: role.arn,
        CreateDate: SANDBOX_EPOCH,
        // URL-encoded, as IAM returns every policy document.
        AssumeRolePolicyDocument: encodeURIComponent(trust),
        MaxSessionDuration: 3600,
      },
    };
  },

  GetOpenIDConnectProvider: ({ form, account }) => {
    const arn = required(form, "OpenIDConnectProviderArn");
    if (!/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+$/.test(arn)) {
      throw new SandboxError(400, "InvalidInput", `ARN ${arn} is not valid.`);
    }
    const provider = account.oidcProviders?.get(arn);
    if (!provider) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
    return {
      Url: provider.url,
      ClientIDList: members(provider.clientIds),
      ThumbprintList: members([]),
      CreateDate: provider.createdAt,
    };
  },

  ListRolePolicies: ({ form, account }) => {
    const role = namedRole(form, account);
    return { PolicyNames: members([...role.inlinePolicies.keys()]), IsTruncated: false };
  },
};

export const iamService: SandboxService = {
  name: "iam",

  operation: queryAction,

  handle(request: SandboxRequest, operation: string, state: SandboxState): SandboxResponse {
    const handler = OPERATIONS[operation];
    if (!handler) throw invalidAction(operation, VERSION);
    const form = parseForm(request.body);
    const caller = authorize(request, state, {
      service: "iam",
      action: `iam:${operation}`,
      resource: resourceOf(form, request.caller),
      dialect: "query",
    });
    // GetSessionToken credentials cannot call IAM without MFA, and IAM answers as if the token were
    // unknown. Checked after revocation, so a revoked session is AccessDenied here as everywhere else.
    if (caller.kind === "session") throw unknownKey("query");
    admit(state, caller.accountId);
    const account = state.accounts.get(caller.accountId);
    if (!account)
      throw new SandboxError(500, "InternalFailure", `sandbox: no account ${caller.accountId}`, false);
    return queryResponse(operation, XMLNS, handler({ form, caller, account }));
  },

  faultError(kind: Exclude<FaultKind, "timeout">, operation: string, request?: SandboxRequest): SandboxError {
    if (kind === "throttle") return new SandboxError(400, "Throttling", "Rate exceeded");
    if (kind === "server-error")
      return new SandboxError(500, "InternalFailure", "An internal error has occurred.", false);
    const resource = request ? resourceOf(parseForm(request.body), request.caller) : "*";
    return accessDenied(request?.caller?.arn, `iam:${operation}`, resource);
  },

  render(error: SandboxError): SandboxResponse {
    return queryErrorResponse(error, XMLNS);
  },
};

/** The resource as IAM names it in an AccessDenied message ("user alice", "role responder"). */
function resourceOf(form: URLSearchParams, caller: Caller | undefined): string {
  const roleName = form.get("RoleName");
  if (roleName) return `role ${roleName}`;
  const provider = form.get("OpenIDConnectProviderArn");
  if (provider) return provider;
  const userName = form.get("UserName") ?? caller?.userName;
  return userName ? `user ${userName}` : "*";
}

/** UserName, or the signing user when it is omitted (IAM's rule for ListAccessKeys, UpdateAccessKey...). */
function targetUser(form: URLSearchParams, caller: Caller, account: AccountRecord): UserRecord {
  const userName = form.get("UserName") || (caller.kind === "user" ? caller.userName : undefined);
  if (!userName) {
    throw new SandboxError(
      400,
      "ValidationError",
      "Must specify userName when calling with non-User credentials",
    );
  }
  return userIn(account, userName);
}

function namedUser(form: URLSearchParams, account: AccountRecord): UserRecord {
  return userIn(account, required(form, "UserName"));
}

function userIn(account: AccountRecord, userName: string): UserRecord {
  const user = account.users.get(userName);
  if (!user) throw noSuchEntity(`The user with name ${userName} cannot be found.`);
  return user;
}

function namedRole(form: URLSearchParams, account: AccountRecord): RoleRecord {
  const roleName = required(form, "RoleName");
  const role = account.roles.get(roleName);
  if (!role) throw noSuchEntity(`The role with name ${roleName} cannot be found.`);
  return role;
}

/** PolicyName and PolicyDocument, validated as IAM does before storing them. */
function policyInput(form: URLSearchParams): [string, string] {
  const name = required(form, "PolicyName");
  if (!POLICY_NAME.test(name)) {
    throw new SandboxError(
      400,
      "ValidationError",
      `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
    );
  }
  const document = required(form, "PolicyDocument");
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw new SandboxError(400, "MalformedPolicyDocument", "Syntax errors in policy.");
  }
  if (typeof parsed !== "object" || parsed === null || !("Statement" in parsed)) {
    throw new SandboxError(400, "MalformedPolicyDocument", "Missing required field Statement");
  }
  return [name, document];
}

function noSuchEntity(message: string): SandboxError {
  return new SandboxError(404, "NoSuchEntity", message);
}

/** Also what a key from another account gets: IAM only sees keys of the caller's account. */
function noSuchAccessKey(accessKeyId: string): SandboxError {
  return noSuchEntity(`The Access Key with id ${accessKeyId} cannot be found`);
}

/** A token bucket per account: `burst` calls at once, refilled at `perSecond` (state.iamRateLimit). */
function admit(state: SandboxState, accountId: string): void {
  const limit = state.iamRateLimit;
  if (!limit) return;
  const now = Date.now();
  const bucket = state.iamBuckets.get(accountId) ?? { tokens: limit.burst, at: now };
  bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
  bucket.at = now;
  state.iamBuckets.set(accountId, bucket);
  if (bucket.tokens < 1) {
    state.iamThrottles += 1;
    throw new SandboxError(400, "Throttling", "Rate exceeded");
  }
  bucket.tokens -= 1;
}
