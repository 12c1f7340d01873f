/**
 * The respond function: an SQS batch of queued alerts, each run through the containment playbook.
 * Failures are reported per record (partial batch response), so one bad alert never holds back the
 * others and a failed one is retried by SQS, then dead-lettered (with an alarm).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { withSsmSecrets } from "../src/adapters/aws/ssm-secrets.js";
import { loadRespondConfig, type RespondConfig } from "../src/config.js";
import { parseAlertJob } from "../src/domain/alert-job.js";
import { createLogger } from "../src/logger.js";
import { type PlaybookDeps, respondToAlert } from "../src/playbook/respond.js";
import { createPlaybookDeps } from "../src/responder.js";

const log = createLogger("respond");
const processor = new BatchProcessor(EventType.SQS);
let ready: Promise<{ deps: PlaybookDeps; config: RespondConfig }> | undefined;

function init(context: Context) {
  // The function's own ARN names the home account: one STS call fewer on a cold start.
  const homeAccountId = context.invokedFunctionArn.split(":")[4];
  ready ??= withSsmSecrets(process.env).then((env) => {
    const config = loadRespondConfig(env);
    return { config, deps: createPlaybookDeps(config, log, env, homeAccountId ? { homeAccountId } : {}) };
  });
  ready.catch(() => {
    ready = undefined;
  });
  return ready;
}

/** Kept after the deadline to store the snapshot's part and checkpoint, save the incident and notify. */
export const FINISH_MARGIN_MS = 60_000;

/** When the run stops starting slow work (snapshot pages): Lambda's remaining time less the margin. */
export function runDeadline(context: Pick<Context, "getRemainingTimeInMillis">, now = Date.now()): number {
  return now + Math.max(0, context.getRemainingTimeInMillis() - FINISH_MARGIN_MS);
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { deps, config } = await init(context);
  const recordHandler = async (record: SQSRecord) => {
    const job = parseAlertJob(record.body);
    const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
    const { incident, duplicate } = await respondToAlert(job, deps, {
      finalAttempt: receives >= config.maxReceiveCount,
      deadline: runDeadline(context),
    });
    log.info("alert handled", { incidentId: incident.id, status: incident.status, duplicate, receives });
    deps.log.removeKeys(["incidentId", "deliveryId"]);
  };
  return processPartialResponse(event, recordHandler, processor, { context });
}
