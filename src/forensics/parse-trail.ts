/**
 * CloudTrail events in, `TrailEvent`s out, from every shape a responder meets (facts.md, AWS:
 * CloudTrail): a log file (`{"Records": [...]}`), LookupEvents output (`{"Events": [...]}` whose
 * `CloudTrailEvent` is a JSON string, one page or an array of pages), the snapshot's evidence (JSON
 * lines of raw records) and a plain array of records.
 *
 * The input may come from anyone (a file handed to the CLI), so parsing is bounded: a size limit
 * checked before any work, a nesting limit, prototype keys dropped (bounded-json.ts), entries that
 * are not records skipped and counted rather than fatal, and every string kept cut to a sane length.
 */
import { createHash } from "node:crypto";
import { InvalidInputError } from "../domain/errors.js";
import { DEFAULT_MAX_JSON_DEPTH, isJsonObject, parseBoundedJson } from "./bounded-json.js";
import { printableOrUndefined } from "./printable-text.js";
import type { TrailEvent, TrailIdentity } from "./trail-event.js";

/** 90 days of a busy CI key is tens of megabytes; V8 cannot hold a string much over 512 MB. */
export const DEFAULT_MAX_TRAIL_BYTES = 256 * 1024 * 1024;
/** How many leading lines may be broken before a file is no longer taken for JSON lines. */
const JSON_LINES_PROBE = 10;
/** More resources than any real API call names; the rest are dropped. */
const MAX_RESOURCES_PER_EVENT = 100;

export type TrailFormat =
  | "cloudtrail-log-file"
  | "lookup-events"
  | "record-array"
  | "single-record"
  | "json-lines"
  | "empty";

export interface TrailSkipCounts {
  /** Entries that were not JSON objects (numbers, strings, null, arrays inside arrays). */
  notAnObject: number;
  /** Objects without a usable eventTime, eventName or eventSource. */
  incomplete: number;
  /** JSON lines, or LookupEvents `CloudTrailEvent` strings, that did not parse. */
  unparseable: number;
  /** Later copies of an eventId already read (LookupEvents pages overlap; exports get concatenated). */
  duplicate: number;
}

export interface ParsedTrail {
  /** Sorted by eventTime, then eventId; one per eventId. */
  events: TrailEvent[];
  skipped: TrailSkipCounts;
  format: TrailFormat;
}

export interface ParseTrailOptions {
  /** Reject larger input (UTF-8 bytes) with a clear error. */
  maxBytes?: number;
  maxDepth?: number;
}

/** One LookupEvents `Event` as the SDK returns it (`@aws-sdk/client-cloudtrail`), or as JSON. */
export interface LookupEventLike {
  EventId?: string | undefined;
  EventName?: string | undefined;
  EventSource?: string | undefined;
  /** A Date from the SDK; an ISO string or epoch seconds in JSON (CLI output, JSON 1.1 wire format). */
  EventTime?: Date | string | number | undefined;
  ReadOnly?: string | undefined;
  AccessKeyId?: string | undefined;
  Username?: string | undefined;
  CloudTrailEvent?: string | undefined;
}

type SkipReason = keyof Omit<TrailSkipCounts, "duplicate">;

/** The events in a CloudTrail export of any supported shape; throws InvalidInputError when it is not one. */
export function parseTrailEvents(text: string, options: ParseTrailOptions = {}): TrailEvent[] {
  return parseTrail(text, options).events;
}

/** As parseTrailEvents, with what was skipped and the shape that was recognised. */
export function parseTrail(text: string, options: ParseTrailOptions = {}): ParsedTrail {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TRAIL_BYTES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
  // A cheap upper bound first (UTF-8 is at most 3 bytes per UTF-16 unit), the exact count only if needed.
  if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text, "utf8") > maxBytes)) {
    throw new InvalidInputError(
      `The trail is larger than the ${describeBytes(maxBytes)} limit: split it by region or day, or raise the limit`,
    );
  }
  const collector = new TrailCollector(maxDepth);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === "") return collector.finish("empty");

  const whole = parseBoundedJson(body, maxDepth);
  if (whole.ok) return collector.finish(collector.addDocument(whole.value));

  // Not one JSON document: JSON lines (the snapshot's evidence format), if one of the first lines is
  // a JSON object on its own (a pretty-printed document never has one) and some line is a record.
  const notJson = new InvalidInputError(
    `Not a CloudTrail export: not one JSON document (${whole.problem}), nor JSON lines of records`,
  );
  const lines = body.split("\n");
  const leading = lines.filter((line) => line.trim() !== "").slice(0, JSON_LINES_PROBE);
  const standsAlone = (line: string) => {
    const parsed = parseBoundedJson(line, maxDepth);
    return parsed.ok && isJsonObject(parsed.value);
  };
  if (!leading.some(standsAlone)) throw notJson;
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    const parsed = parseBoundedJson(trimmed, maxDepth);
    if (parsed.ok) collector.addDocument(parsed.value);
    else collector.skip("unparseable");
  }
  const result = collector.finish("json-lines");
  if (result.events.length === 0 && result.skipped.unparseable > 0) throw notJson;
  return result;
}

/** One LookupEvents `Event` (SDK shape) as a TrailEvent; undefined when its CloudTrailEvent is unusable. */
export function parseLookupEvent(
  event: LookupEventLike,
  maxDepth = DEFAULT_MAX_JSON_DEPTH,
): TrailEvent | undefined {
  const result = lookupEventToTrailEvent(event, maxDepth);
  return typeof result === "string" ? undefined : result;
}

/** One raw CloudTrail record (as in a log file's `Records`) as a TrailEvent, or undefined. */
export function parseTrailRecord(record: unknown): TrailEvent | undefined {
  const result = normaliseRecord(record);
  return typeof result === "string" ? undefined : result;
}

class TrailCollector {
  private readonly byId = new Map<string, TrailEvent>();
  private readonly skipped: TrailSkipCounts = { notAnObject: 0, incomplete: 0, unparseable: 0, duplicate: 0 };

  constructor(private readonly maxDepth: number) {}

  skip(reason: keyof TrailSkipCounts): void {
    this.skipped[reason]++;
  }

  /** A top-level JSON value: a log file, a LookupEvents page, a record, or an array of those. */
  addDocument(value: unknown): TrailFormat {
    if (!Array.isArray(value)) return this.addContainer(value);
    let format: TrailFormat = "record-array";
    for (const item of value) {
      // One level of arrays only: an array of pages or records, never arrays of arrays.
      if (Array.isArray(item)) {
        this.skip("notAnObject");
        continue;
      }
      const itemFormat = this.addContainer(item);
      if (itemFormat === "cloudtrail-log-file" || itemFormat === "lookup-events") format = itemFormat;
    }
    return format;
  }

  private addContainer(value: unknown): TrailFormat {
    if (!isJsonObject(value)) {
      this.skip("notAnObject");
      return "single-record";
    }
    if (Array.isArray(value.Records)) {
      for (const record of value.Records) this.addResult(normaliseRecord(record));
      return "cloudtrail-log-file";
    }
    if (Array.isArray(value.Events)) {
      for (const event of value.Events) {
        this.addResult(
          isJsonObject(event)
            ? lookupEventToTrailEvent(event as LookupEventLike, this.maxDepth)
            : "notAnObject",
        );
      }
      return "lookup-events";
    }
    if (typeof value.CloudTrailEvent === "string") {
      this.addResult(lookupEventToTrailEvent(value as LookupEventLike, this.maxDepth));
      return "lookup-events";
    }
    this.addResult(normaliseRecord(value));
    return "single-record";
  }

  private addResult(result: TrailEvent | SkipReason): void {
    if (typeof result === "string") {
      this.skip(result);
      return;
    }
    if (this.byId.has(result.eventId)) this.skip("duplicate");
    else this.byId.set(result.eventId, result);
  }

  finish(format: TrailFormat): ParsedTrail {
    const events = [...this.byId.values()].sort(compareEvents);
    return { events, skipped: { ...this.skipped }, format };
  }
}

/** eventTime is normalised to `toISOString()`, so string order is time order. */
export function compareEvents(a: TrailEvent, b: TrailEvent): number {
  if (a.eventTime !== b.eventTime) return a.eventTime < b.eventTime ? -1 : 1;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

function lookupEventToTrailEvent(event: LookupEventLike, maxDepth: number): TrailEvent | SkipReason {
  // The errorCode, source address and parameters live only in the CloudTrailEvent string: an event
  // without it cannot be judged (a denied call would pass for a success), so it is skipped.
  if (typeof event.CloudTrailEvent !== "string") return "incomplete";
  const inner = parseBoundedJson(event.CloudTrailEvent, maxDepth);
  if (!inner.ok) return "unparseable";
  if (!isJsonObject(inner.value)) return "notAnObject";
  const record: Record<string, unknown> = { ...inner.value };
  record.eventID ??= event.EventId;
  record.eventName ??= event.EventName;
  record.eventSource ??= event.EventSource;
  record.eventTime ??= lookupEventTime(event.EventTime);
  return normaliseRecord(record);
}

function lookupEventTime(value: LookupEventLike["EventTime"]): string | undefined {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : undefined;
  if (typeof value === "number" && Number.isFinite(value)) return new Date(value * 1000).toISOString();
  return typeof value === "string" ? value : undefined;
}

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const EVENT_SOURCE = /^[A-Za-z0-9_.:-]{1,128}$/;
const REGION = /^[a-z0-9-]{1,32}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function normaliseRecord(raw: unknown): TrailEvent | SkipReason {
  if (!isJsonObject(raw)) return "notAnObject";
  const eventTime = isoTime(raw.eventTime);
  const eventName =
    typeof raw.eventName === "string" && EVENT_NAME.test(raw.eventName) ? raw.eventName : undefined;
  const eventSource =
    typeof raw.eventSource === "string" && EVENT_SOURCE.test(raw.eventSource) ? raw.eventSource : undefined;
  if (!eventTime || !eventName || !eventSource) return "incomplete";

  const event: TrailEvent = {
    eventId: eventIdOf(raw),
    eventTime,
    eventName,
    eventSource,
    awsRegion: typeof raw.awsRegion === "string" && REGION.test(raw.awsRegion) ? raw.awsRegion : "unknown",
    userIdentity: identityOf(raw.userIdentity),
  };
  const sourceIPAddress = printableOrUndefined(raw.sourceIPAddress, 256);
  if (sourceIPAddress) event.sourceIPAddress = sourceIPAddress;
  const userAgent = printableOrUndefined(raw.userAgent, 1024);
  if (userAgent) event.userAgent = userAgent;
  const errorCode = printableOrUndefined(raw.errorCode, 128);
  if (errorCode) event.errorCode = errorCode;
  const errorMessage = printableOrUndefined(raw.errorMessage, 1024);
  if (errorMessage) event.errorMessage = errorMessage;
  const readOnly = raw.readOnly ?? raw.ReadOnly;
  if (typeof readOnly === "boolean") event.readOnly = readOnly;
  else if (readOnly === "true" || readOnly === "false") event.readOnly = readOnly === "true";
  if (typeof raw.recipientAccountId === "string" && ACCOUNT_ID.test(raw.recipientAccountId)) {
    event.recipientAccountId = raw.recipientAccountId;
  }
  if (isJsonObject(raw.requestParameters)) event.requestParameters = raw.requestParameters;
  else if (raw.requestParameters === null) event.requestParameters = null;
  if (isJsonObject(raw.responseElements)) event.responseElements = raw.responseElements;
  else if (raw.responseElements === null) event.responseElements = null;
  const resources = resourcesOf(raw.resources);
  if (resources.length > 0) event.resources = resources;
  const vpcEndpointId = printableOrUndefined(raw.vpcEndpointId, 64);
  if (vpcEndpointId) event.vpcEndpointId = vpcEndpointId;
  return event;
}

function isoTime(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > 40 || !ISO_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  // Years 0000-9999 only, so the ISO strings sort as times.
  if (!Number.isFinite(ms) || ms < 0 || ms >= 253402300800000) return undefined;
  return new Date(ms).toISOString();
}

function eventIdOf(raw: Record<string, unknown>): string {
  const id = printableOrUndefined(raw.eventID ?? raw.eventId, 128);
  if (id) return id;
  // Exports from some tools drop eventID; a content hash keeps dedupe working for exact copies.
  return `derived-${createHash("sha256").update(JSON.stringify(raw)).digest("hex").slice(0, 24)}`;
}

function identityOf(raw: unknown): TrailIdentity {
  const identity: TrailIdentity = {};
  if (!isJsonObject(raw)) return identity;
  const fields = ["type", "arn", "accountId", "userName", "principalId", "accessKeyId", "invokedBy"] as const;
  for (const field of fields) {
    const value = printableOrUndefined(raw[field], field === "arn" ? 2048 : 512);
    if (value) identity[field] = value;
  }
  const context = raw.sessionContext;
  if (isJsonObject(context)) {
    const issuer = context.sessionIssuer;
    if (isJsonObject(issuer)) {
      const sessionIssuer: NonNullable<TrailIdentity["sessionIssuer"]> = {};
      for (const field of ["type", "arn", "userName"] as const) {
        const value = printableOrUndefined(issuer[field], field === "arn" ? 2048 : 512);
        if (value) sessionIssuer[field] = value;
      }
      if (Object.keys(sessionIssuer).length > 0) identity.sessionIssuer = sessionIssuer;
    }
    const attributes = context.attributes;
    if (isJsonObject(attributes)) {
      const created = isoTime(attributes.creationDate);
      if (created) identity.sessionCreationDate = created;
    }
  }
  return identity;
}

function resourcesOf(raw: unknown): NonNullable<TrailEvent["resources"]> {
  if (!Array.isArray(raw)) return [];
  const resources: NonNullable<TrailEvent["resources"]> = [];
  for (const item of raw.slice(0, MAX_RESOURCES_PER_EVENT)) {
    if (!isJsonObject(item)) continue;
    const resource: { ARN?: string; accountId?: string; type?: string } = {};
    const arn = printableOrUndefined(item.ARN, 2048);
    if (arn) resource.ARN = arn;
    const accountId = printableOrUndefined(item.accountId, 32);
    if (accountId) resource.accountId = accountId;
    const type = printableOrUndefined(item.type, 256);
    if (type) resource.type = type;
    if (Object.keys(resource).length > 0) resources.push(resource);
  }
  return resources;
}

export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
