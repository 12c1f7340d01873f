/**
 * Poison messages on the stages' FIFO queues. A failed message holds its whole message group (one
 * account's investigations, or the Slack channel) until it is visible again, and SQS dead-letters it
 * only after maxReceiveCount deliveries: 5 x 300 s of a silent channel, or 5 x 1,800 s of an account
 * waiting. A message that is itself the problem (a body that does not parse, an incident that does
 * not exist, content Slack refuses: isPoison) is moved by the function itself to its queue's
 * dead-letter queue at once, with why, and acknowledged, so the group moves on; the dead-letter
 * queue's alarm makes it loud. Any other failure (Slack down, throttling, an AccessDenied a person is
 * fixing) still fails the record: holding the group is then what keeps one incident's order and the
 * pace. If the move fails, the record fails as before and SQS retries and dead-letters it itself:
 * nothing is lost.
 */
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import type { RespondConfig } from "../../config.js";
import {
  ConfigError,
  errorMessage,
  InvalidInputError,
  TransientFailure,
  UnprocessableMessage,
} from "../../domain/errors.js";
import type { Log } from "../../logger.js";
import { toResponderError } from "./aws-errors.js";
import { inOrderPerKey, receiveCountOf } from "./lambda-context.js";
import { awsRequestHandler } from "./request-handler.js";

/** Why a message was dead-lettered, as its message attributes say it (nothing secret in any). */
export interface PoisonCause {
  /** The error's class: `InvalidInputError`, `PermanentFailure`... */
  errorName: string;
  /** A PermanentFailure's code (`IncidentMissing`, `slack-invalid_blocks`...). */
  errorCode?: string;
  /** The error's message, short, with any URL left out (a Slack webhook URL is a secret). */
  reason: string;
}

/** The message attributes a dead-lettered message carries (README, Operations: replaying the DLQs). */
export const POISON_ATTRIBUTES = {
  errorName: "deadLetterError",
  errorCode: "deadLetterCode",
  reason: "deadLetterReason",
  originalMessageId: "deadLetterOriginalMessageId",
  receiveCount: "deadLetterReceiveCount",
} as const;

/** A stage queue's dead-letter queue, as the function writes to it. */
export interface DeadLetterQueue {
  /** The record's body unchanged, in its message group, with the cause as message attributes. */
  put(record: SQSRecord, cause: PoisonCause): Promise<void>;
}

/**
 * The message came back from the dead-letter queue the function moved it to (a redrive keeps the
 * attributes, but the receive count starts again): an earlier delivery may have done part of it.
 */
export function wasDeadLettered(record: SQSRecord): boolean {
  return record.messageAttributes?.[POISON_ATTRIBUTES.originalMessageId] !== undefined;
}

const REASON_MAX_CHARS = 256;
/** SQS allows 10 message attributes; ours take 5, the original's (incidentId) keep the rest. */
const MAX_ORIGINAL_ATTRIBUTES = 5;

export function poisonCause(error: unknown): PoisonCause {
  const name = error instanceof Error ? error.name : "Error";
  const code =
    typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
      ? error.code
      : undefined;
  const reason = errorMessage(error)
    .replace(/\bhttps?:\/\/\S+/gi, "<url>")
    .slice(0, REASON_MAX_CHARS);
  return { errorName: name, ...(code ? { errorCode: code } : {}), reason: reason || name };
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  readonly #client: SQSClient;
  readonly #url: string;

  constructor(client: SQSClient, url: string) {
    this.#client = client;
    this.#url = url;
  }

  async put(record: SQSRecord, cause: PoisonCause): Promise<void> {
    const attributes: Record<string, { DataType: string; StringValue: string }> = {};
    for (const [name, value] of Object.entries(record.messageAttributes ?? {}).slice(
      0,
      MAX_ORIGINAL_ATTRIBUTES,
    )) {
      if (value.stringValue && (value.dataType === "String" || value.dataType === "Number"))
        attributes[name] = { DataType: value.dataType, StringValue: value.stringValue };
    }
    const text = (StringValue: string) => ({ DataType: "String", StringValue });
    attributes[POISON_ATTRIBUTES.errorName] = text(cause.errorName);
    if (cause.errorCode) attributes[POISON_ATTRIBUTES.errorCode] = text(cause.errorCode);
    attributes[POISON_ATTRIBUTES.reason] = text(cause.reason);
    attributes[POISON_ATTRIBUTES.originalMessageId] = text(record.messageId);
    attributes[POISON_ATTRIBUTES.receiveCount] = {
      DataType: "Number",
      StringValue: String(receiveCountOf(record)),
    };
    let messageId: string | undefined;
    try {
      messageId = (
        await this.#client.send(
          new SendMessageCommand({
            QueueUrl: this.#url,
            // Unchanged, so a redrive hands the stage exactly what it was given.
            MessageBody: record.body,
            ...(record.attributes.MessageGroupId ? { MessageGroupId: record.attributes.MessageGroupId } : {}),
            // The original message's id: a move repeated within SQS's 5-minute deduplication window
            // (a run that died before acknowledging, redelivered at once) is stored once; one repeated
            // later is stored twice, and the stages read the incident, so a redrive repeats nothing
            // already recorded as done. A redriven message gets a new id: its own move is never swallowed.
            MessageDeduplicationId: record.messageId,
            MessageAttributes: attributes,
          }),
        )
      ).MessageId;
    } catch (error: unknown) {
      throw toResponderError(error, "sqs:SendMessage");
    }
    if (!messageId) throw new TransientFailure("sqs:SendMessage returned no MessageId", "NoMessageId");
  }
}

/** The function's own dead-letter queue, from the configuration (which must name it). */
export function createDeadLetterQueue(
  config: Pick<RespondConfig, "deadLetterQueues" | "callTimeoutMs">,
  stage: "investigation" | "notification",
  client: { region: string; maxAttempts: number },
): SqsDeadLetterQueue {
  const url = config.deadLetterQueues[stage];
  if (!url) {
    const variable =
      stage === "investigation"
        ? "INVESTIGATION_DEAD_LETTER_QUEUE_URL"
        : "NOTIFICATION_DEAD_LETTER_QUEUE_URL";
    throw new ConfigError(
      `${variable} is not set: a message that can never succeed would hold its queue's group for every retry`,
    );
  }
  return new SqsDeadLetterQueue(
    new SQSClient({ ...client, requestHandler: awsRequestHandler(config.callTimeoutMs) }),
    url,
  );
}

/**
 * The message itself is the problem: a body that is not a task (InvalidInputError), or a task no fix
 * around it can carry out (UnprocessableMessage: no such incident, content Slack refuses as such).
 * Any other failure may pass, or pass once a person fixes what it names (an AccessDenied, a revoked
 * token): that one holds the group through SQS's retries as before, since every message behind it
 * would fail the same way, and draining them all into the dead-letter queue would only reorder them.
 */
export function isPoison(error: unknown): boolean {
  return error instanceof InvalidInputError || error instanceof UnprocessableMessage;
}

/**
 * A record that failed: a poison one is moved to the dead-letter queue and so acknowledged; any
 * other, or one whose move fails, is thrown again for SQS to retry.
 */
export async function deadLetterIfPoison(
  record: SQSRecord,
  error: unknown,
  incidentId: string | undefined,
  deps: { deadLetters: DeadLetterQueue; log: Log },
): Promise<void> {
  if (!isPoison(error)) throw error;
  const cause = poisonCause(error);
  const about = {
    ...(incidentId ? { incidentId } : {}),
    messageId: record.messageId,
    receiveCount: receiveCountOf(record),
    error: cause.errorName,
    ...(cause.errorCode ? { code: cause.errorCode } : {}),
    reason: cause.reason,
  };
  try {
    await deps.deadLetters.put(record, cause);
  } catch (moveError: unknown) {
    deps.log.error(
      "a message that cannot succeed could not be moved to the dead-letter queue: SQS retries it",
      {
        ...about,
        moveError: errorMessage(moveError),
      },
    );
    throw error;
  }
  deps.log.error("message moved to the dead-letter queue: no delivery can make it succeed", about);
}

/** What a stage function does with one of its queue's messages. */
export interface StageRecords<T> {
  parse(body: string): T;
  /** The incident a task is about; tasks about none (the daily task, a summary) keep one order. */
  incidentOf(task: T): string | undefined;
  run(task: T, record: SQSRecord): Promise<void>;
}

/**
 * One invocation's record handler for a stage queue: one incident's records run in the batch's
 * order (inOrderPerKey), other incidents' side by side, and a poison record is dead-lettered in its
 * place in that order, so the incident's records after it run as they would in a later batch.
 */
export function stageRecordHandler<T>(
  stage: StageRecords<T>,
  deps: { deadLetters: DeadLetterQueue; log: Log },
): (record: SQSRecord) => Promise<void> {
  const inOrder = inOrderPerKey();
  return async (record) => {
    let task: T;
    try {
      task = stage.parse(record.body);
    } catch (error: unknown) {
      // The stages name the incident in an attribute too (sqs-stage-queues.ts): the log can say which.
      return deadLetterIfPoison(record, error, record.messageAttributes?.incidentId?.stringValue, deps);
    }
    const incidentId = stage.incidentOf(task);
    await inOrder(incidentId ?? "", () =>
      stage.run(task, record).catch((error: unknown) => deadLetterIfPoison(record, error, incidentId, deps)),
    );
  };
}
