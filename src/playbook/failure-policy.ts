/**
 * How the playbook treats a step that failed: retried by the next delivery while one will come and
 * the failure may pass, otherwise given up, recorded once as a warning a person reads (on the
 * incident, in Slack, the issue and the report), and never retried into the dead-letter queue.
 */
import { isRetryable } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";

/** A failure no later delivery will retry: a permanent one, or any on the last delivery. */
export function givenUp(error: unknown, options: { finalAttempt?: boolean }): boolean {
  return !isRetryable(error) || options.finalAttempt === true;
}

/** Redeliveries meet the same failure again: each warning stands on the incident once. */
export function warnOnce(draft: Incident, warning: string): void {
  if (!draft.warnings.includes(warning)) draft.warnings.push(warning);
}

/** The warning a person reads when the owners could not be told in Slack. */
export const NOT_TOLD = "The owners were NOT told in Slack";
