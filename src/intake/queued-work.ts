/**
 * What the respond function takes off the alert queue: an alert job the intake queued after
 * verifying GitHub's signature, an AWS Health exposure event, or the daily follow-through task
 * (EventBridge rules put those two there; besides them the stack lets only the intake's role send). Each is
 * validated; anything else fails loudly into the DLQ.
 */
import { type AlertJob, alertJobFrom, parseQueuedJson } from "../domain/alert-job.js";
import { InvalidInputError } from "../domain/errors.js";
import {
  type CredentialsExposure,
  looksLikeHealthEvent,
  parseCredentialsExposure,
} from "./aws-health-event.js";

export type QueuedWork =
  | { kind: "alert"; job: AlertJob }
  | { kind: "exposure"; exposure: CredentialsExposure }
  | { kind: "follow-through" };

/** The constant input of the daily schedule rule (serverless.yml, FollowThroughSchedule). */
export const FOLLOW_THROUGH_TASK = { source: "leak-responder.schedule", task: "follow-through" } as const;

export function parseQueuedWork(body: string): QueuedWork {
  const raw = parseQueuedJson(body);
  const scheduled = raw as { source?: unknown; task?: unknown } | null;
  if (scheduled?.source === FOLLOW_THROUGH_TASK.source) {
    if (scheduled.task !== FOLLOW_THROUGH_TASK.task) throw new InvalidInputError("Unknown scheduled task");
    return { kind: "follow-through" };
  }
  return looksLikeHealthEvent(raw)
    ? { kind: "exposure", exposure: parseCredentialsExposure(raw) }
    : { kind: "alert", job: alertJobFrom(raw) };
}
