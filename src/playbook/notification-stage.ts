/**
 * The notification stage (issue 13): every message to the owners' channel, taken off one queue whose
 * single message group is the channel, so one process at a time posts there and Slack's pace of
 * about a message a second (facts.md) holds for the whole fleet, not only within one process.
 *
 * A task names what an incident is due; the stage reads the incident and sends only what it does not
 * record as sent, so a task delivered twice, or handed over twice, posts once.
 */
import { errorMessage, UnprocessableMessage } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";
import { isContained } from "../domain/incident.js";
import type { NotificationTask } from "../domain/stage-task.js";
import type { StoredIncident } from "../ports.js";
import { type TellDeps, tellAndReport } from "./after-containment.js";
import { givenUp, NOT_TOLD, warnOnce } from "./failure-policy.js";
import { KIND, notifiedSinceRecorded } from "./first-notice.js";
import { incidentSaver } from "./incident-saver.js";
import { noticeDetail, sendNoticeOnce } from "./notice-once.js";

export interface NotificationOptions {
  /** The queue delivered this task before: a run may have died after posting and before recording. */
  redelivered: boolean;
  /** The queue will not deliver it again: a failure is recorded, not retried. */
  finalAttempt: boolean;
}

export async function runNotificationTask(
  task: NotificationTask,
  deps: TellDeps,
  options: NotificationOptions,
): Promise<void> {
  switch (task.kind) {
    case "unrecorded":
      // Nothing to record it on: a dry run, or an incident the store refused (respond.ts says so).
      await deps.notifier.notify(
        task.incident,
        task.notice,
        options.redelivered ? { possibleRepeat: true } : {},
      );
      return;
    case "announce":
      await deps.notifier.announce?.(task.lines);
      return;
    case "remind":
      await deps.notifier.remind?.((await read(task.incidentId, deps)).incident, task.lines);
      return;
    case "notice": {
      const stored = await read(task.incidentId, deps);
      if (task.notice === "first") await sendFirst(stored, deps, options);
      else await sendFollowUp(stored, deps, options);
      return;
    }
  }
}

async function read(id: string, deps: TellDeps): Promise<StoredIncident> {
  const stored = await deps.incidents.get(id);
  // Only the responder's stages send here: a task for no incident is a bug worth the dead-letter alarm.
  if (!stored) throw new UnprocessableMessage(`No incident ${id} to notify about`, "IncidentMissing");
  return stored;
}

/** Step 4's message, with what the incident is now (a retry that contained it since is news). */
async function sendFirst(
  stored: StoredIncident,
  deps: TellDeps,
  options: NotificationOptions,
): Promise<void> {
  if (notifiedSinceRecorded(stored.incident)) return;
  let current = stored;
  const save = incidentSaver(
    deps,
    () => current,
    (next) => {
      current = next;
    },
  );
  const incident: Incident = stored.incident;
  const kind = KIND[incident.status];
  const started = deps.clock.now();
  try {
    const sent = await sendNoticeOnce({
      notifier: deps.notifier,
      log: deps.log,
      incident,
      kind,
      mayHaveBeenSent: options.redelivered,
      send: (notice) => deps.notifier.notify(incident, kind, notice),
    });
    await save((t, draft) => {
      t.record("notified", "done", noticeDetail(`Owners notified (${kind})`, sent), started);
      if (sent.receipt?.ts) {
        draft.notifications = {
          slack: { ...(sent.receipt.channel ? { channel: sent.receipt.channel } : {}), ts: sent.receipt.ts },
        };
      }
    });
  } catch (error: unknown) {
    deps.log.error("notification failed", { error: errorMessage(error), status: incident.status });
    const gaveUp = givenUp(error, options);
    await save((t, draft) => {
      t.record("notified", "failed", errorMessage(error), started);
      if (gaveUp) warnOnce(draft, `${NOT_TOLD}: ${errorMessage(error)}`);
    });
    // Slack refusing for good is said on the incident, in the issue and the report, not retried.
    if (!gaveUp) throw error;
  }
}

async function sendFollowUp(
  stored: StoredIncident,
  deps: TellDeps,
  options: NotificationOptions,
): Promise<void> {
  if (!isContained(stored.incident.status)) return;
  const told = await tellAndReport(stored, deps, options, { mayHaveBeenSent: options.redelivered });
  const [first] = told.retryable;
  if (first !== undefined) throw first;
}
