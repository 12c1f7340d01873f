/**
 * SqsStageQueues (issue 13) with the real @aws-sdk/client-sqs against the sandbox's FIFO queues:
 * one message group per AWS account on the investigation queue, one for the Slack channel on the
 * notification queue, and a hand-over repeated within SQS's 5-minute window taken in once.
 */
import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccountId } from "../../sandbox/fake-ids.js";
import type { Sandbox } from "../../sandbox/server.js";
import { NOTIFICATION_GROUP, SqsStageQueues } from "../../src/adapters/aws/sqs-stage-queues.js";
import {
  FOLLOW_THROUGH_GROUP,
  parseInvestigationTask,
  parseNotificationTask,
} from "../../src/domain/stage-task.js";
import { startSqsSandbox } from "../support/sqs-sandbox.js";

let sandbox: Sandbox;
let sqs: SQSClient;

async function fifoQueue(name: string): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-${randomUUID().slice(0, 8)}.fifo`,
      Attributes: { FifoQueue: "true" },
    }),
  );
  return created.QueueUrl ?? "";
}

/** Everything on the queue, taken off it (a FIFO queue hands out one group's head at a time). */
async function drain(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return all;
    for (const message of messages) {
      all.push(message);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

const groupOf = (m: Message) => m.Attributes?.MessageGroupId;

beforeAll(async () => {
  ({ sandbox, sqs } = await startSqsSandbox());
});

afterAll(async () => {
  await sandbox.stop();
});

async function queues() {
  const urls = {
    investigation: await fifoQueue("investigations"),
    notification: await fifoQueue("notifications"),
  };
  return { urls, stages: new SqsStageQueues(sqs, urls) };
}

describe("SqsStageQueues against the sandbox's FIFO queues", () => {
  it("incidents in two accounts land in two message groups (one per account), each read back as sent", async () => {
    const { urls, stages } = await queues();
    const [a, b] = [fakeAccountId(), fakeAccountId()];
    const first = {
      kind: "investigate" as const,
      incidentId: "gh__acme__api__1",
      accountId: a,
      continuation: 0,
      attempt: 0,
    };
    const second = { ...first, incidentId: "gh__acme__api__2", accountId: b };
    await stages.investigate(first);
    await stages.investigate(second);

    const taken = await drain(urls.investigation);
    expect(taken.map(groupOf).sort()).toEqual([a, b].sort());
    for (const message of taken) {
      const task = parseInvestigationTask(message.Body ?? "");
      expect(task).toEqual(groupOf(message) === a ? first : second);
      // An operator finds an incident's messages in the dead-letter queue by attribute.
      expect(message.MessageAttributes?.incidentId?.StringValue).toBe(
        task.kind === "investigate" ? task.incidentId : "",
      );
    }
  });

  it("the follow-through's hand-over to a fresh run goes to the schedule's group, read back as sent, and each part is a new message", async () => {
    const { urls, stages } = await queues();
    const tally = {
      since: "2026-12-05T02:00:00.000Z",
      checked: 3,
      alerts: [],
      staticKeysLeft: 1,
      secretsLeft: 0,
      rolesToCreate: 1,
      rolesWrong: [],
      proposals: 0,
      failed: [],
    };
    const part1 = { kind: "follow-through" as const, resume: { after: "gh__acme__api__3", part: 1, tally } };
    const part2 = { ...part1, resume: { ...part1.resume, after: "gh__acme__api__6", part: 2 } };
    await stages.investigate(part1);
    // The same part handed over again (its run retried) is taken in once.
    await stages.investigate(part1);
    await stages.investigate(part2);
    const taken = await drain(urls.investigation);
    expect(taken.map(groupOf)).toEqual([FOLLOW_THROUGH_GROUP, FOLLOW_THROUGH_GROUP]);
    expect(taken.map((m) => parseInvestigationTask(m.Body ?? ""))).toEqual([part1, part2]);
    expect(taken[0]?.MessageAttributes?.incidentId).toBeUndefined();
  });

  it("the same hand-over twice within 5 minutes (a redelivered containment) is taken in once", async () => {
    const { urls, stages } = await queues();
    const task = {
      kind: "investigate" as const,
      incidentId: "gh__acme__api__3",
      accountId: fakeAccountId(),
      continuation: 0,
      attempt: 0,
    };
    await stages.investigate(task);
    await stages.investigate(task);
    // A continuation is a new task, not a repeat.
    await stages.investigate({ ...task, continuation: 1 });
    await stages.notify({
      kind: "notice",
      incidentId: task.incidentId,
      notice: "first",
      status: "contained",
    });
    await stages.notify({
      kind: "notice",
      incidentId: task.incidentId,
      notice: "first",
      status: "contained",
    });

    const investigations = await drain(urls.investigation);
    expect(investigations.map((m) => parseInvestigationTask(m.Body ?? ""))).toEqual([
      task,
      { ...task, continuation: 1 },
    ]);
    expect((await drain(urls.notification)).map((m) => m.Body)).toHaveLength(1);
  });

  it("every notification, whatever its incident, goes to the one channel group, in the order handed over", async () => {
    const { urls, stages } = await queues();
    await stages.notify({
      kind: "notice",
      incidentId: "gh__acme__api__4",
      notice: "first",
      status: "failed",
    });
    await stages.notify({ kind: "announce", lines: ["2 incidents open"] });
    await stages.notify({ kind: "notice", incidentId: "gh__acme__api__5", notice: "follow-up" });

    const taken = await drain(urls.notification);
    expect(taken.map(groupOf)).toEqual([NOTIFICATION_GROUP, NOTIFICATION_GROUP, NOTIFICATION_GROUP]);
    expect(taken.map((m) => parseNotificationTask(m.Body ?? "").kind)).toEqual([
      "notice",
      "announce",
      "notice",
    ]);
    expect(taken[1]?.MessageAttributes).toBeUndefined();
  });
});
