/**
 * Step 4's message, the first the owners get about an incident: which kind its status calls for,
 * and whether it went out since the incident was last recorded. Shared by the playbook (one process)
 * and the notification stage (AWS), which sends it when containment hands it over.
 */
import type { Incident, IncidentStatus } from "../domain/incident.js";
import type { NotificationKind } from "../ports.js";

export const KIND: Record<IncidentStatus, NotificationKind> = {
  contained: "contained",
  "contained-with-warnings": "partial",
  escalated: "escalated",
  "not-ours": "not-ours",
  "dry-run": "dry-run",
  failed: "failed",
};

/** The first message for the incident as last recorded: a failed incident retried and contained is news. */
export function notifiedSinceRecorded(incident: Incident): boolean {
  const recorded = incident.timeline.findLastIndex(
    (e) => e.step === "incident-recorded" && e.outcome === "done",
  );
  return incident.timeline.some((e, i) => i > recorded && e.step === "notified" && e.outcome === "done");
}
