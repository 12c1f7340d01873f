/**
 * The respond function: an SQS batch of queued alerts (GitHub's, through the intake, or AWS Health's
 * exposure notices, through EventBridge), each run through the containment playbook; and the daily
 * follow-through task a schedule puts on the same queue.
 * Failures are reported per record (partial batch response), so one bad alert never holds back the
 * others and a failed one is retried by SQS, then dead-lettered (with an alarm).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { withSsmSecrets } from "../src/adapters/aws/ssm-secrets.js";
import { loadRespondConfig, type RespondConfig } from "../src/config.js";
import { parseQueuedWork } from "../src/intake/queued-work.js";
import { createLogger } from "../src/logger.js";
import { followThrough } from "../src/playbook/follow-through.js";
import { type PlaybookDeps, respondToAlert, respondToExposure } from "../src/playbook/respond.js";
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
    const work = parseQueuedWork(record.body);
    const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
    const options = { finalAttempt: receives >= config.maxReceiveCount, deadline: runDeadline(context) };
    if (work.kind === "follow-through") {
      const { checked, failed } = await followThrough(deps, {
        deleteProposalDays: config.deleteProposalDays,
      });
      log.info("follow-through done", { checked: checked.length, failed: failed.length });
      return;
    }
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
