/**
 * A local stand-in for Lambda's SQS event source mapping, so `leak-responder storm` can run the
 * deployed functions' handlers as worker processes against real (sandbox) queues: long-poll
 * ReceiveMessage, hand the batch to the handler as the `SQSEvent` Lambda would build, then delete
 * what the handler did not report as failed (ReportBatchItemFailures). A failed record is left to
 * its visibility timeout, as Lambda leaves it, so it comes back with ApproximateReceiveCount + 1
 * and eventually reaches the dead-letter queue; on a FIFO queue it keeps its group held meanwhile.
 *
 * In AWS the Lambda service makes these calls with the function's role (src/permissions.ts lists
 * sqs:ReceiveMessage and sqs:DeleteMessage with caller "lambda-service"); this file is the only
 * product code that makes them itself.
 */
import { randomUUID } from "node:crypto";
import {
  DeleteMessageCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import type { Log } from "../../logger.js";

/**
 * An SQS-triggered Lambda handler in its promise form, as functions/ export them. Its answer is
 * read as Lambda reads it: an `SQSBatchResponse`, or nothing for "all done"; anything else fails
 * the whole batch.
 */
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

export interface PollQueueOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsBatchHandler;
  /** Records per invocation: ReceiveMessage's MaxNumberOfMessages, 1 to 10. */
  batchSize: number;
  /** Long-poll wait per ReceiveMessage, 0 to 20 seconds (the mapping always waits 20). */
  waitSeconds: number;
  /** Overrides the queue's visibility timeout for what this poller receives. */
  visibilityTimeoutSeconds?: number;
  /** Stops polling; a batch already in the handler finishes and is settled first. */
  signal: AbortSignal;
  log: Pick<Log, "info" | "warn" | "error">;
  /** The function timeout getRemainingTimeInMillis counts down from (respond's is 300 s). */
  functionTimeoutSeconds?: number;
  /** Names the function in the context, as the deployed stack does. */
  functionName?: string;
  /** The account in invokedFunctionArn (the handler reads its home account from it). */
  accountId?: string;
  /** Pause after a failed ReceiveMessage before the next one. */
  retryDelayMs?: number;
}

export interface PollSummary {
  invocations: number;
  deleted: number;
  /** Records left to their visibility timeout: reported as failed, or in a batch whose handler threw. */
  leftForRetry: number;
}

const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 300;
const DEFAULT_RETRY_DELAY_MS = 1_000;

/** Polls until `signal` aborts; resolves once the batch in hand is settled. */
export async function pollQueue(options: PollQueueOptions): Promise<PollSummary> {
  const { client, queueUrl, signal, log } = options;
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 10) {
    throw new RangeError(`batchSize must be an integer from 1 to 10, got ${options.batchSize}`);
  }
  if (!Number.isInteger(options.waitSeconds) || options.waitSeconds < 0 || options.waitSeconds > 20) {
    throw new RangeError(`waitSeconds must be an integer from 0 to 20, got ${options.waitSeconds}`);
  }
  const region = await client.config.region();
  const source = { arn: queueArn(queueUrl, region), region };
  const summary: PollSummary = { invocations: 0, deleted: 0, leftForRetry: 0 };
  const fifo = queueUrl.endsWith(".fifo");

  while (!signal.aborted) {
    let messages: Message[];
    try {
      const received = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: options.batchSize,
          WaitTimeSeconds: options.waitSeconds,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
          ...(options.visibilityTimeoutSeconds === undefined
            ? {}
            : { VisibilityTimeout: options.visibilityTimeoutSeconds }),
          // The SDK retries a receive whose answer was lost with the same input, so on a FIFO
          // queue this id makes the retry return the same messages instead of holding them hidden.
          ...(fifo ? { ReceiveRequestAttemptId: randomUUID() } : {}),
        }),
        { abortSignal: signal },
      );
      messages = received.Messages ?? [];
    } catch (error: unknown) {
      if (signal.aborted) break;
      log.warn("ReceiveMessage failed; polling again shortly", { queueUrl, error: errorText(error) });
      await pause(options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, signal);
      continue;
    }
    if (messages.length === 0) continue;
    const settled = await invoke(options, messages, source);
    summary.invocations += 1;
    summary.deleted += settled.deleted;
    summary.leftForRetry += settled.leftForRetry;
  }
  log.info("stopped polling", { queueUrl, ...summary });
  return summary;
}

/** One invocation: the handler, then the deletes its answer allows. */
async function invoke(
  options: PollQueueOptions,
  messages: Message[],
  source: { arn: string; region: string },
): Promise<{ deleted: number; leftForRetry: number }> {
  const { client, queueUrl, log } = options;
  const event: SQSEvent = { Records: messages.map((message) => sqsRecord(message, source)) };
  const context = lambdaContext(options, source.region);
  let response: unknown;
  try {
    response = await options.handler(event, context);
  } catch (error: unknown) {
    // Lambda: a function error fails the whole batch; every record returns after its visibility timeout.
    log.error("handler failed; the whole batch is left for retry", {
      queueUrl,
      awsRequestId: context.awsRequestId,
      messageIds: event.Records.map((r) => r.messageId),
      error: errorText(error),
    });
    return { deleted: 0, leftForRetry: event.Records.length };
  }
  const failed = failedMessageIds(response, event);
  if (failed === "all") {
    log.error("handler returned an invalid batchItemFailures; the whole batch is left for retry", {
      queueUrl,
      awsRequestId: context.awsRequestId,
    });
    return { deleted: 0, leftForRetry: event.Records.length };
  }
  const done = event.Records.filter((record) => !failed.has(record.messageId));
  const deletes = await Promise.allSettled(
    done.map((record) =>
      client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle })),
    ),
  );
  let deleted = 0;
  deletes.forEach((outcome, index) => {
    if (outcome.status === "fulfilled") deleted += 1;
    else
      log.warn("DeleteMessage failed; the record will be delivered again", {
        queueUrl,
        messageId: done[index]?.messageId,
        error: errorText(outcome.reason),
      });
  });
  if (failed.size > 0)
    log.warn("records reported as failed are left for retry", { queueUrl, messageIds: [...failed] });
  return { deleted, leftForRetry: event.Records.length - deleted };
}

/**
 * The records to keep, by Lambda's rules for ReportBatchItemFailures (Lambda developer guide): no
 * response or a null/empty batchItemFailures is a complete success; an itemIdentifier that is empty,
 * null or not a message id of the batch makes the whole batch a failure.
 */
function failedMessageIds(response: unknown, event: SQSEvent): Set<string> | "all" {
  const failures: unknown =
    typeof response === "object" && response !== null
      ? (response as { batchItemFailures?: unknown }).batchItemFailures
      : undefined;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return "all";
  const ids = new Set(event.Records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id: unknown =
      typeof failure === "object" && failure !== null
        ? (failure as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof id !== "string" || !ids.has(id)) return "all";
    failed.add(id);
  }
  return failed;
}

/** The record as Lambda delivers it: camelCase fields, system attributes as strings. */
function sqsRecord(message: Message, source: { arn: string; region: string }): SQSRecord {
  const system = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? "1",
    SentTimestamp: system.SentTimestamp ?? "",
    SenderId: system.SenderId ?? "",
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? "",
  };
  for (const name of [
    "AWSTraceHeader",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "DeadLetterQueueSourceArn",
  ] as const) {
    const value = system[name];
    if (value !== undefined) attributes[name] = value;
  }
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes,
    messageAttributes: messageAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? "",
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: source.arn,
    awsRegion: source.region,
  };
}

/** SDK message attributes in Lambda's shape (binary values base64-encoded, list fields empty). */
function messageAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const shaped: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    shaped[name] = {
      dataType: value.DataType ?? "String",
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined
        ? {}
        : { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return shaped;
}

function lambdaContext(options: PollQueueOptions, region: string): Context {
  const functionName = options.functionName ?? "leak-responder-local";
  const deadline = Date.now() + (options.functionTimeoutSeconds ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS) * 1000;
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name} is the callback-era API; return a promise from the handler instead`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${options.accountId ?? "000000000000"}:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported("done"),
    fail: unsupported("fail"),
    succeed: unsupported("succeed"),
  };
}

/**
 * arn:aws:sqs:<region>:<account>:<name> from a queue URL: the AWS form
 * (https://sqs.<region>.amazonaws.com/<account>/<name>) names its region; a local endpoint's URL
 * has only the path, and the client's region applies.
 */
export function queueArn(queueUrl: string, clientRegion: string): string {
  const url = new URL(queueUrl);
  const [, accountId = "", name = ""] = /^\/(\d{12})\/([^/]+)\/?$/.exec(url.pathname) ?? [];
  if (!accountId || !name) throw new Error(`not an SQS queue URL: ${queueUrl}`);
  const region =
    /^(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?$/
      .exec(url.hostname)
      ?.slice(1, 3)
      .find((part) => part !== undefined) ?? clientRegion;
  const partition = url.hostname.endsWith(".amazonaws.com.cn") ? "aws-cn" : "aws";
  return `arn:${partition}:sqs:${region}:${accountId}:${name}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
