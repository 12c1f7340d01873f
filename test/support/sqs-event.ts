/**
 * What Lambda hands the respond function for one queued message (an SQS event of one record), and
 * the context it needs: the function's ARN names the home account.
 */
import { randomUUID } from "node:crypto";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";

/**
 * One message as Lambda hands it over from `queue` (by default the alert queue, sent by EventBridge);
 * a FIFO queue's carries its message group. String message attributes only.
 */
export function sqsRecord(
  body: unknown,
  options: {
    receiveCount?: number | undefined;
    queue?: string;
    senderId?: string;
    messageGroupId?: string;
    messageAttributes?: Record<string, string> | undefined;
  } = {},
): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: "r",
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: options.senderId ?? "events.amazonaws.com",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(options.messageGroupId ? { MessageGroupId: options.messageGroupId } : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(options.messageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: "String", stringValue: value, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${options.queue ?? "alerts"}`,
    awsRegion: "us-east-1",
  };
}

export function sqsEvent(body: unknown, receiveCount = 1): SQSEvent {
  return { Records: [sqsRecord(body, { receiveCount })] };
}

export function lambdaContext(homeAccountId: string): Context {
  return {
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${homeAccountId}:function:leak-responder-respond`,
    getRemainingTimeInMillis: () => 300_000,
  } as unknown as Context;
}
