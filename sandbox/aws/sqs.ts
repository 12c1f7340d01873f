/**
 * Simulated SQS over the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`), the protocol the
 * SDK has spoken since SQS left the query protocol. Standard queues only: at-least-once delivery,
 * visibility timeouts, receive counts, real long polling and redrive to a dead-letter queue.
 *
 * Errors carry both shapes the SDK reads in its query-compatible mode: the JSON `__type` and the
 * `x-amzn-query-error: <query code>;Sender` header. The SDK names the exception after the header's
 * code, mapped through the model's awsQueryError trait (AWS.SimpleQueueService.NonExistentQueue ->
 * QueueDoesNotExist), so both must be right.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { fakeRequestId } from "../fake-ids.js";
import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import type { Caller, QueueMessage, QueueMessageAttribute, QueueRecord, SandboxState } from "../state.js";
import { accessDenied, authorize } from "./authorize.js";
import { targetOperation } from "./json-protocol.js";

type Json = Record<string, unknown>;

interface SqsContext {
  input: Json;
  caller: Caller;
  state: SandboxState;
  region: string;
  baseUrl: string;
}

const MAX_BODY_BYTES = 1_048_576;
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_WAIT_SECONDS = 20;

/** Attributes CreateQueue accepts, with the range SQS enforces for the numeric ones. */
const QUEUE_ATTRIBUTE_RANGES: Record<string, [number, number] | undefined> = {
  VisibilityTimeout: [0, MAX_VISIBILITY_SECONDS],
  DelaySeconds: [0, 900],
  MessageRetentionPeriod: [60, 1_209_600],
  MaximumMessageSize: [1024, MAX_BODY_BYTES],
  ReceiveMessageWaitTimeSeconds: [0, MAX_WAIT_SECONDS],
  RedrivePolicy: undefined,
  Policy: undefined,
  SqsManagedSseEnabled: undefined,
  KmsMasterKeyId: undefined,
  KmsDataKeyReusePeriodSeconds: undefined,
};

/** Query-protocol codes for the modeled errors (the awsQueryError traits of the SQS model). */
const QUERY_CODES: Record<string, string> = {
  QueueDoesNotExist: "AWS.SimpleQueueService.NonExistentQueue",
  QueueNameExists: "QueueAlreadyExists",
  MessageNotInflight: "AWS.SimpleQueueService.MessageNotInflight",
  PurgeQueueInProgress: "AWS.SimpleQueueService.PurgeQueueInProgress",
  UnsupportedOperation: "AWS.SimpleQueueService.UnsupportedOperation",
};

/** JSON `__type` of errors SQS shares with every Coral service. */
const COMMON_TYPES: Record<string, string> = {
  AccessDenied: "com.amazon.coral.service#AccessDeniedException",
  InvalidClientTokenId: "com.amazon.coral.service#UnrecognizedClientException",
  ExpiredToken: "com.amazon.coral.service#ExpiredTokenException",
  InternalFailure: "com.amazon.coral.service#InternalFailure",
  InvalidAction: "com.amazon.coral.service#UnknownOperationException",
  SerializationException: "com.amazon.coral.service#SerializationException",
  InvalidParameterValue: "com.amazon.coral.validate#ValidationException",
  MissingParameter: "com.amazon.coral.validate#ValidationException",
};

/** Long polls parked on a queue, woken when a message arrives or becomes visible again. */
const waiters = new WeakMap<QueueRecord, Set<() => void>>();

const OPERATIONS: Record<string, (context: SqsContext) => Json | Promise<Json>> = {
  CreateQueue: ({ input, caller, state, baseUrl }) => {
    const name = requiredString(input, "QueueName");
    const attributes = stringMap(input.Attributes, "Attributes");
    const queue = createQueue(state, caller.accountId, name, baseUrl, attributes);
    return { QueueUrl: queueUrl(baseUrl, queue) };
  },

  GetQueueUrl: ({ input, caller, state, baseUrl }) => {
    const name = requiredString(input, "QueueName");
    const owner = optionalString(input, "QueueOwnerAWSAccountId") ?? caller.accountId;
    const queue = state.queues.get(queueKey(owner, name));
    if (!queue) throw queueDoesNotExist();
    return { QueueUrl: queueUrl(baseUrl, queue) };
  },

  SendMessage: (context) => {
    const queue = targetQueue(context);
    const body = requiredString(context.input, "MessageBody");
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
      throw new SandboxError(
        400,
        "InvalidParameterValue",
        `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_BODY_BYTES} bytes.`,
      );
    }
    const delay =
      intParam(context.input, "DelaySeconds", 0, 900) ?? Number(queue.attributes?.DelaySeconds ?? 0);
    const messageAttributes = parseMessageAttributes(context.input.MessageAttributes);
    const now = Date.now();
    const message: QueueMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      invisibleUntil: now + delay * 1000,
      receiveCount: 0,
      sentAt: now,
      attributes: { SenderId: context.caller.userId },
      ...(messageAttributes
        ? { messageAttributes, md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) }
        : {}),
    };
    queue.messages.push(message);
    wake(queue);
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    };
  },

  ReceiveMessage: async (context) => {
    const { input, state } = context;
    const queue = targetQueue(context);
    const max = intParam(input, "MaxNumberOfMessages", 1, 10) ?? 1;
    const visibility =
      intParam(input, "VisibilityTimeout", 0, MAX_VISIBILITY_SECONDS) ?? queue.visibilityTimeoutSeconds;
    const wait =
      intParam(input, "WaitTimeSeconds", 0, MAX_WAIT_SECONDS) ??
      Number(queue.attributes?.ReceiveMessageWaitTimeSeconds ?? 0);
    const systemNames = [
      ...stringList(input.MessageSystemAttributeNames),
      ...stringList(input.AttributeNames),
    ];
    const attributeNames = stringList(input.MessageAttributeNames);
    const deadline = Date.now() + wait * 1000;
    let received = takeVisible(state, queue, max, visibility);
    while (received.length === 0 && Date.now() < deadline) {
      await nextChance(queue, deadline);
      received = takeVisible(state, queue, max, visibility);
    }
    if (received.length === 0) return {};
    return { Messages: received.map((m) => messageJson(m, systemNames, attributeNames)) };
  },

  DeleteMessage: (context) => {
    const queue = targetQueue(context);
    const { messageId, handle } = parseReceiptHandle(queue, requiredString(context.input, "ReceiptHandle"));
    // Only the latest receipt handle deletes; an older one succeeds and deletes nothing (SQS docs).
    const index = queue.messages.findIndex((m) => m.messageId === messageId && m.receiptHandle === handle);
    if (index >= 0) queue.messages.splice(index, 1);
    return {};
  },

  ChangeMessageVisibility: (context) => {
    const queue = targetQueue(context);
    const { messageId, handle } = parseReceiptHandle(queue, requiredString(context.input, "ReceiptHandle"));
    const seconds = intParam(context.input, "VisibilityTimeout", 0, MAX_VISIBILITY_SECONDS);
    if (seconds === undefined) throw missingParameter("VisibilityTimeout");
    const message = queue.messages.find((m) => m.messageId === messageId && m.receiptHandle === handle);
    if (!message || message.invisibleUntil <= Date.now()) {
      throw new SandboxError(
        400,
        "MessageNotInflight",
        "Message does not exist or is not available for visibility timeout change.",
      );
    }
    message.invisibleUntil = Date.now() + seconds * 1000;
    if (seconds === 0) wake(queue);
    return {};
  },

  GetQueueAttributes: (context) => {
    const queue = targetQueue(context);
    const all = queueAttributes(queue, context.region);
    const names = stringList(context.input.AttributeNames);
    if (names.includes("All")) return { Attributes: all };
    const picked: Record<string, string> = {};
    for (const name of names) {
      const value = all[name];
      if (value === undefined)
        throw new SandboxError(400, "InvalidAttributeName", `Unknown Attribute ${name}.`);
      picked[name] = value;
    }
    return names.length > 0 ? { Attributes: picked } : {};
  },

  PurgeQueue: (context) => {
    const queue = targetQueue(context);
    queue.messages.length = 0;
    return {};
  },
};

export const sqsService: SandboxService = {
  name: "sqs",

  operation(request: SandboxRequest): string {
    return targetOperation(request, "AmazonSQS.");
  },

  async handle(request: SandboxRequest, operation: string, state: SandboxState): Promise<SandboxResponse> {
    const handler = OPERATIONS[operation];
    if (!handler)
      throw new SandboxError(
        400,
        "InvalidAction",
        `The action ${operation} is not valid for this web service.`,
      );
    const input = parseJson(request.body);
    const region = request.region ?? "us-east-1";
    const caller = authorize(request, state, {
      service: "sqs",
      action: `sqs:${operation.toLowerCase()}`,
      resource: resourceOf(input, region),
      dialect: "query",
    });
    const output = await handler({ input, caller, state, region, baseUrl: baseUrlOf(request) });
    return jsonResponse(200, output);
  },

  faultError(kind: Exclude<FaultKind, "timeout">, operation: string, request?: SandboxRequest): SandboxError {
    if (kind === "throttle") return new SandboxError(403, "RequestThrottled", "Request is throttled.");
    if (kind === "server-error")
      return new SandboxError(500, "InternalFailure", "An internal error has occurred.", false);
    let resource = "*";
    if (request) {
      try {
        resource = resourceOf(parseJson(request.body), request.region ?? "us-east-1");
      } catch {
        // An unparsable body still gets its AccessDenied; the resource is then unknown.
      }
    }
    return accessDenied(request?.caller?.arn, `sqs:${operation.toLowerCase()}`, resource);
  },

  render(error: SandboxError): SandboxResponse {
    const queryCode = QUERY_CODES[error.code] ?? error.code;
    const type = COMMON_TYPES[error.code] ?? `com.amazonaws.sqs#${error.code}`;
    const response = jsonResponse(error.status, { __type: type, message: error.message });
    return {
      ...response,
      headers: {
        ...response.headers,
        "x-amzn-query-error": `${queryCode};${error.senderFault ? "Sender" : "Receiver"}`,
      },
    };
  },
};

/**
 * Creates a queue (or returns the existing one when its attributes agree, as CreateQueue does).
 * Tests and the demo seed queues with it; `baseUrl` is the sandbox URL the queue URL is built on.
 */
export function createQueue(
  state: SandboxState,
  accountId: string,
  name: string,
  baseUrl: string,
  attributes: Record<string, string> = {},
): QueueRecord {
  if (!/^[\w-]{1,80}$/.test(name)) {
    throw new SandboxError(
      400,
      "InvalidParameterValue",
      name.endsWith(".fifo")
        ? "The sandbox simulates standard queues only, not FIFO queues."
        : "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    );
  }
  for (const [attribute, value] of Object.entries(attributes)) {
    if (!(attribute in QUEUE_ATTRIBUTE_RANGES)) {
      throw new SandboxError(400, "InvalidAttributeName", `Unknown Attribute ${attribute}.`);
    }
    const range = QUEUE_ATTRIBUTE_RANGES[attribute];
    const number = Number(value);
    if (range && (!Number.isInteger(number) || number < range[0] || number > range[1])) {
      throw new SandboxError(400, "InvalidAttributeValue", `Invalid value for the parameter ${attribute}.`);
    }
  }
  const { VisibilityTimeout, ...others } = attributes;
  const visibilityTimeoutSeconds = VisibilityTimeout === undefined ? 30 : Number(VisibilityTimeout);
  const existing = state.queues.get(queueKey(accountId, name));
  if (existing) {
    // CreateQueue is idempotent, but only for the attributes the caller names.
    const current: Record<string, string> = {
      ...existing.attributes,
      VisibilityTimeout: String(existing.visibilityTimeoutSeconds),
    };
    const differing = Object.keys(attributes).find(
      (attribute) => current[attribute] !== attributes[attribute],
    );
    if (differing) {
      throw new SandboxError(
        400,
        "QueueNameExists",
        `A queue already exists with the same name and a different value for attribute ${differing}`,
      );
    }
    return existing;
  }
  const queue: QueueRecord = {
    name,
    accountId,
    url: `${baseUrl.replace(/\/$/, "")}/${accountId}/${name}`,
    messages: [],
    visibilityTimeoutSeconds,
    attributes: others,
    createdAt: Date.now(),
  };
  state.queues.set(queueKey(accountId, name), queue);
  return queue;
}

/** state.queues is keyed by account and name, so a queue URL works whatever host it was built on. */
export function queueKey(accountId: string, name: string): string {
  return `${accountId}/${name}`;
}

function queueUrl(baseUrl: string, queue: QueueRecord): string {
  return `${baseUrl}/${queue.accountId}/${queue.name}`;
}

/** The SDK sends every call to the queue URL's host, so the URL must name the host it was asked on. */
function baseUrlOf(request: SandboxRequest): string {
  const host = request.headers.host;
  return `http://${typeof host === "string" && host ? host : "127.0.0.1"}`;
}

function queueArn(region: string, queue: QueueRecord): string {
  return `arn:aws:sqs:${region}:${queue.accountId}:${queue.name}`;
}

function resourceOf(input: Json, region: string): string {
  const url = typeof input.QueueUrl === "string" ? input.QueueUrl : undefined;
  const path = url ? pathOf(url) : undefined;
  if (!path) return `arn:aws:sqs:${region}:*`;
  return `arn:aws:sqs:${region}:${path.accountId}:${path.name}`;
}

function pathOf(url: string): { accountId: string; name: string } | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const [, accountId = "", name = ""] = /^\/(\d{12})\/([^/]+)\/?$/.exec(pathname) ?? [];
  return accountId && name ? { accountId, name } : undefined;
}

function targetQueue({ input, caller, state, region }: SqsContext): QueueRecord {
  const path = pathOf(requiredString(input, "QueueUrl"));
  const queue = path ? state.queues.get(queueKey(path.accountId, path.name)) : undefined;
  if (!queue) throw queueDoesNotExist();
  // The sandbox has no queue policies: another account's queue is closed to the caller.
  if (queue.accountId !== caller.accountId) throw accessDenied(caller.arn, "sqs:*", queueArn(region, queue));
  return queue;
}

function queueDoesNotExist(): SandboxError {
  return new SandboxError(400, "QueueDoesNotExist", "The specified queue does not exist.");
}

function queueAttributes(queue: QueueRecord, region: string): Record<string, string> {
  const now = Date.now();
  let visible = 0;
  let inFlight = 0;
  let delayed = 0;
  for (const m of queue.messages) {
    if (m.invisibleUntil <= now) visible += 1;
    else if (m.receiveCount > 0) inFlight += 1;
    else delayed += 1;
  }
  const createdSeconds = String(Math.floor((queue.createdAt ?? now) / 1000));
  return {
    QueueArn: queueArn(region, queue),
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(inFlight),
    ApproximateNumberOfMessagesDelayed: String(delayed),
    VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
    CreatedTimestamp: createdSeconds,
    LastModifiedTimestamp: createdSeconds,
    DelaySeconds: "0",
    MaximumMessageSize: String(MAX_BODY_BYTES),
    MessageRetentionPeriod: "345600",
    ReceiveMessageWaitTimeSeconds: "0",
    SqsManagedSseEnabled: "true",
    ...queue.attributes,
  };
}

/** Marks up to `max` visible messages received; those past the redrive limit go to the DLQ instead. */
function takeVisible(
  state: SandboxState,
  queue: QueueRecord,
  max: number,
  visibilitySeconds: number,
): QueueMessage[] {
  const now = Date.now();
  const taken: QueueMessage[] = [];
  for (const message of [...queue.messages]) {
    if (taken.length >= max) break;
    if (message.invisibleUntil > now) continue;
    if (redrive(state, queue, message)) continue;
    message.receiveCount += 1;
    message.receiptHandle = receiptHandle(queue, message);
    message.invisibleUntil = now + visibilitySeconds * 1000;
    message.attributes.ApproximateFirstReceiveTimestamp ??= String(now);
    taken.push(message);
  }
  return taken;
}

/** SQS moves a message to the dead-letter queue once its receive count reaches maxReceiveCount. */
function redrive(state: SandboxState, queue: QueueRecord, message: QueueMessage): boolean {
  const policy = queue.attributes?.RedrivePolicy;
  if (!policy) return false;
  let parsed: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    parsed = JSON.parse(policy) as typeof parsed;
  } catch {
    return false;
  }
  const maxReceiveCount = Number(parsed.maxReceiveCount);
  if (!Number.isInteger(maxReceiveCount) || message.receiveCount < maxReceiveCount) return false;
  const [, accountId = "", name = ""] =
    /^arn:aws:sqs:[^:]*:(\d{12}):([^:]+)$/.exec(String(parsed.deadLetterTargetArn)) ?? [];
  const deadLetters = state.queues.get(queueKey(accountId, name));
  if (!deadLetters) return false;
  queue.messages.splice(queue.messages.indexOf(message), 1);
  deadLetters.messages.push({ ...message, invisibleUntil: 0 });
  wake(deadLetters);
  return true;
}

function messageJson(message: QueueMessage, systemNames: string[], attributeNames: string[]): Json {
  const system: Record<string, string> = {
    ...message.attributes,
    SentTimestamp: String(message.sentAt),
    ApproximateReceiveCount: String(message.receiveCount),
  };
  const wantsAll = systemNames.includes("All");
  const attributes = Object.fromEntries(
    Object.entries(system).filter(([name]) => wantsAll || systemNames.includes(name)),
  );
  const userAttributes = Object.fromEntries(
    Object.entries(message.messageAttributes ?? {}).filter(([name]) =>
      attributeNames.some(
        (wanted) =>
          wanted === "All" ||
          wanted === ".*" ||
          wanted === name ||
          (wanted.endsWith(".*") && name.startsWith(wanted.slice(0, -1))),
      ),
    ),
  );
  const hasUserAttributes = Object.keys(userAttributes).length > 0;
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    ...(hasUserAttributes
      ? { MessageAttributes: userAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(userAttributes) }
      : {}),
  };
}

/** An opaque handle that names the queue and message, new on every receive (as SQS's are). */
function receiptHandle(queue: QueueRecord, message: QueueMessage): string {
  const payload = JSON.stringify({ q: queueKey(queue.accountId, queue.name), m: message.messageId });
  return `${Buffer.from(payload).toString("base64url")}.${randomBytes(24).toString("base64url")}`;
}

function parseReceiptHandle(queue: QueueRecord, handle: string): { messageId: string; handle: string } {
  const invalid = new SandboxError(
    404,
    "ReceiptHandleIsInvalid",
    `The input receipt handle "${handle}" is not a valid receipt handle.`,
  );
  const [payload = ""] = handle.split(".");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid;
  const { q, m } = parsed as { q?: unknown; m?: unknown };
  if (q !== queueKey(queue.accountId, queue.name) || typeof m !== "string") throw invalid;
  return { messageId: m, handle };
}

function wake(queue: QueueRecord): void {
  const parked = waiters.get(queue);
  if (!parked) return;
  waiters.delete(queue);
  for (const resume of parked) resume();
}

/** Resolves when a message may have become receivable: one arrived, a visibility timeout ran out, or the poll ends. */
function nextChance(queue: QueueRecord, deadline: number): Promise<void> {
  const now = Date.now();
  let wakeAt = deadline;
  for (const m of queue.messages) if (m.invisibleUntil > now) wakeAt = Math.min(wakeAt, m.invisibleUntil);
  return new Promise((resolve) => {
    const parked = waiters.get(queue) ?? new Set();
    waiters.set(queue, parked);
    const resume = () => {
      clearTimeout(timer);
      parked.delete(resume);
      resolve();
    };
    // Unreferenced, so a poll still parked when the sandbox stops does not keep Node alive.
    const timer = setTimeout(resume, Math.max(1, wakeAt - now));
    timer.unref();
    parked.add(resume);
  });
}

function md5Hex(data: string | Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

/**
 * MD5OfMessageAttributes as SQS computes it: attributes sorted by name, each encoded as length-
 * prefixed name, length-prefixed data type, a transport byte (1 string, 2 binary) and the
 * length-prefixed value, all big-endian 32-bit lengths.
 */
export function md5OfMessageAttributes(attributes: Record<string, QueueMessageAttribute>): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name];
    if (!attribute) continue;
    lengthPrefixed(Buffer.from(name, "utf8"));
    lengthPrefixed(Buffer.from(attribute.DataType, "utf8"));
    if (attribute.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(Buffer.from(attribute.BinaryValue, "base64"));
    } else {
      parts.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(attribute.StringValue ?? "", "utf8"));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

function parseMessageAttributes(value: unknown): Record<string, QueueMessageAttribute> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter("MessageAttributes");
  const parsed: Record<string, QueueMessageAttribute> = {};
  for (const [name, raw] of Object.entries(value as Json)) {
    const attribute = (typeof raw === "object" && raw !== null ? raw : {}) as Json;
    const dataType = attribute.DataType;
    if (typeof dataType !== "string" || !/^(String|Number|Binary)(\..+)?$/.test(dataType)) {
      throw new SandboxError(
        400,
        "InvalidParameterValue",
        `The message attribute '${name}' has an invalid message attribute type.`,
      );
    }
    const isBinary = dataType.startsWith("Binary");
    const content = isBinary ? attribute.BinaryValue : attribute.StringValue;
    if (typeof content !== "string" || content === "") {
      throw new SandboxError(
        400,
        "InvalidParameterValue",
        `The message attribute '${name}' must contain a non-empty value of message attribute type '${dataType}'.`,
      );
    }
    parsed[name] = isBinary
      ? { DataType: dataType, BinaryValue: content }
      : { DataType: dataType, StringValue: content };
  }
  return Object.keys(parsed).length > 0 ? parsed : undefined;
}

function parseJson(body: Buffer): Json {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new SandboxError(
      400,
      "SerializationException",
      "Start of structure or map found where not expected.",
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SandboxError(
      400,
      "SerializationException",
      "Start of structure or map found where not expected.",
    );
  }
  return parsed as Json;
}

function requiredString(input: Json, name: string): string {
  const value = input[name];
  if (typeof value !== "string" || value === "") throw missingParameter(name);
  return value;
}

function optionalString(input: Json, name: string): string | undefined {
  const value = input[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function intParam(input: Json, name: string, min: number, max: number): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new SandboxError(
      400,
      "InvalidParameterValue",
      `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`,
    );
  }
  return value;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function stringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter(name);
  const map: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Json)) {
    if (typeof v !== "string") throw invalidParameter(name);
    map[key] = v;
  }
  return map;
}

function missingParameter(name: string): SandboxError {
  return new SandboxError(400, "MissingParameter", `The request must contain the parameter ${name}.`);
}

function invalidParameter(name: string): SandboxError {
  return new SandboxError(400, "InvalidParameterValue", `Value for parameter ${name} is invalid.`);
}

function jsonResponse(status: number, body: Json): SandboxResponse {
  return {
    status,
    headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": fakeRequestId() },
    body: JSON.stringify(body),
  };
}
