import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import type { OrganizationAccountState, SandboxState } from "../state.js";
import { accessDenied, authorize } from "./authorize.js";
import { jsonResponse, parseJsonObject, targetOperation } from "./json-protocol.js";

const CONTENT_TYPE = "application/x-amz-json-1.1";
const SERIALIZATION_MESSAGE = "The request body is not a JSON object.";

const TARGET_PREFIX = "AWSOrganizationsV20161128.";
const ACTION = "organizations:ListAccounts";
/** ListAccounts: MaxResults 1..20; the default page is AWS's choice, the sandbox uses 20. */
const MAX_RESULTS = 20;

const JSON_CODES: Record<string, string> = {
  AccessDenied: "AccessDeniedException",
  InvalidClientTokenId: "UnrecognizedClientException",
  ExpiredToken: "ExpiredTokenException",
};

/** The retiring `Status` field: only ACTIVE, SUSPENDED and PENDING_CLOSURE exist there. */
function legacyStatus(state: OrganizationAccountState): string {
  return state === "CLOSED" || state === "PENDING_ACTIVATION" ? "SUSPENDED" : state;
}

export const organizationsService: SandboxService = {
  name: "organizations",

  operation(request: SandboxRequest): string {
    return targetOperation(request, TARGET_PREFIX);
  },

  handle(request: SandboxRequest, operation: string, state: SandboxState): SandboxResponse {
    if (operation !== "ListAccounts") {
      throw new SandboxError(400, "UnknownOperationException", `The sandbox does not simulate ${operation}.`);
    }
    const caller = authorize(request, state, {
      service: "organizations",
      action: ACTION,
      resource: "*",
      dialect: "query",
    });
    const organization = state.organization;
    if (!organization || !state.organization?.members.has(caller.accountId)) {
      throw new SandboxError(
        400,
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
      );
    }
    if (
      caller.accountId !== organization.managementAccountId &&
      !organization.delegatedAdministrators.has(caller.accountId)
    ) {
      throw new SandboxError(
        400,
        "AccessDeniedException",
        "You don't have permissions to access this resource: only the management account or a delegated administrator can list accounts.",
      );
    }
    const input = parseJsonObject(request.body, SERIALIZATION_MESSAGE);
    const max = input.MaxResults ?? MAX_RESULTS;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
      throw new SandboxError(400, "InvalidInputException", "MaxResults must be between 1 and 20.");
    }
    const start = input.NextToken === undefined ? 0 : parseToken(input.NextToken, caller.accountId);
    const all = [...organization.members.entries()];
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? start + max : undefined;
    return jsonResponse(CONTENT_TYPE, 200, {
      Accounts: page.map(([id, accountState]) => ({
        Id: id,
        Arn: `arn:aws:organizations::${organization.managementAccountId}:account/${organization.id}/${id}`,
        Name: state.accounts.get(id)?.alias ?? `account-${id.slice(-4)}`,
        Email: `aws+${id}@example.test`,
        State: accountState,
        Status: legacyStatus(accountState),
        JoinedMethod: "CREATED",
        JoinedTimestamp: 1_700_000_000,
      })),
      ...(next === undefined
        ? {}
        : { NextToken: Buffer.from(`${caller.accountId}:${next}`).toString("base64") }),
    });
  },

  faultError(
    kind: Exclude<FaultKind, "timeout">,
    _operation: string,
    request?: SandboxRequest,
  ): SandboxError {
    if (kind === "throttle") return new SandboxError(400, "TooManyRequestsException", "Rate exceeded");
    if (kind === "server-error")
      return new SandboxError(500, "ServiceException", "An internal error has occurred.", false);
    return accessDenied(request?.caller?.arn, ACTION, "*");
  },

  render(error: SandboxError): SandboxResponse {
    return jsonResponse(CONTENT_TYPE, error.status, {
      __type: JSON_CODES[error.code] ?? error.code,
      Message: error.message,
    });
  },
};

function parseToken(token: unknown, accountId: string): number {
  const [owner, offset] = typeof token === "string" ? Buffer.from(token, "base64").toString().split(":") : [];
  const at = Number(offset);
  if (owner !== accountId || !Number.isInteger(at) || at < 0) {
    throw new SandboxError(400, "InvalidInputException", "The NextToken is not valid.");
  }
  return at;
}
