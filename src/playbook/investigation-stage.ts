/**
 * The investigation stage (issue 13): steps 5-7 and the repository's issue for one contained
 * incident, taken off a FIFO queue whose message group is the key's AWS account. SQS hands one
 * account's messages to one process at a time, so CloudTrail's 2 requests a second per account and
 * region (facts.md), paced within the process, hold for the whole fleet; the function waits out the
 * pace before letting go of the group (functions/investigate.ts), so the next one may start at once.
 *
 * A snapshot that runs out of time, or a step that failed for a passing reason, is handed to a
 * fresh message at the back of the account's line, instead of holding the group for a visibility
 * timeout while the account's other incidents wait.
 */
import { errorMessage, TransientFailure, UnprocessableMessage } from "../domain/errors.js";
import { isContained } from "../domain/incident.js";
import type { InvestigationTask } from "../domain/stage-task.js";
import { withKeys } from "../logger.js";
import type { AlertRef, StageQueues } from "../ports.js";
import { investigateAndPlan } from "./after-containment.js";
import { followThrough } from "./follow-through.js";
import type { PlaybookDeps } from "./respond.js";

export interface InvestigationOptions {
  /** Stop starting slow work (snapshot pages) after this time, ms since epoch. */
  deadline: number;
  /** Attempts at a failing step before it is recorded as given up (the queue's maxReceiveCount). */
  maxAttempts: number;
  deleteProposalDays: number;
  /** Waits before a failed step is tried again (tests shorten it). */
  retryDelayMs?: (attempt: number) => number;
  sleep?: (ms: number) => Promise<void>;
}

export type InvestigationStageDeps = PlaybookDeps & { stages: StageQueues };

const SNAPSHOT_CONTINUES = "SnapshotContinues";

/**
 * Fresh runs one snapshot may take (each continues from the checkpoint of the one before, about 14
 * minutes each): the run past this reads no further and records the snapshot as PARTIAL (which
 * regions and times were not read); the parts already stored are the evidence, analysed and planned
 * from like a whole one, and every message and report says the verdict rests on partial evidence.
 */
export const MAX_CONTINUATIONS = 24;

/** 2, 4, 8... seconds, at most 30: a dependency's passing trouble, not a storm of retries. */
function defaultRetryDelay(attempt: number): number {
  return Math.min(30_000, 2_000 * 2 ** attempt);
}

export async function runInvestigationTask(
  task: InvestigationTask,
  deps: InvestigationStageDeps,
  options: InvestigationOptions,
): Promise<void> {
  if (task.kind === "follow-through") {
    const { checked, failed, continueFrom } = await followThrough(deps, {
      deleteProposalDays: options.deleteProposalDays,
      deadline: options.deadline,
      ...(task.resume ? { resume: task.resume } : {}),
    });
    if (continueFrom) {
      // The rest of the day's incidents in a fresh run, behind this one in the follow-through's group.
      await deps.stages.investigate({ kind: "follow-through", resume: continueFrom });
      deps.log.info("follow-through continues in a fresh run", {
        checked: checked.length,
        failed: failed.length,
        after: continueFrom.after,
        part: continueFrom.part,
      });
      return;
    }
    deps.log.info("follow-through done", { checked: checked.length, failed: failed.length });
    return;
  }
  // Incidents of one batch run side by side: each line names its own.
  await investigateIncident(
    task,
    { ...deps, log: withKeys(deps.log, { incidentId: task.incidentId }) },
    options,
  );
}

async function investigateIncident(
  task: Extract<InvestigationTask, { kind: "investigate" }>,
  deps: InvestigationStageDeps,
  options: InvestigationOptions,
): Promise<void> {
  const stored = await deps.incidents.get(task.incidentId);
  if (!stored)
    throw new UnprocessableMessage(`No incident ${task.incidentId} to investigate`, "IncidentMissing");
  const { incident } = stored;
  if (!isContained(incident.status)) {
    deps.log.info("incident not contained: nothing to investigate", { status: incident.status });
    return;
  }
  const ref: AlertRef | undefined =
    incident.repository && incident.alertNumber !== undefined
      ? {
          repository: incident.repository,
          alertNumber: incident.alertNumber,
          ...(incident.installationId === undefined ? {} : { installationId: incident.installationId }),
        }
      : undefined;
  // Past the limit the snapshot reads no further and what is stored is judged; a passing failure in
  // that judging (an S3 read, GitHub) is still retried like any other, or 24 runs of evidence go unread.
  const snapshotRunsUsed = task.continuation >= MAX_CONTINUATIONS;
  const finalAttempt = task.attempt + 1 >= options.maxAttempts;
  const done = await investigateAndPlan(stored, deps, ref, {
    deadline: options.deadline,
    finalAttempt,
    snapshotRunsUsed,
  });
  const pending = done.retryable;
  if (pending.length === 0) {
    await deps.stages.notify({ kind: "notice", incidentId: incident.id, notice: "follow-up" });
    return;
  }
  const continues = pending.every(
    (error) => error instanceof TransientFailure && error.code === SNAPSHOT_CONTINUES,
  );
  if (continues) {
    deps.log.info("snapshot continues in a fresh run", { continuation: task.continuation + 1 });
    await deps.stages.investigate({ ...task, continuation: task.continuation + 1 });
    return;
  }
  const wait = (options.retryDelayMs ?? defaultRetryDelay)(task.attempt);
  deps.log.warn("investigation steps to try again", {
    attempt: task.attempt + 1,
    waitMs: wait,
    errors: pending.map(errorMessage),
  });
  // Never past the deadline: the hand-over itself must still fit in the invocation.
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  await sleep(Math.max(0, Math.min(wait, options.deadline - Date.now())));
  await deps.stages.investigate({ ...task, attempt: task.attempt + 1 });
}
