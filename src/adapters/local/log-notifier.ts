/**
 * The notifier when no Slack is configured: the incident goes to the log at a level that matches
 * its urgency, so nothing is silent even before Slack is set up.
 */
import type { Incident } from "../../domain/incident.js";
import type { Log } from "../../logger.js";
import type { FollowUp, NotificationKind, NotificationReceipt, Notifier } from "../../ports.js";

export class LogNotifier implements Notifier {
  constructor(private readonly log: Log) {}

  async notify(incident: Incident, kind: NotificationKind): Promise<NotificationReceipt | undefined> {
    const loud = kind === "failed" || kind === "escalated" || kind === "partial";
    const write = loud ? this.log.error.bind(this.log) : this.log.warn.bind(this.log);
    write(`leaked key ${kind}: ${incident.summary}`, { incidentId: incident.id, status: incident.status });
    return undefined;
  }

  async followUp(details: FollowUp): Promise<void> {
    this.log.warn(`forensics for ${details.incident.id}: ${details.findings?.headline ?? "no findings"}`, {
      incidentId: details.incident.id,
      verdict: details.findings?.verdict,
      plan: details.plan?.summary,
    });
  }
}
