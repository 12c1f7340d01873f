/**
 * Simulated EC2 (the EC2 query protocol, 2016-11-15): DescribeRegions, which tells a responder which
 * regions hold CloudTrail history worth reading (facts.md: one region per LookupEvents call). EC2 is
 * the query protocol's odd one out: answers are `<XResponse>` without a Result wrapper, lists are
 * `<item>`s, and errors are `<Response><Errors><Error>` with EC2's own codes (AuthFailure,
 * UnauthorizedOperation, RequestLimitExceeded), which the SDK names its exceptions after.
 */
import { fakeRequestId } from "../fake-ids.js";
import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import { DEFAULT_REGIONS, type SandboxState } from "../state.js";
import { accessDenied, authorize } from "./authorize.js";
import { parseForm, queryAction, requestIdHeaders, xmlDocument, xmlElement } from "./query-protocol.js";

const XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/";

/**
 * Regions an account must opt in to (disabled until it does); the rest of DEFAULT_REGIONS are on for
 * every account.
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

/** authorize()'s query-dialect codes, as EC2 words them. */
const EC2_ERRORS: Record<string, { status: number; code: string; message?: string }> = {
  InvalidClientTokenId: {
    status: 401,
    code: "AuthFailure",
    message: "AWS was not able to validate the provided access credentials",
  },
  ExpiredToken: { status: 400, code: "RequestExpired", message: "Request has expired." },
  AccessDenied: { status: 403, code: "UnauthorizedOperation" },
  InternalFailure: { status: 500, code: "InternalError" },
};

interface RegionRow {
  regionName: string;
  regionEndpoint: string;
  optInStatus: "opt-in-not-required" | "opted-in" | "not-opted-in";
}

export const ec2Service: SandboxService = {
  name: "ec2",

  operation: queryAction,

  handle(request: SandboxRequest, operation: string, state: SandboxState): SandboxResponse {
    if (operation !== "DescribeRegions") {
      throw new SandboxError(
        400,
        "InvalidAction",
        `The action ${operation} is not valid for this web service.`,
      );
    }
    const form = parseForm(request.body);
    const caller = authorize(request, state, {
      service: "ec2",
      action: "ec2:DescribeRegions",
      resource: "*",
      dialect: "query",
    });
    const account = state.accounts.get(caller.accountId);
    if (!account)
      throw new SandboxError(500, "InternalFailure", `sandbox: no account ${caller.accountId}`, false);
    const rows = regionRows(account.enabledRegions, form.get("AllRegions") === "true");
    const requestId = fakeRequestId();
    const body = xmlDocument("DescribeRegionsResponse", XMLNS, {
      requestId,
      regionInfo: { item: filterRows(rows, form).map((row) => ({ ...row })) },
    });
    return { status: 200, headers: requestIdHeaders(requestId), body };
  },

  faultError(kind: Exclude<FaultKind, "timeout">, operation: string, request?: SandboxRequest): SandboxError {
    if (kind === "throttle") return new SandboxError(503, "RequestLimitExceeded", "Request limit exceeded.");
    if (kind === "server-error")
      return new SandboxError(500, "InternalFailure", "An internal error has occurred.", false);
    return accessDenied(request?.caller?.arn, `ec2:${operation}`, "*");
  },

  render(error: SandboxError): SandboxResponse {
    const mapped = EC2_ERRORS[error.code];
    const code = mapped?.code ?? error.code;
    // EC2 prefixes an authorization failure with its own sentence, then AWS's usual wording.
    const message =
      mapped?.message ??
      (code === "UnauthorizedOperation"
        ? `You are not authorized to perform this operation. ${error.message}`
        : error.message);
    const requestId = fakeRequestId();
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response>${xmlElement("Errors", {
      Error: { Code: code, Message: message },
    })}${xmlElement("RequestID", requestId)}</Response>`;
    return { status: mapped?.status ?? error.status, headers: requestIdHeaders(requestId), body };
  },
};

/** The enabled regions; with AllRegions, the opt-in regions the account has not enabled as well. */
function regionRows(enabled: string[], allRegions: boolean): RegionRow[] {
  const row = (regionName: string, optInStatus: RegionRow["optInStatus"]): RegionRow => ({
    regionName,
    regionEndpoint: `ec2.${regionName}.amazonaws.com`,
    optInStatus,
  });
  const rows = enabled.map((name) =>
    row(name, DEFAULT_REGIONS.includes(name) ? "opt-in-not-required" : "opted-in"),
  );
  if (allRegions) {
    for (const name of OPT_IN_REGIONS) if (!enabled.includes(name)) rows.push(row(name, "not-opted-in"));
  }
  return rows;
}

/** RegionName.N and the region-name / opt-in-status / endpoint filters (Filter.N.Name, Filter.N.Value.M). */
function filterRows(rows: RegionRow[], form: URLSearchParams): RegionRow[] {
  const names = indexed(form, "RegionName");
  let kept = names.length > 0 ? rows.filter((r) => names.includes(r.regionName)) : rows;
  for (let n = 1; form.has(`Filter.${n}.Name`); n++) {
    const name = form.get(`Filter.${n}.Name`);
    const values = indexed(form, `Filter.${n}.Value`);
    const field: keyof RegionRow | undefined =
      name === "region-name"
        ? "regionName"
        : name === "opt-in-status"
          ? "optInStatus"
          : name === "endpoint"
            ? "regionEndpoint"
            : undefined;
    if (!field) throw new SandboxError(400, "InvalidParameterValue", `The filter '${name}' is invalid`);
    kept = kept.filter((r) => values.includes(r[field]));
  }
  return kept;
}

/** Values of an EC2 list parameter: Prefix.1, Prefix.2, ... */
function indexed(form: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let n = 1; ; n++) {
    const value = form.get(`${prefix}.${n}`);
    if (value === null) return values;
    values.push(value);
  }
}
