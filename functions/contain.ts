/**
 * The containment function: steps 1-4 for each queued alert (GitHub's, through the intake) or AWS
 * Health exposure notice (through EventBridge). It deactivates the key, revokes its sessions,
 * resolves the alert, records the incident, and hands the rest to the investigation and notification
 * queues: its bundle holds nothing else, so a cold start at 2 AM loads only what contains the key.
 * Failures are reported per record; a failed one is retried by SQS, then dead-lettered (with an alarm).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { coldStart, homeAccountOf, receiveCountOf, runDeadline } from "../src/adapters/aws/lambda-context.js";
import { createStageQueues } from "../src/adapters/aws/sqs-stage-queues.js";
import { withSsmSecrets } from "../src/adapters/aws/ssm-secrets.js";
import { QueuedNotifier } from "../src/adapters/queued-notifier.js";
import { loadRespondConfig } from "../src/config.js";
import { parseQueuedWork } from "../src/intake/queued-work.js";
import { createLogger } from "../src/logger.js";
import { respondToAlert, respondToExposure } from "../src/playbook/respond.js";
import { AWS_MAX_ATTEMPTS, createCoreDeps } from "../src/responder-core.js";

const log = createLogger("contain");
const processor = new BatchProcessor(EventType.SQS);

const init = coldStart(async (context: Context) => {
  const env = await withSsmSecrets(process.env);
  const config = loadRespondConfig(env);
  const stages = createStageQueues(config, {
    region: env.AWS_REGION ?? "us-east-1",
    maxAttempts: AWS_MAX_ATTEMPTS,
  });
  const {
    github: _github,
    evidence: _evidence,
    region: _region,
    ...core
  } = createCoreDeps(config, log, env, homeAccountOf(context));
  return { config, deps: { ...core, stages, notifier: new QueuedNotifier(stages) } };
});

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { deps, config } = await init(context);
  const recordHandler = async (record: SQSRecord) => {
    const work = parseQueuedWork(record.body);
    const receives = receiveCountOf(record);
    const options = { finalAttempt: receives >= config.maxReceiveCount, deadline: runDeadline(context) };
    const results =
      work.kind === "alert"
        ? [await respondToAlert(work.job, deps, options)]
        : await respondToExposure(work.exposure, deps, options);
    for (const { incident, duplicate } of results) {
      log.info(`${work.kind} handled`, {
        incidentId: incident.id,
        status: incident.status,
        duplicate,
        receives,
      });
    }
    deps.log.removeKeys(["incidentId", "deliveryId"]);
  };
  return processPartialResponse(event, recordHandler, processor, { context });
}
