/**
 * What the containment function takes off the alert queue: an alert job the intake queued after
 * verifying GitHub's signature, or an AWS Health exposure event (an EventBridge rule puts those
 * there; besides it the stack lets only the intake's role send). Each is validated; anything else
 * fails loudly into the DLQ. The daily follow-through goes to the investigation queue (stage-task.ts).
 */
import { type AlertJob, alertJobFrom, parseQueuedJson } from "../domain/alert-job.js";
import {
  type CredentialsExposure,
  looksLikeHealthEvent,
  parseCredentialsExposure,
} from "./aws-health-event.js";

export type QueuedWork =
  | { kind: "alert"; job: AlertJob }
  | { kind: "exposure"; exposure: CredentialsExposure };

export function parseQueuedWork(body: string): QueuedWork {
  const raw = parseQueuedJson(body);
  return looksLikeHealthEvent(raw)
    ? { kind: "exposure", exposure: parseCredentialsExposure(raw) }
    : { kind: "alert", job: alertJobFrom(raw) };
}
