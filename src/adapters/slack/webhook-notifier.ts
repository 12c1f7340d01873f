/**
 * Notifies through a Slack incoming webhook (@slack/webhook). Transient Slack failures (429, 5xx,
 * network) are retried by the library's retry policy; what still fails surfaces to the playbook,
 * which records it and has the message retried.
 */
import { IncomingWebhook, type RetryOptions } from "@slack/webhook";
import { TransientFailure } from "../../domain/errors.js";
import type { Incident } from "../../domain/incident.js";
import type { NotificationKind, Notifier } from "../../ports.js";
import { incidentMessage } from "./incident-message.js";

export class SlackWebhookNotifier implements Notifier {
  readonly #webhook: IncomingWebhook;

  constructor(url: string, options: { retryConfig?: RetryOptions; timeoutMs?: number } = {}) {
    this.#webhook = new IncomingWebhook(url, {
      retryConfig: options.retryConfig ?? { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
      timeout: options.timeoutMs ?? 10_000,
    });
  }

  async notify(incident: Incident, kind: NotificationKind): Promise<void> {
    try {
      await this.#webhook.send(incidentMessage(incident, kind));
    } catch (error: unknown) {
      // Never echo the webhook URL (it is a credential): the library's message names the status only.
      const detail =
        error instanceof Error ? error.message.replace(/https?:\/\/\S+/g, "<slack-url>") : "unknown";
      throw new TransientFailure(`Slack did not accept the message: ${detail}`, "SlackFailed");
    }
  }
}
