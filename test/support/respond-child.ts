/**
 * One delivery of a queued alert job in a process of its own, as one Lambda invocation runs it
 * (functions/respond.ts without the SQS wrapper), so that test/e2e/crash-resume.test.ts can kill
 * it with SIGKILL at any point and start another on the same job, as SQS would redeliver it.
 *
 * Input: the job's JSON (the body the intake queued) in RESPOND_JOB; the responder's configuration
 * in the environment (sandbox/scenario.ts demoEnv); RESPOND_CLOCK_OFFSET_MS moves the playbook's
 * clock forward (a redelivery after the queue's visibility timeout sees the dead run's lease as
 * that much older). Prints one JSON line `{ "result": ... }` and exits 0 when the playbook returned,
 * prints `{ "error": ... }` and exits 1 when it threw (SQS would deliver the message again).
 */
import { loadRespondConfig } from "../../src/config.js";
import { parseAlertJob } from "../../src/domain/alert-job.js";
import { errorMessage } from "../../src/domain/errors.js";
import { MemoryLog } from "../../src/logger.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import { createPlaybookDeps } from "../../src/responder.js";

export async function main(): Promise<number> {
  const job = parseAlertJob(process.env.RESPOND_JOB ?? "");
  const offsetMs = Number(process.env.RESPOND_CLOCK_OFFSET_MS ?? "0") || 0;
  const config = loadRespondConfig(process.env);
  const log = new MemoryLog();
  const deps = createPlaybookDeps(config, log, process.env, {
    clock: { now: () => new Date(Date.now() + offsetMs) },
    // The sandbox answers at once; GitHub's retry pauses would only slow the test.
    githubRetryBaseMs: 10,
  });
  try {
    const { incident, duplicate } = await respondToAlert(job, deps, { finalAttempt: false });
    process.stdout.write(`${JSON.stringify({ result: { status: incident.status, duplicate } })}\n`);
    return 0;
  } catch (error: unknown) {
    process.stdout.write(
      `${JSON.stringify({ error: errorMessage(error), log: log.lines.filter((l) => l.level !== "DEBUG") })}\n`,
    );
    return 1;
  }
}

// Exit at once: idle keep-alive sockets must not hold a finished delivery open.
process.exit(await main());
