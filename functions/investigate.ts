/**
 * The investigation function: steps 5-7 and the repository's issue for contained incidents, off the
 * investigation queue (SQS FIFO, a message group per AWS account: one account's CloudTrail is read by
 * one process at a time, so the API's 2 requests a second per account and region, paced within the
 * process, hold for the fleet), and the daily follow-through. A batch's incidents run side by side
 * and share the pace; one incident's messages (its continuations) run in order. It posts nothing
 * itself: messages go to the notification queue.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { coldStart, homeAccountOf, runDeadline } from "../src/adapters/aws/lambda-context.js";
import { createDeadLetterQueue, stageRecordHandler } from "../src/adapters/aws/poison-messages.js";
import { createStageQueues } from "../src/adapters/aws/sqs-stage-queues.js";
import { withSsmSecrets } from "../src/adapters/aws/ssm-secrets.js";
import { QueuedNotifier } from "../src/adapters/queued-notifier.js";
import { loadRespondConfig } from "../src/config.js";
import { parseInvestigationTask } from "../src/domain/stage-task.js";
import { createLogger } from "../src/logger.js";
import { runInvestigationTask } from "../src/playbook/investigation-stage.js";
import { createPlaybookDeps } from "../src/responder.js";
import { AWS_MAX_ATTEMPTS } from "../src/responder-core.js";

const log = createLogger("investigate");
const processor = new BatchProcessor(EventType.SQS);

const init = coldStart(async (context: Context) => {
  const env = await withSsmSecrets(process.env);
  const config = loadRespondConfig(env);
  const client = { region: env.AWS_REGION ?? "us-east-1", maxAttempts: AWS_MAX_ATTEMPTS };
  const stages = createStageQueues(config, client);
  const deadLetters = createDeadLetterQueue(config, "investigation", client);
  const deps = createPlaybookDeps(config, log, env, {
    ...homeAccountOf(context),
    notifier: new QueuedNotifier(stages),
  });
  return { config, deps: { ...deps, stages }, deadLetters };
});

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { deps, config, deadLetters } = await init(context);
  // A message that can never succeed goes to the dead-letter queue at once instead of holding the account.
  const recordHandler = stageRecordHandler(
    {
      parse: parseInvestigationTask,
      incidentOf: (task) => (task.kind === "investigate" ? task.incidentId : undefined),
      run: (task) =>
        runInvestigationTask(task, deps, {
          deadline: runDeadline(context),
          maxAttempts: config.maxReceiveCount,
          deleteProposalDays: config.deleteProposalDays,
        }),
    },
    { deadLetters, log },
  );
  try {
    return await processPartialResponse(event, recordHandler, processor, { context });
  } finally {
    // The accounts' pace is this process's to keep until their groups pass to another one.
    await deps.investigation?.pacer.quiet?.();
  }
}
