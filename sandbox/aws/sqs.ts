/**
 * Simulated SQS over the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`), the protocol the
 * SDK has spoken since SQS left the query protocol. Standard queues: at-least-once delivery,
 * visibility timeouts, receive counts, real long polling and redrive to a dead-letter queue. FIFO
 * queues on top (SQS developer guide, "FIFO queue delivery logic"): MessageGroupId required, a
 * 5-minute deduplication window (explicit id or SHA-256 of the body), delivery in order within a
 * group, and a group held by whoever has one of its messages in flight, so no two consumers ever
 * work on one group at once.
 *
 * Errors carry both shapes the SDK reads in its query-compatible mode: the JSON `__type` and the
 * `x-amzn-query-error: <query code>;Sender` header. The SDK names the exception after the header's
 * code, mapped through the model's awsQueryError trait (AWS.SimpleQueueService.NonExistentQueue ->
 * QueueDoesNotExist), so both must be right.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import type { Caller, QueueMessage, QueueMessageAttribute, QueueRecord, SandboxState } from "../state.js";
import { accessDenied, authorize } from "./authorize.js";
import { type Json, jsonResponse, parseJsonObject, targetOperation } from "./json-protocol.js";

const CONTENT_TYPE = "application/x-amz-json-1.0";
const SERIALIZATION_MESSAGE = "Start of structure or map found where not expected.";

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

/** Attributes only a FIFO queue accepts, with their allowed values (a standard queue knows none of them). */
const FIFO_ATTRIBUTE_VALUES: Record<string, readonly string[]> = {
  FifoQueue: ["true"],
  ContentBasedDeduplication: ["true", "false"],
  DeduplicationScope: ["queue", "messageGroup"],
  FifoThroughputLimit: ["perQueue", "perMessageGroupId"],
};

/** SendMessage: "accepted successfully but aren't delivered during the 5-minute deduplication interval". */
const DEDUPLICATION_INTERVAL_MS = 5 * 60_000;
/** ReceiveRequestAttemptId "can be used only for 5 minutes after a ReceiveMessage action". */
const RECEIVE_ATTEMPT_INTERVAL_MS = 5 * 60_000;
/** MessageGroupId and MessageDeduplicationId: 1 to 128 alphanumeric or punctuation characters. */
const FIFO_TOKEN = /^[\x21-\x7e]{1,128}$/;
const MAX_BATCH_ENTRIES = 10;

/** Query-protocol codes for the modeled errors (the awsQueryError traits of the SQS model). */
const QUERY_CODES: Record<string, string> = {
  QueueDoesNotExist: "AWS.SimpleQueueService.NonExistentQueue",
  QueueNameExists: "QueueAlreadyExists",
  MessageNotInflight: "AWS.SimpleQueueService.MessageNotInflight",
  PurgeQueueInProgress: "AWS.SimpleQueueService.PurgeQueueInProgress",
  UnsupportedOperation: "AWS.SimpleQueueService.UnsupportedOperation",
  EmptyBatchRequest: "AWS.SimpleQueueService.EmptyBatchRequest",
  TooManyEntriesInBatchRequest: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
  BatchEntryIdsNotDistinct: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
  InvalidBatchEntryId: "AWS.SimpleQueueService.InvalidBatchEntryId",
  BatchRequestTooLong: "AWS.SimpleQueueService.BatchRequestTooLong",
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

/** What a FIFO queue remembers beyond its messages: sent deduplication ids and receive attempts. */
interface FifoBookkeeping {
  /** Deduplication key (id, or group + id with DeduplicationScope=messageGroup) -> the message it admitted. */
  sent: Map<string, { messageId: string; sequenceNumber: string; expiresAt: number }>;
  /** ReceiveRequestAttemptId -> what that receive returned, with the receipt handles it issued. */
  attempts: Map<string, { expiresAt: number; received: Array<{ messageId: string; handle: string }> }>;
  lastSequenceNumber: bigint;
}
const fifoBookkeeping = new WeakMap<QueueRecord, FifoBookkeeping>();

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
    const sent = enqueue(context.caller, queue, context.input);
    wake(queue);
    return sent;
  },

  SendMessageBatch: (context) => {
    const queue = targetQueue(context);
    const entries = batchEntries(context.input);
    const totalBytes = entries.reduce(
      (sum, entry) => sum + Buffer.byteLength(String(entry.MessageBody ?? "")),
      0,
    );
    if (totalBytes > MAX_BODY_BYTES) {
      throw new SandboxError(
        400,
        "BatchRequestTooLong",
        `Batch requests cannot be longer than ${MAX_BODY_BYTES} bytes. You have sent ${totalBytes} bytes.`,
      );
    }
    const successful: Json[] = [];
    const failed: Json[] = [];
    for (const entry of entries) {
      try {
        successful.push({ Id: entry.Id, ...enqueue(context.caller, queue, entry) });
      } catch (error: unknown) {
        if (!(error instanceof SandboxError)) throw error;
        failed.push({
          Id: entry.Id,
          SenderFault: error.senderFault,
          Code: error.code,
          Message: error.message,
        });
      }
    }
    if (successful.length > 0) wake(queue);
    return { Successful: successful, Failed: failed };
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
    // The attempt id deduplicates retried receives; it "applies only to FIFO queues".
    const attemptId = isFifo(queue) ? optionalString(input, "ReceiveRequestAttemptId") : undefined;
    const replayed = attemptId ? replayReceiveAttempt(queue, attemptId, visibility) : undefined;
    if (replayed) return { Messages: replayed.map((m) => messageJson(m, systemNames, attributeNames)) };
    const deadline = Date.now() + wait * 1000;
    let received = takeVisible(state, queue, max, visibility);
    while (received.length === 0 && Date.now() < deadline) {
      await nextChance(queue, deadline);
      received = takeVisible(state, queue, max, visibility);
    }
    if (received.length === 0) return {};
    if (attemptId) rememberReceiveAttempt(queue, attemptId, received);
    return { Messages: received.map((m) => messageJson(m, systemNames, attributeNames)) };
  },

  DeleteMessage: (context) => {
    const queue = targetQueue(context);
    const { messageId, handle } = parseReceiptHandle(queue, requiredString(context.input, "ReceiptHandle"));
    // Only the latest receipt handle deletes; an older one succeeds and deletes nothing (SQS docs).
    const index = queue.messages.findIndex((m) => m.messageId === messageId && m.receiptHandle === handle);
    if (index >= 0) queue.messages.splice(index, 1);
    // A deleted FIFO message may release its group to a receiver parked on a long poll.
    if (index >= 0 && isFifo(queue)) wake(queue);
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
    // "Retry ... with the same ReceiveRequestAttemptId if none of the messages have been modified".
    forgetReceiveAttempts(queue, message.messageId);
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
    const input = parseJsonObject(request.body, SERIALIZATION_MESSAGE);
    const region = request.region ?? "us-east-1";
    const caller = authorize(request, state, {
      service: "sqs",
      action: `sqs:${operation.toLowerCase()}`,
      resource: resourceOf(input, region),
      dialect: "query",
    });
    const output = await handler({ input, caller, state, region, baseUrl: baseUrlOf(request) });
    return jsonResponse(CONTENT_TYPE, 200, output);
  },

  faultError(kind: Exclude<FaultKind, "timeout">, operation: string, request?: SandboxRequest): SandboxError {
    if (kind === "throttle") return new SandboxError(403, "RequestThrottled", "Request is throttled.");
    if (kind === "server-error")
      return new SandboxError(500, "InternalFailure", "An internal error has occurred.", false);
    let resource = "*";
    if (request) {
      try {
        resource = resourceOf(
          parseJsonObject(request.body, SERIALIZATION_MESSAGE),
          request.region ?? "us-east-1",
        );
      } catch {
        // An unparsable body still gets its AccessDenied; the resource is then unknown.
      }
    }
    return accessDenied(request?.caller?.arn, `sqs:${operation.toLowerCase()}`, resource);
  },

  render(error: SandboxError): SandboxResponse {
    const queryCode = QUERY_CODES[error.code] ?? error.code;
    const type = COMMON_TYPES[error.code] ?? `com.amazonaws.sqs#${error.code}`;
    const response = jsonResponse(CONTENT_TYPE, error.status, { __type: type, message: error.message });
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
  // "If you don't specify the FifoQueue attribute, Amazon SQS creates a standard queue", whose name
  // cannot hold the dot of a .fifo suffix; a FIFO queue's name must end with it.
  const fifo = attributes.FifoQueue === "true";
  if (fifo ? !/^[\w-]{1,75}\.fifo$/.test(name) : !/^[\w-]{1,80}$/.test(name)) {
    throw new SandboxError(
      400,
      "InvalidParameterValue",
      fifo
        ? "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
        : "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    );
  }
  for (const [attribute, value] of Object.entries(attributes)) {
    const fifoValues = FIFO_ATTRIBUTE_VALUES[attribute];
    if (fifoValues) {
      if (!fifo) throw new SandboxError(400, "InvalidAttributeName", `Unknown Attribute ${attribute}.`);
      if (!fifoValues.includes(value)) {
        throw new SandboxError(400, "InvalidAttributeValue", `Invalid value for the parameter ${attribute}.`);
      }
      continue;
    }
    if (!(attribute in QUEUE_ATTRIBUTE_RANGES)) {
      throw new SandboxError(400, "InvalidAttributeName", `Unknown Attribute ${attribute}.`);
    }
    const range = QUEUE_ATTRIBUTE_RANGES[attribute];
    const number = Number(value);
    if (range && (!Number.isInteger(number) || number < range[0] || number > range[1])) {
      throw new SandboxError(400, "InvalidAttributeValue", `Invalid value for the parameter ${attribute}.`);
    }
  }
  if (attributes.RedrivePolicy !== undefined) checkDeadLetterType(attributes.RedrivePolicy, fifo);
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

function isFifo(queue: QueueRecord): boolean {
  return queue.attributes?.FifoQueue === "true";
}

function bookkeeping(queue: QueueRecord): FifoBookkeeping {
  let kept = fifoBookkeeping.get(queue);
  if (!kept) {
    // "A large, non-consecutive number", 128 bits wide: 20 digits from the start, as SQS shows them.
    kept = { sent: new Map(), attempts: new Map(), lastSequenceNumber: 18_000_000_000_000_000_000n };
    fifoBookkeeping.set(queue, kept);
  }
  return kept;
}

/**
 * One SendMessage (or one SendMessageBatch entry): validates it for the queue's type, then queues
 * it, unless it is a FIFO duplicate inside the deduplication interval, which is accepted, answered
 * with the first message's id and not queued again.
 */
function enqueue(caller: Caller, queue: QueueRecord, input: Json): Json {
  const body = requiredString(input, "MessageBody");
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
    throw new SandboxError(
      400,
      "InvalidParameterValue",
      `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_BODY_BYTES} bytes.`,
    );
  }
  const fifo = isFifo(queue);
  const messageAttributes = parseMessageAttributes(input.MessageAttributes);
  const md5OfAttributes = messageAttributes ? md5OfMessageAttributes(messageAttributes) : undefined;
  const answer = (messageId: string, sequenceNumber?: string): Json => ({
    MessageId: messageId,
    MD5OfMessageBody: md5Hex(body),
    ...(md5OfAttributes ? { MD5OfMessageAttributes: md5OfAttributes } : {}),
    ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}),
  });
  const messageId = randomUUID();
  let delay: number;
  let fifoAttributes: Record<string, string> = {};
  if (fifo) {
    // "When you set FifoQueue, you can't set DelaySeconds per message"; the queue's delay applies.
    if (input.DelaySeconds !== undefined && input.DelaySeconds !== null) {
      throw new SandboxError(
        400,
        "InvalidParameterValue",
        `Value ${String(input.DelaySeconds)} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
      );
    }
    delay = Number(queue.attributes?.DelaySeconds ?? 0);
    const groupId = fifoToken(input, "MessageGroupId");
    if (groupId === undefined) throw missingParameter("MessageGroupId");
    // "If the queue has ContentBasedDeduplication set, your MessageDeduplicationId overrides the
    // generated one", a SHA-256 hash of the body (not of its attributes).
    const deduplicationId =
      fifoToken(input, "MessageDeduplicationId") ??
      (queue.attributes?.ContentBasedDeduplication === "true"
        ? createHash("sha256").update(body).digest("hex")
        : undefined);
    if (deduplicationId === undefined) {
      throw new SandboxError(
        400,
        "InvalidParameterValue",
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
      );
    }
    const kept = bookkeeping(queue);
    const now = Date.now();
    for (const [key, entry] of kept.sent) if (entry.expiresAt <= now) kept.sent.delete(key);
    const key =
      queue.attributes?.DeduplicationScope === "messageGroup"
        ? `${groupId}\u0000${deduplicationId}`
        : deduplicationId;
    const duplicateOf = kept.sent.get(key);
    if (duplicateOf) return answer(duplicateOf.messageId, duplicateOf.sequenceNumber);
    kept.lastSequenceNumber += BigInt(1 + Math.floor(Math.random() * 1_000_000));
    const sequenceNumber = kept.lastSequenceNumber.toString();
    fifoAttributes = {
      MessageGroupId: groupId,
      MessageDeduplicationId: deduplicationId,
      SequenceNumber: sequenceNumber,
    };
    kept.sent.set(key, { messageId, sequenceNumber, expiresAt: now + DEDUPLICATION_INTERVAL_MS });
  } else {
    delay = intParam(input, "DelaySeconds", 0, 900) ?? Number(queue.attributes?.DelaySeconds ?? 0);
  }
  const now = Date.now();
  const message: QueueMessage = {
    messageId,
    body,
    md5OfBody: md5Hex(body),
    invisibleUntil: now + delay * 1000,
    receiveCount: 0,
    sentAt: now,
    attributes: { SenderId: caller.userId, ...fifoAttributes },
    ...(messageAttributes && md5OfAttributes
      ? { messageAttributes, md5OfMessageAttributes: md5OfAttributes }
      : {}),
  };
  queue.messages.push(message);
  return answer(message.messageId, fifoAttributes.SequenceNumber);
}

/** SendMessageBatch's Entries, checked as SQS checks the batch before any entry is sent. */
function batchEntries(input: Json): Json[] {
  const raw = input.Entries;
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
    throw new SandboxError(
      400,
      "EmptyBatchRequest",
      "There should be at least one SendMessageBatchRequestEntry in the request.",
    );
  }
  if (!Array.isArray(raw)) throw invalidParameter("Entries");
  if (raw.length > MAX_BATCH_ENTRIES) {
    throw new SandboxError(
      400,
      "TooManyEntriesInBatchRequest",
      `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${raw.length}.`,
    );
  }
  const ids = new Set<string>();
  return raw.map((entry: unknown) => {
    const object = (typeof entry === "object" && entry !== null ? entry : {}) as Json;
    const id = object.Id;
    if (typeof id !== "string" || !/^[\w-]{1,80}$/.test(id)) {
      throw new SandboxError(
        400,
        "InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
      );
    }
    if (ids.has(id)) throw new SandboxError(400, "BatchEntryIdsNotDistinct", `Id ${id} repeated.`);
    ids.add(id);
    return object;
  });
}

/** A MessageGroupId or MessageDeduplicationId, when given; malformed is an error, not absent. */
function fifoToken(input: Json, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !FIFO_TOKEN.test(value)) {
    throw new SandboxError(
      400,
      "InvalidParameterValue",
      `Value ${String(value)} for parameter ${name} is invalid. Reason: ${name} can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
  }
  return value;
}

/** "The dead-letter queue of a FIFO queue must also be a FIFO queue", and a standard one's standard. */
function checkDeadLetterType(redrivePolicy: string, fifo: boolean): void {
  let target: unknown;
  try {
    target = (JSON.parse(redrivePolicy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
  } catch {
    return;
  }
  if (typeof target !== "string" || target.endsWith(".fifo") === fifo) return;
  throw new SandboxError(
    400,
    "InvalidParameterValue",
    `Value ${redrivePolicy} for parameter RedrivePolicy is invalid. Reason: Dead-letter target must be the same type of queue as the source.`,
  );
}

/**
 * A retried FIFO receive with the same ReceiveRequestAttemptId gets "the same messages and receipt
 * handles", its visibility timeout reset, as long as none was deleted or had its visibility changed.
 */
function replayReceiveAttempt(
  queue: QueueRecord,
  attemptId: string,
  visibilitySeconds: number,
): QueueMessage[] | undefined {
  const attempts = bookkeeping(queue).attempts;
  const attempt = attempts.get(attemptId);
  if (!attempt) return undefined;
  const now = Date.now();
  const messages = attempt.received.map(({ messageId, handle }) =>
    queue.messages.find((m) => m.messageId === messageId && m.receiptHandle === handle),
  );
  if (attempt.expiresAt <= now || messages.some((m) => m === undefined)) {
    attempts.delete(attemptId);
    return undefined;
  }
  const replayed = messages.filter((m): m is QueueMessage => m !== undefined);
  for (const message of replayed) message.invisibleUntil = now + visibilitySeconds * 1000;
  return replayed;
}

function rememberReceiveAttempt(queue: QueueRecord, attemptId: string, received: QueueMessage[]): void {
  const attempts = bookkeeping(queue).attempts;
  const now = Date.now();
  for (const [id, attempt] of attempts) if (attempt.expiresAt <= now) attempts.delete(id);
  attempts.set(attemptId, {
    expiresAt: now + RECEIVE_ATTEMPT_INTERVAL_MS,
    received: received.map((m) => ({ messageId: m.messageId, handle: m.receiptHandle ?? "" })),
  });
}

function forgetReceiveAttempts(queue: QueueRecord, messageId: string): void {
  const attempts = fifoBookkeeping.get(queue)?.attempts;
  if (!attempts) return;
  for (const [id, attempt] of attempts) {
    if (attempt.received.some((r) => r.messageId === messageId)) attempts.delete(id);
  }
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
    ...(isFifo(queue)
      ? {
          ContentBasedDeduplication: "false",
          DeduplicationScope: "queue",
          FifoThroughputLimit: "perQueue",
        }
      : {}),
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
  if (isFifo(queue)) return takeInGroupOrder(state, queue, max, visibilitySeconds);
  const now = Date.now();
  const taken: QueueMessage[] = [];
  for (const message of [...queue.messages]) {
    if (taken.length >= max) break;
    if (message.invisibleUntil > now) continue;
    if (redrive(state, queue, message)) continue;
    markReceived(queue, message, now, visibilitySeconds);
    taken.push(message);
  }
  return taken;
}

/**
 * FIFO delivery: a group with a message in flight gives nothing to anyone ("inflight messages block
 * delivery of available messages within the same message group"); the others give their messages
 * in send order, stopping at one still delayed, and a receive takes "as many messages with the
 * same message group ID as possible" before moving to the next group.
 */
function takeInGroupOrder(
  state: SandboxState,
  queue: QueueRecord,
  max: number,
  visibilitySeconds: number,
): QueueMessage[] {
  const now = Date.now();
  const held = new Set<string>();
  for (const message of queue.messages) {
    if (message.receiveCount > 0 && message.invisibleUntil > now) held.add(groupOf(message));
  }
  const available = new Map<string, QueueMessage[]>();
  for (const message of [...queue.messages]) {
    const group = groupOf(message);
    if (held.has(group)) continue;
    if (message.invisibleUntil > now) {
      // Still delayed: the messages behind it in its group wait for it.
      held.add(group);
      continue;
    }
    if (redrive(state, queue, message)) continue;
    const inGroup = available.get(group) ?? [];
    inGroup.push(message);
    available.set(group, inGroup);
  }
  const taken = [...available.values()].flat().slice(0, max);
  for (const message of taken) markReceived(queue, message, now, visibilitySeconds);
  return taken;
}

function markReceived(
  queue: QueueRecord,
  message: QueueMessage,
  now: number,
  visibilitySeconds: number,
): void {
  message.receiveCount += 1;
  message.receiptHandle = receiptHandle(queue, message);
  message.invisibleUntil = now + visibilitySeconds * 1000;
  message.attributes.ApproximateFirstReceiveTimestamp ??= String(now);
}

function groupOf(message: QueueMessage): string {
  return message.attributes.MessageGroupId ?? "";
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
  const moved: QueueMessage = { ...message, attributes: { ...message.attributes }, invisibleUntil: 0 };
  // "When a message is moved from a FIFO queue to a FIFO DLQ, the original message's deduplication
  // ID will be replaced with the original message's ID" (SQS developer guide, DLQ redrive).
  if (isFifo(deadLetters)) moved.attributes.MessageDeduplicationId = message.messageId;
  deadLetters.messages.push(moved);
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
