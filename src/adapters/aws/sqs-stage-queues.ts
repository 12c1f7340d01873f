/**
 * The queues between the deployed stages (stage-task.ts) on SQS FIFO. The investigation queue's
 * message group is the AWS account, the notification queue's is the Slack channel: SQS hands a
 * group's messages to one consumer at a time and in order, which is what makes CloudTrail's and
 * Slack's rate limits hold across every process (investigation-stage.ts, notification-stage.ts).
 * The deduplication id is the body's SHA-256: a hand-over repeated within SQS's 5-minute window
 * (a redelivered containment, say) is taken in once.
 */
import { createHash } from "node:crypto";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { RespondConfig } from "../../config.js";
import { ConfigError, TransientFailure } from "../../domain/errors.js";
import {
  FOLLOW_THROUGH_GROUP,
  type InvestigationTask,
  type NotificationTask,
} from "../../domain/stage-task.js";
import type { StageQueues } from "../../ports.js";
import { toResponderError } from "./aws-errors.js";

/** The deployed stages' queues, from the configuration (which must name both). */
export function createStageQueues(
  config: Pick<RespondConfig, "stageQueues">,
  client: { region: string; maxAttempts: number },
): SqsStageQueues {
  if (!config.stageQueues) {
    throw new ConfigError("INVESTIGATION_QUEUE_URL and NOTIFICATION_QUEUE_URL must be set for the stages");
  }
  return new SqsStageQueues(new SQSClient(client), config.stageQueues);
}

/** The notification queue has one group: every message goes to the one channel. */
export const NOTIFICATION_GROUP = "slack-channel";

export class SqsStageQueues implements StageQueues {
  readonly #client: SQSClient;
  readonly #urls: { investigation: string; notification: string };

  constructor(client: SQSClient, urls: { investigation: string; notification: string }) {
    this.#client = client;
    this.#urls = urls;
  }

  investigate(task: InvestigationTask): Promise<void> {
    // The follow-through's parts share the schedule's group: one part at a time, in order.
    if (task.kind === "follow-through")
      return this.#send(this.#urls.investigation, FOLLOW_THROUGH_GROUP, task, undefined);
    return this.#send(this.#urls.investigation, task.accountId, task, task.incidentId);
  }

  notify(task: NotificationTask): Promise<void> {
    const incidentId =
      task.kind === "unrecorded" ? task.incident.id : task.kind === "announce" ? undefined : task.incidentId;
    return this.#send(this.#urls.notification, NOTIFICATION_GROUP, task, incidentId);
  }

  async #send(queueUrl: string, group: string, task: object, incidentId: string | undefined): Promise<void> {
    const body = JSON.stringify(task);
    let messageId: string | undefined;
    try {
      messageId = (
        await this.#client.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: body,
            MessageGroupId: group,
            MessageDeduplicationId: createHash("sha256").update(body).digest("hex"),
            // Lets an operator find an incident's messages in the dead-letter queue without parsing bodies.
            ...(incidentId
              ? { MessageAttributes: { incidentId: { DataType: "String", StringValue: incidentId } } }
              : {}),
          }),
        )
      ).MessageId;
    } catch (error: unknown) {
      throw toResponderError(error, "sqs:SendMessage");
    }
    if (!messageId) throw new TransientFailure("sqs:SendMessage returned no MessageId", "NoMessageId");
  }
}
