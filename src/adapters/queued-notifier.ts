/**
 * The Notifier of the stages that do not post to Slack themselves (containment, investigation): each
 * message becomes a task on the notification queue, whose single consumer posts it at the channel's
 * pace (notification-stage.ts). Step 4's first message and the follow-up are handed over by the
 * playbook itself (respond.ts, investigation-stage.ts), which records them once they are sent.
 */
import type { Incident } from "../domain/incident.js";
import type { FollowUp, NotificationKind, NotificationReceipt, Notifier, StageQueues } from "../ports.js";

export class QueuedNotifier implements Notifier {
  readonly #stages: StageQueues;

  constructor(stages: StageQueues) {
    this.#stages = stages;
  }

  /** An incident the store does not hold (a dry run, a refused record): it travels with the message. */
  async notify(incident: Incident, kind: NotificationKind): Promise<NotificationReceipt | undefined> {
    await this.#stages.notify({ kind: "unrecorded", incident, notice: kind });
    return undefined;
  }

  async followUp(details: FollowUp): Promise<void> {
    await this.#stages.notify({ kind: "notice", incidentId: details.incident.id, notice: "follow-up" });
  }

  async remind(incident: Incident, lines: readonly string[]): Promise<void> {
    await this.#stages.notify({ kind: "remind", incidentId: incident.id, lines: [...lines] });
  }

  async announce(lines: readonly string[]): Promise<void> {
    await this.#stages.notify({ kind: "announce", lines: [...lines] });
  }
}
