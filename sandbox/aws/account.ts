/**
 * Simulated AWS Account Management (REST-JSON, API 2021-02-01, SigV4 service `account`): ListRegions,
 * which tells a responder which regions hold CloudTrail history worth reading (facts.md: one region per
 * LookupEvents call). The service is global: the SDK signs for us-east-1 and posts to
 * `account.us-east-1.amazonaws.com`, `POST /listRegions` with a JSON body. Answers carry
 * `{Regions: [{RegionName, RegionOptStatus}], NextToken?}`; errors carry the code in the
 * `x-amzn-ErrorType` header and `{"message"}` in the body, which the SDK names its exceptions after.
 * Without AccountId the caller's own account is listed, which is all the responder asks.
 */
import { createHash } from "node:crypto";
import { fakeRequestId } from "../fake-ids.js";
import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import { DEFAULT_REGIONS, type SandboxState } from "../state.js";
import { accessDenied, authorize } from "./authorize.js";
import { type Json, jsonResponse, parseJsonObject } from "./json-protocol.js";

const CONTENT_TYPE = "application/json";
const SERIALIZATION_MESSAGE = "The request body is not valid JSON for ListRegions.";

const ACTION = "account:ListRegions";
/** The partition's global region: the only credential scope the service's one endpoint accepts. */
const SIGNING_REGION = "us-east-1";
/** The service's routes (each operation is `POST /<operationName>`); the sandbox simulates one. */
const OPERATIONS: Record<string, string> = { "/listRegions": "ListRegions" };
/** ListRegionsRequestMaxResultsInteger: 1..50 (botocore account-2021-02-01). */
const MAX_RESULTS = 50;
/** ListRegionsRequestNextTokenString: at most 1000 characters. */
const MAX_TOKEN_LENGTH = 1000;
const OPT_STATUSES = ["ENABLED", "ENABLING", "DISABLING", "DISABLED", "ENABLED_BY_DEFAULT"] as const;
type OptStatus = (typeof OPT_STATUSES)[number];

/**
 * Regions an account must opt in to (DISABLED until it does); the rest of DEFAULT_REGIONS are on for
 * every account (ENABLED_BY_DEFAULT).
 */
export const OPT_IN_REGIONS = [
  "af-south-1",
  "ap-east-1",
  "ap-south-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-7",
  "ca-west-1",
  "eu-central-2",
  "eu-south-1",
  "eu-south-2",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "mx-central-1",
];

/** How authorize()'s query-dialect codes, and throttling, read in this REST-JSON service. */
const REST_ERRORS: Record<string, { status: number; code: string }> = {
  AccessDenied: { status: 403, code: "AccessDeniedException" },
  InvalidClientTokenId: { status: 403, code: "UnrecognizedClientException" },
  ExpiredToken: { status: 403, code: "ExpiredTokenException" },
  InternalFailure: { status: 500, code: "InternalServerException" },
};

interface RegionRow {
  RegionName: string;
  RegionOptStatus: OptStatus;
}

export const accountService: SandboxService = {
  name: "account",

  operation(request: SandboxRequest): string {
    if (request.method !== "POST") return "unknown";
    return OPERATIONS[request.url.pathname] ?? "unknown";
  },

  handle(request: SandboxRequest, operation: string, state: SandboxState): SandboxResponse {
    if (operation !== "ListRegions") {
      throw new SandboxError(
        404,
        "UnknownOperationException",
        `The sandbox does not simulate ${request.method} ${request.url.pathname}.`,
      );
    }
    if (request.region !== SIGNING_REGION) {
      throw new SandboxError(
        403,
        "InvalidSignatureException",
        `Credential should be scoped to a valid region, not '${request.region ?? ""}'.`,
      );
    }
    const caller = authorize(request, state, {
      service: "account",
      action: ACTION,
      resource: accountArn(request.caller?.accountId),
      dialect: "query",
    });
    const input = parseJsonObject(request.body, SERIALIZATION_MESSAGE);
    if (input.AccountId !== undefined && input.AccountId !== null) {
      // Listing another account's regions needs an organisation with trusted access for Account
      // Management; the responder never asks it (it holds the member account's own role).
      throw validation("The sandbox does not simulate ListRegions for another account (AccountId).");
    }
    const maxResults = parseMaxResults(input.MaxResults);
    const statuses = parseStatuses(input.RegionOptStatusContains);
    const account = state.accounts.get(caller.accountId);
    if (!account)
      throw new SandboxError(500, "InternalFailure", `sandbox: no account ${caller.accountId}`, false);
    const queryId = queryFingerprint(caller.accountId, statuses);
    const after = typeof input.NextToken === "string" ? parseToken(input.NextToken, queryId) : undefined;
    const rows = regionRows(account.enabledRegions).filter(
      (row) => statuses.length === 0 || statuses.includes(row.RegionOptStatus),
    );
    const start = after === undefined ? 0 : rows.findIndex((row) => row.RegionName > after);
    const page = start < 0 ? [] : rows.slice(start, start + maxResults);
    const last = page.at(-1);
    const more = start >= 0 && start + maxResults < rows.length;
    return jsonResponse(CONTENT_TYPE, 200, {
      Regions: page,
      ...(more && last ? { NextToken: makeToken(queryId, last.RegionName) } : {}),
    });
  },

  faultError(
    kind: Exclude<FaultKind, "timeout">,
    _operation: string,
    request?: SandboxRequest,
  ): SandboxError {
    if (kind === "throttle") return new SandboxError(429, "TooManyRequestsException", "Rate exceeded");
    if (kind === "server-error")
      return new SandboxError(500, "InternalFailure", "An internal error has occurred.", false);
    return accessDenied(request?.caller?.arn, ACTION, accountArn(request?.caller?.accountId));
  },

  render(error: SandboxError): SandboxResponse {
    const mapped = REST_ERRORS[error.code];
    const code = mapped?.code ?? error.code;
    return {
      status: mapped?.status ?? error.status,
      headers: {
        "content-type": "application/json",
        "x-amzn-requestid": fakeRequestId(),
        "x-amzn-errortype": code,
      },
      body: JSON.stringify({ message: error.message }),
    };
  },
};

/** The `account` resource type of the IAM Service Authorization Reference. */
function accountArn(accountId: string | undefined): string {
  return `arn:aws:account::${accountId ?? "unknown"}:account`;
}

/** Every region AWS knows for the account, by name: the enabled ones and the opt-in ones still off. */
function regionRows(enabled: readonly string[]): RegionRow[] {
  const rows: RegionRow[] = enabled.map((name) => ({
    RegionName: name,
    RegionOptStatus: DEFAULT_REGIONS.includes(name) ? "ENABLED_BY_DEFAULT" : "ENABLED",
  }));
  for (const name of OPT_IN_REGIONS) {
    if (!enabled.includes(name)) rows.push({ RegionName: name, RegionOptStatus: "DISABLED" });
  }
  return rows.sort((a, b) => (a.RegionName < b.RegionName ? -1 : a.RegionName > b.RegionName ? 1 : 0));
}

function parseMaxResults(value: unknown): number {
  if (value === undefined || value === null) return MAX_RESULTS;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_RESULTS) {
    throw validation(`MaxResults must be between 1 and ${MAX_RESULTS}.`, "maxResults");
  }
  return value;
}

function parseStatuses(value: unknown): OptStatus[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw serialization();
  return value.map((status: unknown) => {
    const known = OPT_STATUSES.find((s) => s === status);
    if (!known) {
      throw validation(
        `RegionOptStatusContains: ${String(status)} is not one of ${OPT_STATUSES.join(", ")}.`,
        "regionOptStatusContains",
      );
    }
    return known;
  });
}

/** What a NextToken is bound to: the account and the filter. Page size may change between pages. */
function queryFingerprint(accountId: string, statuses: readonly OptStatus[]): string {
  return createHash("sha256")
    .update(JSON.stringify([accountId, [...statuses].sort()]))
    .digest("base64url")
    .slice(0, 22);
}

function makeToken(queryId: string, lastRegion: string): string {
  return Buffer.from(JSON.stringify({ q: queryId, after: lastRegion })).toString("base64url");
}

/** The region name the previous page ended with. */
function parseToken(token: string, queryId: string): string {
  const invalid = validation(
    "The NextToken is not valid, or was issued for different parameters.",
    "nextToken",
  );
  if (token.length > MAX_TOKEN_LENGTH) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid;
  const { q, after } = parsed as Json;
  if (q !== queryId || typeof after !== "string") throw invalid;
  return after;
}

/** ValidationException: HTTP 400 (its `reason` and `fieldList` members are left out). */
function validation(message: string, field?: string): SandboxError {
  return new SandboxError(400, "ValidationException", field ? `${field}: ${message}` : message);
}

function serialization(): SandboxError {
  return new SandboxError(400, "SerializationException", SERIALIZATION_MESSAGE);
}
