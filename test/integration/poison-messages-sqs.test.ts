/**
 * SqsDeadLetterQueue with the real @aws-sdk/client-sqs against the sandbox's FIFO queues, wired as
 * serverless.yml wires the notification queue: a poison message the stage moves itself lands in the
 * FIFO dead-letter queue with its body and message group unchanged and the reason in its message
 * attributes, once however often the move is repeated; moved back as a redrive moves it, it is the
 * same task again. A dead-letter queue that refuses makes the move fail, so the record is retried.
 */
import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../sandbox/server.js";
import {
  deadLetterIfPoison,
  POISON_ATTRIBUTES,
  poisonCause,
  SqsDeadLetterQueue,
  wasDeadLettered,
} from "../../src/adapters/aws/poison-messages.js";
import { NOTIFICATION_GROUP, SqsStageQueues } from "../../src/adapters/aws/sqs-stage-queues.js";
import { UnprocessableMessage } from "../../src/domain/errors.js";
import { type NotificationTask, parseNotificationTask } from "../../src/domain/stage-task.js";
import { MemoryLog } from "../../src/logger.js";
import { startSqsSandbox } from "../support/sqs-sandbox.js";

let sandbox: Sandbox;
let sqs: SQSClient;
let home: string;

async function fifoQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-${randomUUID().slice(0, 8)}.fifo`,
      Attributes: { FifoQueue: "true", ...attributes },
    }),
  );
  return created.QueueUrl ?? "";
}

/** The notification queue and its dead-letter queue, as the stack declares them. */
async function notificationQueues(): Promise<{ source: string; deadLetter: string }> {
  const deadLetter = await fifoQueue("notification-dlq");
  const source = await fifoQueue("notification", {
    VisibilityTimeout: "300",
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: `arn:aws:sqs:us-east-1:${home}:${deadLetter.split("/").at(-1)}`,
      maxReceiveCount: 5,
    }),
  });
  return { source, deadLetter };
}

async function receiveOne(queueUrl: string): Promise<Message> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
  );
  const messages = out.Messages ?? [];
  expect(messages).toHaveLength(1);
  const [message] = messages;
  if (!message) throw new Error("no message");
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  return message;
}

/** The record Lambda's event source mapping builds from a received message (the fields read here). */
function asRecord(message: Message): SQSRecord {
  const system = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: system.ApproximateReceiveCount ?? "1",
      SentTimestamp: system.SentTimestamp ?? "",
      SenderId: system.SenderId ?? "",
      ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? "",
      ...(system.MessageGroupId ? { MessageGroupId: system.MessageGroupId } : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? "String",
          ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:notification.fifo",
    awsRegion: "us-east-1",
  };
}

const attribute = (message: Message, name: string) => message.MessageAttributes?.[name]?.StringValue;

beforeAll(async () => {
  ({ sandbox, sqs, home } = await startSqsSandbox());
});

afterAll(async () => {
  await sandbox.stop();
});

describe("a poison notification moved to the dead-letter queue by the function", () => {
  const task: NotificationTask = { kind: "notice", incidentId: "no-such-incident", notice: "first" };

  it("keeps its body and message group, says why in its attributes, and is stored once when its move is repeated at once", async () => {
    const { source, deadLetter } = await notificationQueues();
    // Sent as the containment stage sends it.
    await new SqsStageQueues(sqs, { investigation: source, notification: source }).notify(task);
    const record = asRecord(await receiveOne(source));
    const cause = poisonCause(
      new UnprocessableMessage("No incident no-such-incident to notify about", "IncidentMissing"),
    );
    const queue = new SqsDeadLetterQueue(sqs, deadLetter);
    await queue.put(record, cause);
    // A run that died after the move and before acknowledging moves it again on the next delivery.
    await queue.put({ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: "2" } }, cause);

    const moved = await receiveOne(deadLetter);
    expect(moved.Body).toBe(record.body);
    expect(moved.Attributes?.MessageGroupId).toBe(NOTIFICATION_GROUP);
    expect(attribute(moved, POISON_ATTRIBUTES.errorName)).toBe("UnprocessableMessage");
    expect(attribute(moved, POISON_ATTRIBUTES.errorCode)).toBe("IncidentMissing");
    expect(attribute(moved, POISON_ATTRIBUTES.reason)).toBe("No incident no-such-incident to notify about");
    expect(attribute(moved, POISON_ATTRIBUTES.originalMessageId)).toBe(record.messageId);
    expect(attribute(moved, POISON_ATTRIBUTES.receiveCount)).toBe("1");
    // The stages' own attribute stays: an operator finds an incident's messages as before.
    expect(attribute(moved, "incidentId")).toBe("no-such-incident");
  });

  it("is the same task again when moved back to the notification queue as a redrive moves it", async () => {
    const { source, deadLetter } = await notificationQueues();
    await new SqsStageQueues(sqs, { investigation: source, notification: source }).notify(task);
    const record = asRecord(await receiveOne(source));
    await new SqsDeadLetterQueue(sqs, deadLetter).put(
      record,
      poisonCause(
        new UnprocessableMessage("No incident no-such-incident to notify about", "IncidentMissing"),
      ),
    );
    const dead = await receiveOne(deadLetter);
    // What StartMessageMoveTask does with --destination-arn: body, group and attributes, a new message.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: source,
        MessageBody: dead.Body,
        MessageGroupId: dead.Attributes?.MessageGroupId,
        MessageDeduplicationId: randomUUID(),
        MessageAttributes: dead.MessageAttributes,
      }),
    );
    const back = asRecord(await receiveOne(source));
    expect(back.body).toBe(record.body);
    expect(back.attributes.MessageGroupId).toBe(NOTIFICATION_GROUP);
    expect(parseNotificationTask(back.body)).toEqual(task);
    // Its receive count starts again, but notify still knows an earlier delivery may have done part of it.
    expect(back.attributes.ApproximateReceiveCount).toBe("1");
    expect(wasDeadLettered(back)).toBe(true);
    expect(wasDeadLettered(record)).toBe(false);
    // Still failing for good, it goes back to the dead-letter queue: its new id is not swallowed as a repeat.
    await new SqsDeadLetterQueue(sqs, deadLetter).put(
      back,
      poisonCause(
        new UnprocessableMessage("No incident no-such-incident to notify about", "IncidentMissing"),
      ),
    );
    expect(attribute(await receiveOne(deadLetter), POISON_ATTRIBUTES.originalMessageId)).toBe(back.messageId);
  });

  it("fails the record when the dead-letter queue cannot be reached, so SQS keeps it", async () => {
    const { source } = await notificationQueues();
    await new SqsStageQueues(sqs, { investigation: source, notification: source }).notify(task);
    const record = asRecord(await receiveOne(source));
    const missing = `${source.replace(/\/[^/]+$/, "")}/deleted-dlq.fifo`;
    const log = new MemoryLog();
    const poison = new UnprocessableMessage(
      "No incident no-such-incident to notify about",
      "IncidentMissing",
    );
    await expect(
      deadLetterIfPoison(record, poison, task.incidentId, {
        deadLetters: new SqsDeadLetterQueue(sqs, missing),
        log,
      }),
    ).rejects.toBe(poison);
    expect(log.lines.find((l) => l.level === "ERROR")?.moveError).toMatch(/sqs:SendMessage|queue/i);
  });
});
