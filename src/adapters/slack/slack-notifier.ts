/**
 * Notifies Slack through an incoming webhook (@slack/webhook: a fixed channel, no threads) or a bot
 * token (@slack/web-api chat.postMessage: threads). Messages to a channel are paced (facts.md: about
 * one a second); when several first messages wait at once, as in a burst of leaks, they go out as
 * one digest, with each incident's full message in the digest's thread (bot token) instead of a
 * flood. Transient Slack failures are retried by the SDKs; what still fails reaches the playbook,
 * which records it and has it retried.
 */
import { WebClient } from "@slack/web-api";
import { IncomingWebhook, type RetryOptions } from "@slack/webhook";
import { TransientFailure } from "../../domain/errors.js";
import type { Incident } from "../../domain/incident.js";
import type { FollowUp, NotificationKind, NotificationReceipt, Notifier } from "../../ports.js";
import { digestLine, followUpMessage } from "./follow-up-message.js";
import { incidentMessage, type SlackMessage } from "./incident-message.js";
import { type Blocks, fitMessage } from "./slack-limits.js";

export type SlackTarget =
  | { kind: "webhook"; url: string }
  | { kind: "bot"; token: string; channel: string; apiUrl?: string };

export interface SlackNotifierOptions {
  /** Repository or user name -> Slack mention (`<@U123>`, `<!subteam^S123>`). */
  owners?: Readonly<Record<string, string>>;
  retryConfig?: RetryOptions;
  /** Minimum gap between two messages to the channel (default 1100 ms). */
  intervalMs?: number;
  /** First messages waiting together that become one digest (default 3). */
  digestThreshold?: number;
  timeoutMs?: number;
}

interface Outgoing {
  kind: "first" | "follow-up";
  incident: Incident;
  message: SlackMessage;
  threadTs?: string;
  resolve: (receipt: NotificationReceipt) => void;
  reject: (error: unknown) => void;
}

const DEFAULT_RETRY: RetryOptions = { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 };

export class SlackNotifier implements Notifier {
  readonly #post: (message: SlackMessage, threadTs?: string) => Promise<NotificationReceipt>;
  readonly #owners: Readonly<Record<string, string>>;
  readonly #intervalMs: number;
  readonly #digestThreshold: number;
  readonly #queue: Outgoing[] = [];
  #nextSendAt = 0;
  #pumping = false;
  readonly #threads: boolean;

  constructor(target: SlackTarget, options: SlackNotifierOptions = {}) {
    this.#owners = options.owners ?? {};
    this.#intervalMs = options.intervalMs ?? 1_100;
    this.#digestThreshold = options.digestThreshold ?? 3;
    const retryConfig = options.retryConfig ?? DEFAULT_RETRY;
    const timeout = options.timeoutMs ?? 10_000;
    if (target.kind === "webhook") {
      const webhook = new IncomingWebhook(target.url, { retryConfig, timeout });
      this.#threads = false;
      this.#post = async (message) => {
        await webhook.send(message);
        return {};
      };
    } else {
      const client = new WebClient(target.token, {
        retryConfig,
        timeout,
        ...(target.apiUrl ? { slackApiUrl: target.apiUrl } : {}),
      });
      this.#threads = true;
      this.#post = async (message, threadTs) => {
        const out = await client.chat.postMessage({
          channel: target.channel,
          text: message.text,
          blocks: message.blocks,
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
        return { ...(out.channel ? { channel: out.channel } : {}), ...(out.ts ? { ts: out.ts } : {}) };
      };
    }
  }

  notify(incident: Incident, kind: NotificationKind): Promise<NotificationReceipt> {
    return this.#enqueue("first", incident, incidentMessage(incident, kind, this.#owners));
  }

  async followUp(details: FollowUp): Promise<void> {
    const threadTs = this.#threads ? details.incident.notifications?.slack?.ts : undefined;
    await this.#enqueue("follow-up", details.incident, followUpMessage(details, this.#owners), threadTs);
  }

  #enqueue(kind: Outgoing["kind"], incident: Incident, message: SlackMessage, threadTs?: string) {
    return new Promise<NotificationReceipt>((resolve, reject) => {
      this.#queue.push({ kind, incident, message, resolve, reject, ...(threadTs ? { threadTs } : {}) });
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const wait = this.#nextSendAt - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const firsts = this.#queue.filter((o) => o.kind === "first");
        if (firsts.length >= this.#digestThreshold) {
          this.#queue.splice(0, this.#queue.length, ...this.#queue.filter((o) => o.kind !== "first"));
          await this.#sendDigest(firsts);
        } else {
          const next = this.#queue.shift();
          if (next) await this.#send(next);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #deliver(message: SlackMessage, threadTs?: string): Promise<NotificationReceipt> {
    this.#nextSendAt = Date.now() + this.#intervalMs;
    try {
      return await this.#post(message, threadTs);
    } catch (error: unknown) {
      // Never echo the webhook URL or token (credentials): the message names the failure only.
      const detail =
        error instanceof Error ? error.message.replace(/https?:\/\/\S+/g, "<slack-url>") : "unknown";
      throw new TransientFailure(`Slack did not accept the message: ${detail}`, "SlackFailed");
    }
  }

  async #send(outgoing: Outgoing): Promise<void> {
    try {
      outgoing.resolve(await this.#deliver(outgoing.message, outgoing.threadTs));
    } catch (error: unknown) {
      outgoing.reject(error);
    }
  }

  /** One message for the burst; each incident's details in its thread when threads exist. */
  async #sendDigest(burst: Outgoing[]): Promise<void> {
    const loud = burst.filter(
      (o) => o.incident.status === "failed" || o.incident.status === "escalated",
    ).length;
    const blocks: Blocks = [
      { type: "header", text: { type: "plain_text", text: `${burst.length} leaked AWS keys handled` } },
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `${loud > 0 ? `:rotating_light: *${loud} need a person now.* ` : ""}${burst.map((o) => digestLine(o.incident)).join("\n")}`,
        },
      },
    ];
    let digest: NotificationReceipt;
    try {
      digest = await this.#deliver(
        fitMessage({
          text: `${burst.length} leaked AWS keys handled${loud ? `, ${loud} need a person now` : ""}`,
          blocks,
        }),
      );
    } catch (error: unknown) {
      for (const o of burst) o.reject(error);
      return;
    }
    if (!this.#threads || !digest.ts) {
      for (const o of burst) o.resolve(digest);
      return;
    }
    for (const o of burst) {
      const wait = this.#nextSendAt - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        await this.#deliver(o.message, digest.ts);
        o.resolve(digest);
      } catch (error: unknown) {
        o.reject(error);
      }
    }
  }
}
