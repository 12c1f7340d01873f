/**
 * The sandbox's SQS FIFO queues, proven with the real @aws-sdk/client-sqs over real HTTP. Issue 13
 * paces one account's CloudTrail snapshot with one message group per account: these tests hold the
 * sandbox to what the SQS developer guide promises for that ("FIFO queue delivery logic"), so a
 * local storm shows the same one-consumer-per-group behaviour the deployed queues give.
 */
import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../sandbox/server.js";
import { startSqsSandbox } from "../support/sqs-sandbox.js";

const REGION = "us-east-1";
let sandbox: Sandbox;
let sqs: SQSClient;
let home: string;

/** The settled error of a promise that must fail (an assertion failure if it succeeds). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error("expected the call to fail, and it succeeded");
}

async function fifoQueue(attributes: Record<string, string> = {}): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: `investigations-${randomUUID().slice(0, 8)}.fifo`,
      Attributes: { FifoQueue: "true", ...attributes },
    }),
  );
  return created.QueueUrl ?? "";
}

async function send(queueUrl: string, group: string, body: string, deduplicationId: string = randomUUID()) {
  return sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: deduplicationId,
    }),
  );
}

async function receive(queueUrl: string, options: { max?: number; visibility?: number; wait?: number } = {}) {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.max ?? 10,
      WaitTimeSeconds: options.wait ?? 0,
      MessageSystemAttributeNames: ["All"],
      ...(options.visibility === undefined ? {} : { VisibilityTimeout: options.visibility }),
    }),
  );
  return out.Messages ?? [];
}

const bodies = (messages: Message[]) => messages.map((m) => m.Body);

async function remove(queueUrl: string, messages: Message[]) {
  for (const message of messages) {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }
}

beforeAll(async () => {
  ({ sandbox, sqs, home } = await startSqsSandbox());
});

afterAll(async () => {
  await sandbox.stop();
});

describe("creating a FIFO queue", () => {
  it("needs both the .fifo name and FifoQueue=true, and reports FIFO attributes", async () => {
    const url = await fifoQueue({ ContentBasedDeduplication: "true" });
    expect(url).toMatch(new RegExp(`/${home}/investigations-[0-9a-f]{8}\\.fifo$`));
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }),
    );
    expect(attributes.Attributes).toMatchObject({
      FifoQueue: "true",
      ContentBasedDeduplication: "true",
      DeduplicationScope: "queue",
      FifoThroughputLimit: "perQueue",
    });

    const noFlag = await failure(sqs.send(new CreateQueueCommand({ QueueName: "alerts.fifo" })));
    expect(noFlag.name).toBe("InvalidParameterValue");
    const noSuffix = await failure(
      sqs.send(new CreateQueueCommand({ QueueName: "alerts", Attributes: { FifoQueue: "true" } })),
    );
    expect(noSuffix.name).toBe("InvalidParameterValue");
    expect(noSuffix.message).toContain(".fifo");
    const standardWithFifoAttribute = await failure(
      sqs.send(
        new CreateQueueCommand({ QueueName: "alerts", Attributes: { ContentBasedDeduplication: "true" } }),
      ),
    );
    expect(standardWithFifoAttribute.name).toBe("InvalidAttributeName");
  });

  it("refuses a standard dead-letter queue for a FIFO queue, and the reverse", async () => {
    const policy = (target: string) =>
      JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${REGION}:${home}:${target}`, maxReceiveCount: 3 });
    const fifoToStandard = await failure(
      sqs.send(
        new CreateQueueCommand({
          QueueName: "jobs.fifo",
          Attributes: { FifoQueue: "true", RedrivePolicy: policy("dead") },
        }),
      ),
    );
    expect(fifoToStandard.name).toBe("InvalidParameterValue");
    expect(fifoToStandard.message).toContain("RedrivePolicy");
    const standardToFifo = await failure(
      sqs.send(
        new CreateQueueCommand({ QueueName: "jobs", Attributes: { RedrivePolicy: policy("dead.fifo") } }),
      ),
    );
    expect(standardToFifo.name).toBe("InvalidParameterValue");
  });
});

describe("sending to a FIFO queue", () => {
  it("requires a MessageGroupId, in SendMessage and in each SendMessageBatch entry", async () => {
    const url = await fifoQueue();
    const single = await failure(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x", MessageDeduplicationId: "d" })),
    );
    expect(single.name).toBe("MissingParameter");
    expect(single.message).toContain("MessageGroupId");

    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: "grouped", MessageBody: "a", MessageGroupId: "g", MessageDeduplicationId: "a" },
          { Id: "ungrouped", MessageBody: "b", MessageDeduplicationId: "b" },
        ],
      }),
    );
    expect(batch.Successful?.map((e) => e.Id)).toEqual(["grouped"]);
    expect(batch.Successful?.[0]?.SequenceNumber).toMatch(/^\d{20,}$/);
    expect(batch.Failed).toEqual([
      expect.objectContaining({ Id: "ungrouped", Code: "MissingParameter", SenderFault: true }),
    ]);
    expect(bodies(await receive(url))).toEqual(["a"]);
  });

  it("requires a MessageDeduplicationId unless ContentBasedDeduplication is on, and refuses a per-message delay", async () => {
    const url = await fifoQueue();
    const noDedupe = await failure(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x", MessageGroupId: "g" })),
    );
    expect(noDedupe.name).toBe("InvalidParameterValue");
    expect(noDedupe.message).toContain("ContentBasedDeduplication");
    const delayed = await failure(
      sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: "x",
          MessageGroupId: "g",
          MessageDeduplicationId: "d",
          DelaySeconds: 5,
        }),
      ),
    );
    expect(delayed.name).toBe("InvalidParameterValue");
    expect(delayed.message).toContain("DelaySeconds");
  });

  it("accepts a duplicate inside the deduplication interval without queueing it again", async () => {
    const url = await fifoQueue();
    const first = await send(url, "account-1", "snapshot account-1", "alert-42");
    const again = await send(url, "account-1", "snapshot account-1 (redelivered webhook)", "alert-42");
    expect(again.MessageId).toBe(first.MessageId);
    expect(again.SequenceNumber).toBe(first.SequenceNumber);
    const received = await receive(url);
    expect(bodies(received)).toEqual(["snapshot account-1"]);
    // Deleting the message does not end the interval: the same id is still a duplicate.
    await remove(url, received);
    const afterDelete = await send(url, "account-1", "snapshot account-1", "alert-42");
    expect(afterDelete.MessageId).toBe(first.MessageId);
    expect(await receive(url)).toEqual([]);
  });

  it("deduplicates on the SHA-256 of the body with ContentBasedDeduplication, unless an explicit id overrides it", async () => {
    const url = await fifoQueue({ ContentBasedDeduplication: "true" });
    const send = (body: string, deduplicationId?: string) =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          MessageGroupId: "g",
          ...(deduplicationId ? { MessageDeduplicationId: deduplicationId } : {}),
        }),
      );
    const first = await send("same body");
    const duplicate = await send("same body");
    expect(duplicate.MessageId).toBe(first.MessageId);
    const explicit = await send("same body", "explicit-id");
    expect(explicit.MessageId).not.toBe(first.MessageId);
    await send("other body");
    const received = await receive(url);
    expect(bodies(received)).toEqual(["same body", "same body", "other body"]);
    expect(received[0]?.Attributes?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(received[1]?.Attributes?.MessageDeduplicationId).toBe("explicit-id");
  });
});

describe("receiving from a FIFO queue", () => {
  it("delivers a group in send order, several at once, with its FIFO attributes", async () => {
    const url = await fifoQueue();
    const sent = [];
    for (const n of [1, 2, 3]) sent.push(await send(url, "account-1", `step ${n}`, `d-${n}`));
    const received = await receive(url);
    expect(bodies(received)).toEqual(["step 1", "step 2", "step 3"]);
    expect(received.map((m) => m.Attributes?.MessageGroupId)).toEqual([
      "account-1",
      "account-1",
      "account-1",
    ]);
    expect(received.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual(["d-1", "d-2", "d-3"]);
    const sequence = received.map((m) => BigInt(m.Attributes?.SequenceNumber ?? "0"));
    expect(sequence.map(String)).toEqual(sent.map((s) => s.SequenceNumber));
    expect(sequence[0]).toBeLessThan(sequence[1] ?? 0n);
    expect(sequence[1]).toBeLessThan(sequence[2] ?? 0n);
  });

  it("gives a group to one receiver at a time: nothing of it reaches a second receiver while one message is in flight", async () => {
    const url = await fifoQueue();
    await send(url, "account-1", "a1");
    await send(url, "account-1", "a2");
    await send(url, "account-2", "b1");

    const first = await receive(url, { max: 1 });
    expect(bodies(first)).toEqual(["a1"]);
    // account-1 is held by the first receiver; the second gets the other group only.
    const second = await receive(url);
    expect(bodies(second)).toEqual(["b1"]);
    expect(await receive(url)).toEqual([]);

    // A long poll parked on the held group is woken when the holder deletes its message.
    const startedAt = Date.now();
    const parked = receive(url, { wait: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await remove(url, first);
    expect(bodies(await parked)).toEqual(["a2"]);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });

  it("redelivers a group's head after its visibility runs out, before anything behind it", async () => {
    const url = await fifoQueue();
    await send(url, "account-1", "first");
    await send(url, "account-1", "second");
    const held = await receive(url, { max: 1, visibility: 600 });
    expect(bodies(held)).toEqual(["first"]);
    expect(await receive(url)).toEqual([]);
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: held[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const again = await receive(url);
    expect(bodies(again)).toEqual(["first", "second"]);
    expect(again[0]?.Attributes?.ApproximateReceiveCount).toBe("2");
  });

  it("keeps a released message waiting while a later message of its group is still in flight", async () => {
    const url = await fifoQueue();
    await send(url, "account-1", "first");
    await send(url, "account-1", "second");
    const both = await receive(url, { visibility: 600 });
    expect(bodies(both)).toEqual(["first", "second"]);
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: both[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    expect(await receive(url)).toEqual([]);
    await remove(url, both.slice(1));
    expect(bodies(await receive(url))).toEqual(["first"]);
  });

  it("answers a retried receive with the same ReceiveRequestAttemptId with the same messages and handles", async () => {
    const url = await fifoQueue();
    await send(url, "account-1", "only once");
    const attempt = (id: string) =>
      sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, ReceiveRequestAttemptId: id, MaxNumberOfMessages: 10 }),
      );
    const first = await attempt("attempt-1");
    const retried = await attempt("attempt-1");
    expect(retried.Messages?.map((m) => m.ReceiptHandle)).toEqual(
      first.Messages?.map((m) => m.ReceiptHandle),
    );
    expect((await attempt("attempt-2")).Messages).toBeUndefined();
  });

  it("moves a message past maxReceiveCount to the FIFO dead-letter queue and releases its group", async () => {
    const dlq = await sqs.send(
      new CreateQueueCommand({ QueueName: "investigations-dlq.fifo", Attributes: { FifoQueue: "true" } }),
    );
    const url = await fifoQueue({
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: `arn:aws:sqs:${REGION}:${home}:investigations-dlq.fifo`,
        maxReceiveCount: 1,
      }),
    });
    const poison = await send(url, "account-1", "poison");
    await send(url, "account-1", "next");
    expect(bodies(await receive(url, { max: 1, visibility: 0 }))).toEqual(["poison"]);
    // The poison message leaves on the next receive, and the group's next message follows at once.
    expect(bodies(await receive(url))).toEqual(["next"]);
    const dead = await receive(dlq.QueueUrl ?? "");
    expect(bodies(dead)).toEqual(["poison"]);
    expect(dead[0]?.Attributes?.MessageGroupId).toBe("account-1");
    expect(dead[0]?.Attributes?.MessageDeduplicationId).toBe(poison.MessageId);
  });
});
