/**
 * The notification function: every message to the owners' Slack channel, off the notification
 * queue (SQS FIFO with one message group, so one process at a time posts, at the channel's pace of
 * about one message a second for the whole fleet). A batch's messages about different incidents go
 * out together (a burst of first messages becomes one digest); one incident's go out in order, and
 * when one fails, that incident's later messages wait for its retry.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { coldStart, homeAccountOf, receiveCountOf } from "../src/adapters/aws/lambda-context.js";
import {
  createDeadLetterQueue,
  stageRecordHandler,
  wasDeadLettered,
} from "../src/adapters/aws/poison-messages.js";
import { withSsmSecrets } from "../src/adapters/aws/ssm-secrets.js";
import { loadRespondConfig } from "../src/config.js";
import { type NotificationTask, parseNotificationTask } from "../src/domain/stage-task.js";
import { createLogger } from "../src/logger.js";
import type { TellDeps } from "../src/playbook/after-containment.js";
import { runNotificationTask } from "../src/playbook/notification-stage.js";
import { createPlaybookDeps } from "../src/responder.js";
import { AWS_MAX_ATTEMPTS } from "../src/responder-core.js";

const log = createLogger("notify");
const processor = new BatchProcessor(EventType.SQS);

const init = coldStart(async (context: Context) => {
  const env = await withSsmSecrets(process.env);
  // It reaches neither GitHub nor IAM: only the store and Slack.
  const config = loadRespondConfig(env, { github: "optional" });
  const full = createPlaybookDeps(config, log, env, homeAccountOf(context));
  const evidence = full.investigation?.evidence;
  if (!evidence) throw new Error("the responder has no evidence store");
  const deps: TellDeps = {
    incidents: full.incidents,
    notifier: full.notifier,
    log,
    clock: full.clock,
    evidence,
  };
  const deadLetters = createDeadLetterQueue(config, "notification", {
    region: env.AWS_REGION ?? "us-east-1",
    maxAttempts: AWS_MAX_ATTEMPTS,
  });
  return { config, deps, deadLetters };
});

function incidentOf(task: NotificationTask): string | undefined {
  return task.kind === "unrecorded"
    ? task.incident.id
    : task.kind === "announce"
      ? undefined
      : task.incidentId;
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { deps, config, deadLetters } = await init(context);
  // One incident's messages in the batch's order, different incidents' side by side; a message that
  // can never be sent goes to the dead-letter queue at once instead of holding the channel.
  const recordHandler = stageRecordHandler(
    {
      parse: parseNotificationTask,
      incidentOf,
      run: (task, record) => {
        const receives = receiveCountOf(record);
        return runNotificationTask(task, deps, {
          redelivered: receives > 1 || wasDeadLettered(record),
          finalAttempt: receives >= config.maxReceiveCount,
        });
      },
    },
    { deadLetters, log },
  );
  try {
    return await processPartialResponse(event, recordHandler, processor, { context });
  } finally {
    // The channel's pace is this process's to keep until the queue's group passes to another one.
    await deps.notifier.quiet?.();
  }
}
