/**
 * The local event source mapping (src/adapters/local/sqs-poller.ts) against the sandbox's SQS over
 * real HTTP: what `leak-responder storm` relies on to behave like Lambda polling the deployed
 * queues. Partial batch failures come back after their visibility timeout, a FIFO group is never
 * worked on by two workers at once, and an abort stops a worker cleanly.
 */
import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../sandbox/server.js";
import { pollQueue, queueArn } from "../../src/adapters/local/sqs-poller.js";
import { MemoryLog } from "../../src/logger.js";
import { startSqsSandbox } from "../support/sqs-sandbox.js";

const REGION = "us-east-1";
let sandbox: Sandbox;
let sqs: SQSClient;
let home: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function queue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return created.QueueUrl ?? "";
}

async function messagesLeft(queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

beforeAll(async () => {
  ({ sandbox, sqs, home } = await startSqsSandbox());
});

afterAll(async () => {
  await sandbox.stop();
});

describe("pollQueue, the local SQS event source mapping", () => {
  it("deletes what the handler finished and redelivers a reported failure with ApproximateReceiveCount 2", async () => {
    const url = await queue(`alerts-${randomUUID().slice(0, 8)}`);
    for (const body of ["a", "b", "c"]) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          MessageAttributes: { deliveryId: { DataType: "String", StringValue: `delivery-${body}` } },
        }),
      );
    }
    const seen: SQSRecord[] = [];
    const contexts: Array<{ arn: string; remaining: number; requestId: string }> = [];
    const controller = new AbortController();
    const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      seen.push(...event.Records);
      contexts.push({
        arn: context.invokedFunctionArn,
        remaining: context.getRemainingTimeInMillis(),
        requestId: context.awsRequestId,
      });
      const b = event.Records.find((r) => r.body === "b");
      if (b?.attributes.ApproximateReceiveCount === "2") controller.abort();
      return {
        batchItemFailures:
          b && b.attributes.ApproximateReceiveCount === "1" ? [{ itemIdentifier: b.messageId }] : [],
      };
    };
    const summary = await pollQueue({
      client: sqs,
      queueUrl: url,
      handler,
      batchSize: 10,
      waitSeconds: 2,
      visibilityTimeoutSeconds: 1,
      signal: controller.signal,
      log: new MemoryLog(),
      accountId: home,
      functionName: "leak-responder-respond",
      functionTimeoutSeconds: 300,
    });

    expect(seen.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`).sort()).toEqual([
      "a#1",
      "b#1",
      "b#2",
      "c#1",
    ]);
    expect(summary).toEqual({ invocations: 2, deleted: 3, leftForRetry: 1 });
    expect(await messagesLeft(url)).toBe(0);

    const record = seen.find((r) => r.body === "a");
    expect(record).toMatchObject({
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${REGION}:${home}:${url.split("/").pop()}`,
      awsRegion: REGION,
      messageAttributes: {
        deliveryId: {
          stringValue: "delivery-a",
          dataType: "String",
          stringListValues: [],
          binaryListValues: [],
        },
      },
    });
    expect(record?.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(contexts[0]?.arn).toBe(`arn:aws:lambda:${REGION}:${home}:function:leak-responder-respond`);
    expect(contexts[0]?.remaining).toBeGreaterThan(290_000);
    expect(contexts[0]?.remaining).toBeLessThanOrEqual(300_000);
    expect(new Set(contexts.map((c) => c.requestId)).size).toBe(2);
  });

  it("deletes nothing when the handler throws: the whole batch comes back", async () => {
    const url = await queue(`alerts-${randomUUID().slice(0, 8)}`);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x" }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "y" }));
    const counts: string[] = [];
    const controller = new AbortController();
    const log = new MemoryLog();
    const summary = await pollQueue({
      client: sqs,
      queueUrl: url,
      handler: async (event) => {
        for (const r of event.Records) counts.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
        if (counts.length >= 4) {
          controller.abort();
          return;
        }
        throw new Error("CloudTrail throttled");
      },
      batchSize: 10,
      waitSeconds: 2,
      visibilityTimeoutSeconds: 1,
      signal: controller.signal,
      log,
    });
    expect(counts.sort()).toEqual(["x#1", "x#2", "y#1", "y#2"]);
    expect(summary).toEqual({ invocations: 2, deleted: 2, leftForRetry: 2 });
    expect(
      log.lines.some((l) => l.level === "ERROR" && String(l.error).includes("CloudTrail throttled")),
    ).toBe(true);
  });

  it("keeps the whole batch when the handler names a record that is not in it, as Lambda does", async () => {
    const url = await queue(`alerts-${randomUUID().slice(0, 8)}`);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "kept" }));
    const counts: string[] = [];
    const controller = new AbortController();
    await pollQueue({
      client: sqs,
      queueUrl: url,
      handler: async (event) => {
        for (const r of event.Records) counts.push(r.attributes.ApproximateReceiveCount);
        if (counts.length >= 2) controller.abort();
        return { batchItemFailures: counts.length >= 2 ? [] : [{ itemIdentifier: "not-in-this-batch" }] };
      },
      batchSize: 10,
      waitSeconds: 2,
      visibilityTimeoutSeconds: 1,
      signal: controller.signal,
      log: new MemoryLog(),
    });
    expect(counts).toEqual(["1", "2"]);
    expect(await messagesLeft(url)).toBe(0);
  });

  it("two pollers on one FIFO group never work on it at the same time, and take it in order", async () => {
    const url = await queue(`investigations-${randomUUID().slice(0, 8)}.fifo`, { FifoQueue: "true" });
    const sent = ["1", "2", "3", "4", "5", "6"];
    for (const step of sent) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: step,
          MessageGroupId: "account-1",
          MessageDeduplicationId: `snapshot-${step}`,
        }),
      );
    }
    const runs: Array<{ worker: string; body: string; start: number; end: number; group?: string }> = [];
    const controller = new AbortController();
    const worker = (name: string) =>
      pollQueue({
        client: sqs,
        queueUrl: url,
        batchSize: 1,
        waitSeconds: 1,
        signal: controller.signal,
        log: new MemoryLog(),
        handler: async (event) => {
          for (const record of event.Records) {
            const start = performance.now();
            await sleep(60);
            const run = { worker: name, body: record.body, start, end: performance.now() };
            runs.push(
              record.attributes.MessageGroupId ? { ...run, group: record.attributes.MessageGroupId } : run,
            );
          }
          return { batchItemFailures: [] };
        },
      });
    const workers = Promise.all([worker("w1"), worker("w2")]);
    await until(() => runs.length === sent.length, 10_000, "all six records");
    controller.abort();
    await workers;

    expect(runs.map((r) => r.body)).toEqual(sent);
    expect(runs.every((r) => r.group === "account-1")).toBe(true);
    const byStart = [...runs].sort((x, y) => x.start - y.start);
    for (let i = 1; i < byStart.length; i += 1) {
      const previous = byStart[i - 1];
      const next = byStart[i];
      if (!previous || !next) continue;
      expect(next.start, `${next.body} started before ${previous.body} ended`).toBeGreaterThanOrEqual(
        previous.end,
      );
    }
    expect(await messagesLeft(url)).toBe(0);
  });

  it("stops a waiting long poll at once when aborted, and leaves later messages alone", async () => {
    const url = await queue(`alerts-${randomUUID().slice(0, 8)}`);
    const controller = new AbortController();
    let invoked = 0;
    const polling = pollQueue({
      client: sqs,
      queueUrl: url,
      handler: async () => {
        invoked += 1;
      },
      batchSize: 10,
      waitSeconds: 20,
      signal: controller.signal,
      log: new MemoryLog(),
    });
    await sleep(200);
    const abortedAt = Date.now();
    controller.abort();
    const summary = await polling;
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    expect(summary).toEqual({ invocations: 0, deleted: 0, leftForRetry: 0 });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "after the stop" }));
    await sleep(200);
    expect(invoked).toBe(0);
    expect(await messagesLeft(url)).toBe(1);
  });

  it("finishes and settles the batch in hand when aborted mid-handler", async () => {
    const url = await queue(`alerts-${randomUUID().slice(0, 8)}`);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "in hand" }));
    const controller = new AbortController();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    const polling = pollQueue({
      client: sqs,
      queueUrl: url,
      handler: async () => {
        started = true;
        await gate;
      },
      batchSize: 10,
      waitSeconds: 1,
      signal: controller.signal,
      log: new MemoryLog(),
    });
    await until(() => started, 5_000, "the handler to start");
    controller.abort();
    release();
    expect(await polling).toEqual({ invocations: 1, deleted: 1, leftForRetry: 0 });
    expect(await messagesLeft(url)).toBe(0);
  });

  it("builds the queue ARN from an AWS queue URL's region, and from the client's for a local endpoint", () => {
    expect(queueArn("https://sqs.eu-west-2.amazonaws.com/123456789012/alerts.fifo", "us-east-1")).toBe(
      "arn:aws:sqs:eu-west-2:123456789012:alerts.fifo",
    );
    expect(queueArn("http://127.0.0.1:4566/123456789012/alerts", "us-east-1")).toBe(
      "arn:aws:sqs:us-east-1:123456789012:alerts",
    );
  });
});
