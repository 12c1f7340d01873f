/**
 * JobQueue on Amazon SQS (design.md: Queue). The client is built once per module by the caller and
 * passed in (style.md), so the same adapter runs against AWS or the sandbox via AWS_ENDPOINT_URL_SQS.
 */
import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from "@aws-sdk/client-sqs";
import type { AlertJob } from "../../domain/alert-job.js";
import { TransientFailure } from "../../domain/errors.js";
import type { JobQueue } from "../../ports.js";
import { toResponderError } from "./aws-errors.js";

export class SqsJobQueue implements JobQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #fifo: boolean;

  constructor(client: SQSClient, queueUrl: string) {
    this.#client = client;
    this.#queueUrl = queueUrl;
    this.#fifo = queueUrl.endsWith(".fifo");
  }

  async send(job: AlertJob): Promise<{ messageId: string }> {
    const input: SendMessageCommandInput = {
      QueueUrl: this.#queueUrl,
      MessageBody: JSON.stringify(job),
      MessageAttributes: {
        // Lets an operator filter or replay the DLQ by incident without parsing bodies.
        incidentId: { DataType: "String", StringValue: job.incidentId },
      },
      // On a FIFO queue SQS itself drops GitHub's redeliveries (same delivery id within 5 minutes) and
      // keeps one alert's messages in order; a standard queue relies on the incident's conditional write.
      ...(this.#fifo ? { MessageGroupId: job.incidentId, MessageDeduplicationId: job.deliveryId } : {}),
    };
    let messageId: string | undefined;
    try {
      messageId = (await this.#client.send(new SendMessageCommand(input))).MessageId;
    } catch (error: unknown) {
      throw toResponderError(error, "sqs:SendMessage");
    }
    if (!messageId) throw new TransientFailure("sqs:SendMessage returned no MessageId", "NoMessageId");
    return { messageId };
  }
}
