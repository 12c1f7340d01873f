/**
 * A message that can never succeed must not hold its FIFO group (one account's investigations, or
 * the Slack channel) for five visibility timeouts: the stage function moves it to the dead-letter
 * queue itself and acknowledges it. A failure that may pass still fails the record (the group waits,
 * which keeps the order and the pace), and so does a poison message the dead-letter queue refused.
 * The records go through Powertools' BatchProcessor, as the functions run them: `batchItemFailures`
 * is what Lambda keeps on the queue.
 */
import { randomUUID } from "node:crypto";
import {
  BatchProcessor,
  EventType,
  FullBatchFailureError,
  processPartialResponse,
} from "@aws-lambda-powertools/batch";
import { WebAPIPlatformError } from "@slack/web-api";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  createDeadLetterQueue,
  type DeadLetterQueue,
  type PoisonCause,
  stageRecordHandler,
} from "../../src/adapters/aws/poison-messages.js";
import { toSlackFailure } from "../../src/adapters/slack/slack-errors.js";
import { loadRespondConfig } from "../../src/config.js";
import { PermanentFailure, TransientFailure, UnprocessableMessage } from "../../src/domain/errors.js";
import { type NotificationTask, parseNotificationTask } from "../../src/domain/stage-task.js";
import { MemoryLog } from "../../src/logger.js";
import { sqsRecord } from "../support/sqs-event.js";

/** Slack's Web API answering `ok: false` with `error`, as @slack/web-api throws it. */
const slackRefusal = (error: string) => new WebAPIPlatformError({ ok: false, error });

class FakeDeadLetterQueue implements DeadLetterQueue {
  readonly letters: Array<{ record: SQSRecord; cause: PoisonCause }> = [];
  refuse: Error | undefined;
  async put(record: SQSRecord, cause: PoisonCause): Promise<void> {
    if (this.refuse) throw this.refuse;
    this.letters.push({ record, cause });
  }
}

/** A message on the notification queue (FIFO, the channel's group), sent by the contain function. */
function record(body: unknown, options: { incidentId?: string; receiveCount?: number } = {}): SQSRecord {
  return sqsRecord(body, {
    queue: "leak-responder-notification.fifo",
    senderId: "AROA:contain",
    messageGroupId: "slack-channel",
    receiveCount: options.receiveCount,
    messageAttributes: options.incidentId ? { incidentId: options.incidentId } : undefined,
  });
}

const notice = (incidentId: string): NotificationTask => ({ kind: "notice", incidentId, notice: "first" });

/** One invocation of a notify-like function whose playbook step is `run`. */
async function invoke(
  records: SQSRecord[],
  run: (task: NotificationTask) => Promise<void>,
  deadLetters: DeadLetterQueue,
  log = new MemoryLog(),
) {
  const handler = stageRecordHandler(
    {
      parse: parseNotificationTask,
      incidentOf: (task) => (task.kind === "notice" ? task.incidentId : undefined),
      run: (task) => run(task),
    },
    { deadLetters, log },
  );
  const event: SQSEvent = { Records: records };
  try {
    const response = await processPartialResponse(event, handler, new BatchProcessor(EventType.SQS), {
      context: {} as Context,
    });
    return response.batchItemFailures.map((failure) => failure.itemIdentifier);
  } catch (error: unknown) {
    // Every record failed: the invocation fails and Lambda leaves the whole batch on the queue.
    if (error instanceof FullBatchFailureError) return records.map((r) => r.messageId);
    throw error;
  }
}

describe("a message that can never succeed", () => {
  it("is moved to the dead-letter queue and acknowledged: an incident that does not exist", async () => {
    const deadLetters = new FakeDeadLetterQueue();
    const log = new MemoryLog();
    const poison = record(notice("gone-1"), { incidentId: "gone-1", receiveCount: 1 });
    const failed = await invoke(
      [poison],
      async (task) => {
        throw new UnprocessableMessage(
          `No incident ${task.kind === "notice" ? task.incidentId : ""} to notify about`,
          "IncidentMissing",
        );
      },
      deadLetters,
      log,
    );
    expect(failed).toEqual([]);
    expect(deadLetters.letters).toHaveLength(1);
    expect(deadLetters.letters[0]?.record.body).toBe(poison.body);
    expect(deadLetters.letters[0]?.cause).toEqual({
      errorName: "UnprocessableMessage",
      errorCode: "IncidentMissing",
      reason: "No incident gone-1 to notify about",
    });
    // Loud: an ERROR line naming the incident, and the dead-letter queue's alarm.
    const line = log.lines.find((l) => l.level === "ERROR");
    expect(line).toMatchObject({
      incidentId: "gone-1",
      messageId: poison.messageId,
      code: "IncidentMissing",
    });
  });

  it("is moved to the dead-letter queue and acknowledged: a body that does not parse", async () => {
    const deadLetters = new FakeDeadLetterQueue();
    const log = new MemoryLog();
    let ran = 0;
    const garbled = record("{not json", { incidentId: "inc-7" });
    const unknown = record({ kind: "shout", incidentId: "inc-8" });
    const failed = await invoke(
      [garbled, unknown],
      async () => {
        ran += 1;
      },
      deadLetters,
      log,
    );
    expect(failed).toEqual([]);
    expect(ran).toBe(0);
    expect(deadLetters.letters.map((l) => [l.record.body, l.cause.errorName])).toEqual([
      ["{not json", "InvalidInputError"],
      [unknown.body, "InvalidInputError"],
    ]);
    // The stages name the incident in a message attribute: the log says which, even unparsed.
    expect(log.lines.filter((l) => l.level === "ERROR").map((l) => l.incidentId)).toEqual([
      "inc-7",
      undefined,
    ]);
  });

  it("does not hold back the same incident's next message in the batch", async () => {
    const deadLetters = new FakeDeadLetterQueue();
    const sent: string[] = [];
    const first = record(notice("inc-1"));
    const second = record({ kind: "notice", incidentId: "inc-1", notice: "follow-up" });
    const failed = await invoke(
      [first, second],
      async (task) => {
        if (task.kind === "notice" && task.notice === "first")
          throw toSlackFailure(slackRefusal("invalid_blocks"));
        sent.push(task.kind === "notice" ? task.notice : task.kind);
      },
      deadLetters,
    );
    expect(failed).toEqual([]);
    expect(sent).toEqual(["follow-up"]);
    expect(deadLetters.letters.map((l) => l.record.messageId)).toEqual([first.messageId]);
  });

  it("keeps any URL (a Slack webhook URL is a secret) out of the reason", async () => {
    const deadLetters = new FakeDeadLetterQueue();
    const secretPath = `T0/B0/${randomUUID()}`;
    await invoke(
      [record(notice("inc-2"))],
      async () => {
        throw new UnprocessableMessage(
          `Slack refused https://hooks.slack.com/services/${secretPath}: invalid_payload`,
          "slack-invalid_payload",
        );
      },
      deadLetters,
    );
    const reason = deadLetters.letters[0]?.cause.reason ?? "";
    expect(reason).toBe("Slack refused <url> invalid_payload");
    expect(reason).not.toContain(secretPath);
  });

  it("fails the record as before when the dead-letter queue refuses it: SQS retries and dead-letters it", async () => {
    const deadLetters = new FakeDeadLetterQueue();
    deadLetters.refuse = new TransientFailure("sqs:SendMessage throttled", "RequestThrottled");
    const log = new MemoryLog();
    const poison = record(notice("gone-2"));
    const failed = await invoke(
      [poison],
      async () => {
        throw new UnprocessableMessage("No incident gone-2 to notify about", "IncidentMissing");
      },
      deadLetters,
      log,
    );
    expect(failed).toEqual([poison.messageId]);
    expect(log.lines.find((l) => l.level === "ERROR")).toMatchObject({
      incidentId: "gone-2",
      moveError: "sqs:SendMessage throttled",
    });
  });
});

describe("a failure that may pass", () => {
  it("fails the record, so the group waits for its retry (Slack down, throttling)", async () => {
    const deadLetters = new FakeDeadLetterQueue();
    const slackDown = record(notice("inc-3"));
    const bug = record(notice("inc-4"));
    const failed = await invoke(
      [slackDown, bug],
      async (task) => {
        if (task.kind === "notice" && task.incidentId === "inc-3")
          throw new TransientFailure("Slack answered 503", "slack-503");
        // Not one of the responder's typed errors: retried, as errors.ts says of the unknown.
        throw new TypeError("Cannot read properties of undefined");
      },
      deadLetters,
    );
    expect(failed.sort()).toEqual([slackDown.messageId, bug.messageId].sort());
    expect(deadLetters.letters).toEqual([]);
  });

  it("fails the record when a person can lift the refusal (AccessDenied, a revoked token): the group waits for the fix", async () => {
    const deadLetters = new FakeDeadLetterQueue();
    const denied = record(notice("inc-5"));
    const revoked = record({ kind: "announce", lines: ["Follow-through: 3 open incident(s) checked."] });
    const failed = await invoke(
      [denied, revoked],
      async (task) => {
        if (task.kind === "notice") throw new PermanentFailure("s3:GetObject: AccessDenied", "AccessDenied");
        throw toSlackFailure(slackRefusal("token_revoked"));
      },
      deadLetters,
    );
    expect(failed.sort()).toEqual([denied.messageId, revoked.messageId].sort());
    expect(deadLetters.letters).toEqual([]);
  });
});

describe("the dead-letter queues' configuration", () => {
  const base = { INCIDENT_DIR: "/tmp/incidents", GITHUB_TOKEN: "t" };
  const client = { region: "us-east-1", maxAttempts: 1 };

  it("names the variable a stage function needs and does not have", () => {
    const config = loadRespondConfig({
      ...base,
      INVESTIGATION_DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/i-dlq.fifo",
    });
    expect(() => createDeadLetterQueue(config, "investigation", client)).not.toThrow();
    expect(() => createDeadLetterQueue(config, "notification", client)).toThrow(
      /^NOTIFICATION_DEAD_LETTER_QUEUE_URL is not set/,
    );
  });

  it("refuses a queue that is not FIFO, naming the variable (a FIFO queue's dead-letter queue is FIFO)", () => {
    expect(() =>
      loadRespondConfig({
        ...base,
        NOTIFICATION_DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/n-dlq",
      }),
    ).toThrow(/^NOTIFICATION_DEAD_LETTER_QUEUE_URL must be the URL of an SQS FIFO queue/);
  });
});
