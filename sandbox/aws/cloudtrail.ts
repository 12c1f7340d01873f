/**
 * Simulated CloudTrail over AWS JSON 1.1 (`X-Amz-Target: CloudTrail_20131101.LookupEvents`), with the
 * rules that shape a responder's evidence collection (facts.md: AWS, CloudTrail): management events
 * only, the last 90 days, one region per call (the SigV4 scope's), exactly one lookup attribute,
 * MaxResults 1..50, NextToken bound to its query, and 2 requests per second per account per region.
 *
 * Timestamps travel as epoch seconds (JSON numbers) both ways, as the SDK's JSON codec writes and
 * reads them. Errors are `{"__type", "Message"}`; the SDK names the exception after `__type`.
 */
import { createHash } from "node:crypto";
import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import { type SandboxState, type TrailRecord, trailKey } from "../state.js";
import { accessDenied, authorize } from "./authorize.js";
import { type Json, jsonResponse, parseJsonObject, targetOperation } from "./json-protocol.js";

const CONTENT_TYPE = "application/x-amz-json-1.1";
const SERIALIZATION_MESSAGE = "Start of structure or map found where not expected.";

const TARGET_PREFIX = "CloudTrail_20131101.";
const ACTION = "cloudtrail:LookupEvents";
/** facts.md: MaxResults <= 50, which is also the default. */
const MAX_RESULTS = 50;
/** facts.md: event history covers the last 90 days. */
const VISIBLE_MS = 90 * 86_400_000;
/** facts.md: 2 requests per second per account per region, over a sliding one-second window. */
const LOOKUPS_PER_WINDOW = 2;
const WINDOW_MS = 1000;
const ATTRIBUTE_KEYS = [
  "AccessKeyId",
  "Username",
  "EventName",
  "EventId",
  "ReadOnly",
  "EventSource",
  "ResourceType",
  "ResourceName",
] as const;
type AttributeKey = (typeof ATTRIBUTE_KEYS)[number];

/**
 * How authorize()'s query-dialect codes read in a JSON 1.1 service: the Coral names CloudTrail (like
 * every JSON service) answers with.
 */
const JSON_CODES: Record<string, string> = {
  AccessDenied: "AccessDeniedException",
  InvalidClientTokenId: "UnrecognizedClientException",
  ExpiredToken: "ExpiredTokenException",
};

interface LookupQuery {
  attribute?: { key: AttributeKey; value: string };
  /** Epoch milliseconds, as asked (undefined: the default, evaluated per request). */
  startTime?: number;
  endTime?: number;
  maxResults: number;
  category?: string;
}

/** Where a page ended: the last event returned, and the query the token belongs to. */
interface Cursor {
  q: string;
  t: number;
  id: string;
}

export const cloudtrailService: SandboxService = {
  name: "cloudtrail",

  operation(request: SandboxRequest): string {
    return targetOperation(request, TARGET_PREFIX);
  },

  handle(request: SandboxRequest, operation: string, state: SandboxState): SandboxResponse {
    if (operation !== "LookupEvents") {
      throw new SandboxError(400, "UnknownOperationException", `The sandbox does not simulate ${operation}.`);
    }
    const region = request.region ?? "us-east-1";
    const caller = authorize(request, state, {
      service: "cloudtrail",
      action: ACTION,
      resource: "*",
      dialect: "query",
    });
    // AWS counts a request against the limit before it looks at the parameters.
    admit(state, caller.accountId, region);
    const input = parseJsonObject(request.body, SERIALIZATION_MESSAGE);
    const query = parseQuery(input);
    const queryId = queryFingerprint(caller.accountId, region, query);
    const cursor = typeof input.NextToken === "string" ? parseToken(input.NextToken, queryId) : undefined;
    return jsonResponse(
      CONTENT_TYPE,
      200,
      lookup(state.trailRecords(caller.accountId, region), query, queryId, cursor),
    );
  },

  faultError(
    kind: Exclude<FaultKind, "timeout">,
    _operation: string,
    request?: SandboxRequest,
  ): SandboxError {
    if (kind === "throttle") return throttled();
    if (kind === "server-error")
      return new SandboxError(500, "InternalFailure", "An internal error has occurred.", false);
    return accessDenied(request?.caller?.arn, ACTION, "*");
  },

  render(error: SandboxError): SandboxResponse {
    return jsonResponse(CONTENT_TYPE, error.status, {
      __type: JSON_CODES[error.code] ?? error.code,
      Message: error.message,
    });
  },
};

/** The sliding window: a third request within one second of two admitted ones is refused. */
function admit(state: SandboxState, accountId: string, region: string): void {
  const key = trailKey(accountId, region);
  const now = Date.now();
  const admitted = state.trailLookups.get(key) ?? [];
  let recent = 0;
  for (let i = admitted.length - 1; i >= 0; i--) {
    const at = admitted[i];
    if (at === undefined || at <= now - WINDOW_MS) break;
    recent += 1;
  }
  if (recent >= LOOKUPS_PER_WINDOW) {
    state.trailThrottles.set(key, (state.trailThrottles.get(key) ?? 0) + 1);
    throw throttled();
  }
  admitted.push(now);
  state.trailLookups.set(key, admitted);
}

/** HTTP 400 with a name the SDK's retry strategy classifies as throttling (THROTTLING_ERROR_CODES). */
function throttled(): SandboxError {
  return new SandboxError(400, "ThrottlingException", "Rate exceeded");
}

function parseQuery(input: Json): LookupQuery {
  const query: LookupQuery = { maxResults: MAX_RESULTS };
  const attributes = input.LookupAttributes;
  if (attributes !== undefined && attributes !== null) {
    if (!Array.isArray(attributes)) throw serialization();
    if (attributes.length > 1) {
      throw new SandboxError(
        400,
        "InvalidLookupAttributesException",
        "You cannot specify more than one lookup attribute.",
      );
    }
    const [first] = attributes as unknown[];
    if (first !== undefined) query.attribute = parseAttribute(first);
  }
  const maxResults = input.MaxResults;
  if (maxResults !== undefined && maxResults !== null) {
    if (
      typeof maxResults !== "number" ||
      !Number.isInteger(maxResults) ||
      maxResults < 1 ||
      maxResults > 50
    ) {
      throw new SandboxError(
        400,
        "InvalidMaxResultsException",
        `MaxResults ${String(maxResults)} is not valid: specify a value from 1 to ${MAX_RESULTS}.`,
      );
    }
    query.maxResults = maxResults;
  }
  const startTime = epochMillis(input.StartTime);
  const endTime = epochMillis(input.EndTime);
  if (startTime !== undefined) query.startTime = startTime;
  if (endTime !== undefined) query.endTime = endTime;
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
    throw new SandboxError(400, "InvalidTimeRangeException", "The start time must be before the end time.");
  }
  if (input.EventCategory !== undefined && input.EventCategory !== null) {
    if (input.EventCategory !== "insight") {
      throw new SandboxError(400, "InvalidEventCategoryException", "The event category is not valid.");
    }
    query.category = "insight";
  }
  return query;
}

function parseAttribute(raw: unknown): { key: AttributeKey; value: string } {
  if (typeof raw !== "object" || raw === null) throw serialization();
  const { AttributeKey: key, AttributeValue: value } = raw as Json;
  const known = ATTRIBUTE_KEYS.find((k) => k === key);
  if (!known) {
    throw new SandboxError(
      400,
      "InvalidLookupAttributesException",
      `The attribute key ${String(key)} is not valid. Valid keys: ${ATTRIBUTE_KEYS.join(", ")}.`,
    );
  }
  if (typeof value !== "string" || value.length === 0 || value.length > 2000) {
    throw new SandboxError(
      400,
      "InvalidLookupAttributesException",
      "The attribute value must be between 1 and 2000 characters.",
    );
  }
  if (known === "ReadOnly" && value !== "true" && value !== "false") {
    throw new SandboxError(400, "InvalidLookupAttributesException", "ReadOnly must be true or false.");
  }
  return { key: known, value };
}

/** The SDK writes timestamps as epoch seconds, possibly fractional. */
function epochMillis(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw serialization();
  return Math.round(value * 1000);
}

/**
 * What a NextToken is bound to. MaxResults is left out: changing the page size between pages is
 * harmless, while a different attribute, time range, region or account is another query.
 */
function queryFingerprint(accountId: string, region: string, query: LookupQuery): string {
  const bound = [
    accountId,
    region,
    query.attribute?.key,
    query.attribute?.value,
    query.startTime,
    query.endTime,
  ];
  return createHash("sha256")
    .update(JSON.stringify([...bound, query.category]))
    .digest("base64url")
    .slice(0, 22);
}

function parseToken(token: string, queryId: string): Cursor {
  const invalid = new SandboxError(
    400,
    "InvalidNextTokenException",
    "A token that is not valid was specified, or a token was reused with different parameters.",
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid;
  const { q, t, id } = parsed as Json;
  if (q !== queryId || typeof t !== "number" || typeof id !== "string") throw invalid;
  return { q, t, id };
}

function makeToken(queryId: string, last: TrailRecord): string {
  const cursor: Cursor = { q: queryId, t: Date.parse(last.eventTime), id: last.eventID };
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** One page: the matching events after the cursor, newest first, and a token if more remain. */
function lookup(
  records: readonly TrailRecord[],
  query: LookupQuery,
  queryId: string,
  cursor: Cursor | undefined,
): Json {
  // Insights events are a separate category the sandbox does not generate.
  if (query.category === "insight") return { Events: [] };
  const now = Date.now();
  const start = Math.max(query.startTime ?? 0, now - VISIBLE_MS);
  const end = query.endTime ?? now;
  const page: TrailRecord[] = [];
  let more = false;
  for (const record of records) {
    const time = Date.parse(record.eventTime);
    if (time > end) continue;
    // Newest first: nothing older can be in the window.
    if (time < start) break;
    if (cursor && !after(record, time, cursor)) continue;
    if (!record.managementEvent || !matches(record, query.attribute)) continue;
    if (page.length === query.maxResults) {
      more = true;
      break;
    }
    page.push(record);
  }
  const last = page.at(-1);
  return {
    Events: page.map(lookupEvent),
    ...(more && last ? { NextToken: makeToken(queryId, last) } : {}),
  };
}

/** True when `record` comes after the cursor's event in LookupEvents order (see newestFirst). */
function after(record: TrailRecord, time: number, cursor: Cursor): boolean {
  if (time !== cursor.t) return time < cursor.t;
  return record.eventID > cursor.id;
}

function matches(record: TrailRecord, attribute: LookupQuery["attribute"]): boolean {
  if (!attribute) return true;
  const { value } = attribute;
  switch (attribute.key) {
    case "AccessKeyId":
      return record.userIdentity.accessKeyId === value;
    case "Username":
      return lookupUsername(record) === value;
    case "EventName":
      return record.eventName === value;
    case "EventId":
      return record.eventID === value;
    case "ReadOnly":
      return String(record.readOnly) === value;
    case "EventSource":
      return record.eventSource === value;
    case "ResourceType":
      return lookupResources(record).some((r) => r.ResourceType === value);
    case "ResourceName":
      return lookupResources(record).some((r) => r.ResourceName === value);
  }
}

/**
 * The Username LookupEvents shows: the IAM user's name, or the session name of an assumed role (the
 * last part of its ARN), or "root".
 */
function lookupUsername(record: TrailRecord): string | undefined {
  const identity = record.userIdentity;
  if (identity.type === "AssumedRole") return identity.arn?.split("/").at(-1);
  if (identity.type === "Root") return "root";
  return identity.userName;
}

/** Resources as LookupEvents lists them: S3 by bucket (and key), everything else by ARN. */
function lookupResources(record: TrailRecord): Array<{ ResourceType?: string; ResourceName: string }> {
  return (record.resources ?? []).map((resource) => ({
    ...(resource.type ? { ResourceType: resource.type } : {}),
    ResourceName: resource.ARN.startsWith("arn:aws:s3:::") ? resource.ARN.slice(13) : resource.ARN,
  }));
}

function lookupEvent(record: TrailRecord): Json {
  const username = lookupUsername(record);
  return {
    EventId: record.eventID,
    EventName: record.eventName,
    ReadOnly: String(record.readOnly),
    ...(record.userIdentity.accessKeyId ? { AccessKeyId: record.userIdentity.accessKeyId } : {}),
    EventTime: Date.parse(record.eventTime) / 1000,
    EventSource: record.eventSource,
    ...(username ? { Username: username } : {}),
    Resources: lookupResources(record),
    CloudTrailEvent: JSON.stringify(record),
  };
}

function serialization(): SandboxError {
  return new SandboxError(400, "SerializationException", SERIALIZATION_MESSAGE);
}
