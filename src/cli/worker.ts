/**
 * `leak-responder worker --function contain|investigate|notify`: one deployed function's handler fed
 * by its queue, as Lambda's SQS event source mapping feeds it (src/adapters/local/sqs-poller.ts), for
 * running the deployed topology on one machine: `storm --workers N` starts N of these per queue.
 * The queue URLs and the responder's configuration come from the environment, as in Lambda.
 */
import { parseArgs } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import { pollQueue, type SqsBatchHandler } from "../adapters/local/sqs-poller.js";
import { InvalidInputError } from "../domain/errors.js";
import type { Log } from "../logger.js";
import { terminalLog } from "./terminal-log.js";

/** What each function's event source mapping is in serverless.yml: queue, batch size, timeout. */
export const STAGE_FUNCTIONS = {
  contain: { queueEnv: "ALERT_QUEUE_URL", batchSize: 1, timeoutSeconds: 300 },
  investigate: { queueEnv: "INVESTIGATION_QUEUE_URL", batchSize: 10, timeoutSeconds: 900 },
  notify: { queueEnv: "NOTIFICATION_QUEUE_URL", batchSize: 10, timeoutSeconds: 120 },
} as const;

export type StageFunction = keyof typeof STAGE_FUNCTIONS;

export function isStageFunction(name: string): name is StageFunction {
  return Object.hasOwn(STAGE_FUNCTIONS, name);
}

export async function stageHandler(name: StageFunction): Promise<SqsBatchHandler> {
  switch (name) {
    case "contain":
      return (await import("../../functions/contain.js")).handler;
    case "investigate":
      return (await import("../../functions/investigate.js")).handler;
    case "notify":
      return (await import("../../functions/notify.js")).handler;
  }
}

/** Polls the function's queue until `signal` aborts. */
export async function runStageWorker(
  name: StageFunction,
  options: {
    env: NodeJS.ProcessEnv;
    signal: AbortSignal;
    log: Pick<Log, "info" | "warn" | "error">;
    accountId?: string;
    /** A shorter timeout than the deployed function's (a test of a run that ends before its work). */
    functionTimeoutSeconds?: number;
  },
): Promise<void> {
  const stage = STAGE_FUNCTIONS[name];
  const queueUrl = options.env[stage.queueEnv]?.trim();
  if (!queueUrl) throw new InvalidInputError(`${stage.queueEnv} is not set: the ${name} worker has no queue`);
  const client = new SQSClient({ region: options.env.AWS_REGION ?? "us-east-1" });
  try {
    await pollQueue({
      client,
      queueUrl,
      handler: await stageHandler(name),
      batchSize: stage.batchSize,
      waitSeconds: 1,
      signal: options.signal,
      log: options.log,
      functionTimeoutSeconds: options.functionTimeoutSeconds ?? stage.timeoutSeconds,
      functionName: `leak-responder-local-${name}`,
      ...(options.accountId ? { accountId: options.accountId } : {}),
      retryDelayMs: 200,
    });
  } finally {
    client.destroy();
  }
}

export const workerCommand = {
  summary: "run one deployed function against its queue, as Lambda would (used by storm --workers)",
  async run(argv: string[]): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        function: { type: "string" },
        account: { type: "string" },
        help: { type: "boolean", default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(
        "usage: leak-responder worker --function contain|investigate|notify [--account ID]\n\nPolls the function's queue (ALERT_QUEUE_URL, INVESTIGATION_QUEUE_URL or NOTIFICATION_QUEUE_URL) and runs its Lambda handler on each batch, deleting what succeeded, until stopped (SIGTERM or Ctrl-C). investigate and notify also need their dead-letter queue (INVESTIGATION_DEAD_LETTER_QUEUE_URL, NOTIFICATION_DEAD_LETTER_QUEUE_URL), where a message that can never succeed goes at once. --account names the home account in the function's ARN.",
      );
      return 0;
    }
    const name = values.function ?? "";
    if (!isStageFunction(name))
      throw new InvalidInputError("--function must be contain, investigate or notify");
    const controller = new AbortController();
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => controller.abort());
    await runStageWorker(name, {
      env: process.env,
      signal: controller.signal,
      log: terminalLog(`worker ${name}`, { level: process.env.LOG_LEVEL }),
      ...(values.account ? { accountId: values.account } : {}),
    });
    return 0;
  },
};
