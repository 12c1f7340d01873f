/**
 * What Lambda hands the respond function for one queued message (an SQS event of one record), and
 * the context it needs: the function's ARN names the home account.
 */
import { randomUUID } from "node:crypto";
import type { Context, SQSEvent } from "aws-lambda";

export function sqsEvent(body: unknown, receiveCount = 1): SQSEvent {
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: "r",
        body: typeof body === "string" ? body : JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: String(receiveCount),
          SentTimestamp: String(Date.now()),
          SenderId: "events.amazonaws.com",
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:alerts",
        awsRegion: "us-east-1",
      },
    ],
  };
}

export function lambdaContext(homeAccountId: string): Context {
  return {
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${homeAccountId}:function:leak-responder-respond`,
    getRemainingTimeInMillis: () => 300_000,
  } as unknown as Context;
}
