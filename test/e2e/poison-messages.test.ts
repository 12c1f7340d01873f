/**
 * A poison message on the notification queue (SQS FIFO, one message group: the Slack channel) in the
 * deployed topology on the sandbox: a notice for an incident that does not exist can never be sent.
 * Before, it held the channel for a visibility timeout per delivery (five of them before SQS
 * dead-lettered it), and every message behind it waited; now the notify function moves it to the
 * dead-letter queue itself, with the reason, and the next message goes out in the same run.
 */
import { randomUUID } from "node:crypto";
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POISON_ATTRIBUTES } from "../../src/adapters/aws/poison-messages.js";
import { NOTIFICATION_GROUP } from "../../src/adapters/aws/sqs-stage-queues.js";
import { type StagedStack, startStagedStack } from "../../src/cli/staged-stack.js";
import { type NotificationTask, parseNotificationTask } from "../../src/domain/stage-task.js";
import { MemoryLog } from "../../src/logger.js";

let stack: StagedStack;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startStagedStack({ log: new MemoryLog(), workers: 0 });
  // The stack points the environment at the sandbox (useSandboxEnv), as the functions see it.
  sqs = new SQSClient({ region: "us-east-1" });
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await stack?.close();
});

async function sendNotification(task: NotificationTask, incidentId?: string): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queues.notification,
      MessageBody: JSON.stringify(task),
      MessageGroupId: NOTIFICATION_GROUP,
      MessageDeduplicationId: randomUUID(),
      ...(incidentId
        ? { MessageAttributes: { incidentId: { DataType: "String", StringValue: incidentId } } }
        : {}),
    }),
  );
}

/** Resolves once the notify function has taken the poison message off the queue at least once. */
async function pickedUp(body: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const queue = [...stack.sandbox.state.queues.values()].find((q) => q.url === stack.queues.notification);
    const message = queue?.messages.find((m) => m.body === body);
    if (!message || message.receiveCount > 0) return;
    if (Date.now() > deadline) throw new Error("the notify function never received the poison message");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a poison message on the notification queue", () => {
  it("goes to the dead-letter queue with its reason at once, and the message behind it in the channel's group is posted in the same run", async () => {
    const poison: NotificationTask = { kind: "notice", incidentId: "no-such-incident", notice: "first" };
    const slackBefore = stack.sandbox.state.slackMessages.length;
    await sendNotification(poison, poison.incidentId);
    await pickedUp(JSON.stringify(poison));
    // Behind it in the one group: it waits for whatever the poison message does to the group.
    const allClear = `all clear ${randomUUID().slice(0, 8)}`;
    await sendNotification({ kind: "announce", lines: [allClear] });

    // Well inside the notification queue's visibility timeout (120 s here, 300 s deployed).
    expect(await stack.drained({ quietMs: 1_000, timeoutMs: 20_000 })).toBe(0);
    const posted = stack.sandbox.state.slackMessages.slice(slackBefore).map((m) => m.raw);
    expect(posted.some((raw) => raw.includes(allClear))).toBe(true);

    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.deadLetter.notify,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const [moved, ...others] = dead.Messages ?? [];
    expect(others).toEqual([]);
    expect(moved?.MessageAttributes?.[POISON_ATTRIBUTES.reason]?.StringValue).toBe(
      "No incident no-such-incident to notify about",
    );
    expect(moved?.MessageAttributes?.[POISON_ATTRIBUTES.errorCode]?.StringValue).toBe("IncidentMissing");
    expect(moved?.MessageAttributes?.[POISON_ATTRIBUTES.receiveCount]?.StringValue).toBe("1");
    // Body and group unchanged: a redrive to the notification queue hands notify the same task.
    expect(moved?.Attributes?.MessageGroupId).toBe(NOTIFICATION_GROUP);
    expect(parseNotificationTask(moved?.Body ?? "")).toEqual(poison);
  }, 90_000);
});

describe("a poison message on the investigation queue", () => {
  it("goes to the investigation dead-letter queue at once instead of holding the account for 30 minutes a delivery", async () => {
    const accountId = stack.world.homeAccountId;
    const body = JSON.stringify({
      kind: "investigate",
      incidentId: "no-such-incident",
      accountId,
      continuation: 0,
      attempt: 0,
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.investigation,
        MessageBody: body,
        MessageGroupId: accountId,
        MessageDeduplicationId: randomUUID(),
      }),
    );
    expect(await stack.drained({ quietMs: 1_000, timeoutMs: 20_000 })).toBe(0);
    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.deadLetter.investigate,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    expect(dead.Messages?.map((m) => [m.Body, m.Attributes?.MessageGroupId])).toEqual([[body, accountId]]);
    expect(dead.Messages?.[0]?.MessageAttributes?.[POISON_ATTRIBUTES.reason]?.StringValue).toBe(
      "No incident no-such-incident to investigate",
    );
  }, 90_000);
});
