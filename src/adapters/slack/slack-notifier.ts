/**
 * Notifies Slack through an incoming webhook (@slack/webhook: a fixed channel, no threads) or a bot
 * token (@slack/web-api chat.postMessage: threads). The channel takes about one message a second
 * (facts.md), so messages are paced, and each time the channel is free everything waiting goes out
 * in as few messages as Slack's limits allow: a burst of first messages becomes a digest listing
 * every incident (over several messages when it must), their full details follow in batched thread
 * replies, and waiting follow-ups for the same thread share a message. One incident alone still gets
 * its full first message and its full follow-up. Those a person must act on are listed first and
 * counted in every header. Transient Slack failures are retried by the SDKs; a 429 waits as long as
 * Slack's Retry-After says; what still fails reaches the playbook, which records it and retries.
 */
import { WebClient, WebClientEvent } from "@slack/web-api";
import {
  type FetchFunction,
  IncomingWebhook,
  IncomingWebhookHTTPError,
  type RetryOptions,
} from "@slack/webhook";
import type { Incident } from "../../domain/incident.js";
import type {
  FollowUp,
  NoticeKind,
  NoticeOptions,
  NotificationKind,
  NotificationReceipt,
  Notifier,
  ReportAttachment,
} from "../../ports.js";
import { type Batch, detailBatches, digestPages, followUpBatches, loudFirst } from "./batch-messages.js";
import { followUpMessage, followUpNeedsLook } from "./follow-up-message.js";
import { incidentMessage, needsPerson, type SlackMessage } from "./incident-message.js";
import { findSentNotice, type NoticeMessage, noticeOf, withNotices } from "./sent-notices.js";
import { toSlackFailure } from "./slack-errors.js";
import { escapeMrkdwn, fitMessage } from "./slack-limits.js";

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

interface Settle<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

interface WaitingFirst extends Settle<NotificationReceipt>, NoticeOptions {
  incident: Incident;
  kind: NotificationKind;
}

interface WaitingFollowUp extends Settle<void>, NoticeOptions {
  details: FollowUp;
  threadTs: string | undefined;
}

/** A first message whose digest line is posted; it settles once its details are posted too. */
interface WaitingDetail {
  first: WaitingFirst;
  /** The digest message it is listed in: the caller's receipt (the follow-up's thread). */
  receipt: NotificationReceipt;
  threadTs: string | undefined;
}

interface DigestPage {
  message: SlackMessage;
  firsts: WaitingFirst[];
}

/** One message to send and what to settle once Slack has answered. */
interface Send {
  message: SlackMessage;
  threadTs?: string;
  sent: (receipt: NotificationReceipt) => void;
  failed: (error: unknown) => void;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 };
/** When a 429 carries no usable Retry-After: Slack's smallest answer. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number.parseInt(header, 10);
  return Number.isNaN(seconds) || seconds < 0 ? undefined : seconds * 1000;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SlackNotifier implements Notifier {
  readonly #post: (message: NoticeMessage, threadTs?: string) => Promise<NotificationReceipt>;
  /** Bot token only: the channel can be read back (sent-notices.ts). */
  readonly findSent?: (incident: Incident, kind: NoticeKind) => Promise<NotificationReceipt | undefined>;
  /** Bot token only: an incoming webhook cannot upload files. */
  readonly attachReport?: (incident: Incident, report: ReportAttachment) => Promise<void>;
  readonly #owners: Readonly<Record<string, string>>;
  readonly #intervalMs: number;
  readonly #digestThreshold: number;
  readonly #threads: boolean;
  readonly #firsts: WaitingFirst[] = [];
  readonly #pages: DigestPage[] = [];
  readonly #details: WaitingDetail[] = [];
  readonly #followUps: WaitingFollowUp[] = [];
  /** Follow-through reminders: one message each, paced with everything else on the channel. */
  readonly #reminders: Send[] = [];
  #nextSendAt = 0;
  #pumping = false;

  constructor(target: SlackTarget, options: SlackNotifierOptions = {}) {
    this.#owners = options.owners ?? {};
    this.#intervalMs = options.intervalMs ?? 1_100;
    this.#digestThreshold = options.digestThreshold ?? 3;
    const retryConfig = options.retryConfig ?? DEFAULT_RETRY;
    const timeout = options.timeoutMs ?? 10_000;
    if (target.kind === "webhook") {
      // @slack/webhook fails a 429 at once without reading Retry-After: read it here and wait.
      let retryAfter: number | undefined;
      const fetchWithRetryAfter: FetchFunction = async (url, init) => {
        const response = await fetch(url, init);
        if (response.status === 429) retryAfter = retryAfterMs(response.headers.get("retry-after"));
        return response;
      };
      const webhook = new IncomingWebhook(target.url, { retryConfig, timeout, fetch: fetchWithRetryAfter });
      this.#threads = false;
      this.#post = async (message) => {
        for (let attempt = 0; ; attempt += 1) {
          retryAfter = undefined;
          try {
            await webhook.send(message);
            return {};
          } catch (error: unknown) {
            const limited = error instanceof IncomingWebhookHTTPError && error.statusCode === 429;
            if (!limited || attempt >= (retryConfig.retries ?? 0)) throw error;
            const wait = retryAfter ?? DEFAULT_RETRY_AFTER_MS;
            this.#holdChannel(wait);
            await sleep(wait);
          }
        }
      };
    } else {
      const client = new WebClient(target.token, {
        retryConfig,
        timeout,
        ...(target.apiUrl ? { slackApiUrl: target.apiUrl } : {}),
      });
      // The WebClient waits Retry-After itself and retries; the channel's pace starts again after it.
      // Only a refused post holds the channel: the history read-backs have limits of their own.
      client.on(WebClientEvent.RATE_LIMITED, (seconds: number, request?: { url?: string }) => {
        if (request?.url === undefined || request.url.endsWith("chat.postMessage"))
          this.#holdChannel(seconds * 1000);
      });
      this.#threads = true;
      this.findSent = (incident, kind) => findSentNotice(client, target.channel, incident, kind);
      // Slack's external upload (files.getUploadURLExternal, the bytes, files.completeUploadExternal),
      // shared in the incident's thread; needs the files:write scope.
      this.attachReport = async (incident, report) => {
        const channel = incident.notifications?.slack?.channel ?? target.channel;
        const threadTs = incident.notifications?.slack?.ts;
        const file = { file: report.body, filename: report.filename, title: report.title };
        try {
          await client.filesUploadV2(
            threadTs
              ? { channel_id: channel, thread_ts: threadTs, ...file }
              : { channel_id: channel, ...file },
          );
        } catch (error: unknown) {
          // Named as every Slack failure is (the upload URL and the token never echoed).
          throw toSlackFailure(error);
        }
      };
      this.#post = async (message, threadTs) => {
        const out = await client.chat.postMessage({
          channel: target.channel,
          text: message.text,
          blocks: message.blocks,
          ...(message.metadata ? { metadata: message.metadata } : {}),
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
        return { ...(out.channel ? { channel: out.channel } : {}), ...(out.ts ? { ts: out.ts } : {}) };
      };
    }
  }

  notify(
    incident: Incident,
    kind: NotificationKind,
    options: NoticeOptions = {},
  ): Promise<NotificationReceipt> {
    return new Promise<NotificationReceipt>((resolve, reject) => {
      this.#firsts.push({ incident, kind, resolve, reject, ...options });
      void this.#pump();
    });
  }

  followUp(details: FollowUp, options: NoticeOptions = {}): Promise<void> {
    const threadTs = this.#threads ? details.incident.notifications?.slack?.ts : undefined;
    return new Promise<void>((resolve, reject) => {
      this.#followUps.push({ details, threadTs, resolve, reject, ...options });
      void this.#pump();
    });
  }

  remind(incident: Incident, lines: readonly string[]): Promise<void> {
    return this.#queueText(lines, this.#threads ? incident.notifications?.slack?.ts : undefined);
  }

  announce(lines: readonly string[]): Promise<void> {
    return this.#queueText(lines, undefined);
  }

  /** A plain message (reminder or summary), one of its own, paced with everything else. */
  #queueText(lines: readonly string[], threadTs: string | undefined): Promise<void> {
    const text = lines.map(escapeMrkdwn).join("\n");
    return new Promise<void>((resolve, reject) => {
      this.#reminders.push({
        message: fitMessage({ text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] }),
        ...(threadTs ? { threadTs } : {}),
        sent: () => resolve(),
        failed: reject,
      });
      void this.#pump();
    });
  }

  /**
   * Resolves once nothing is left to send (a digest's details go out after the notices in it have
   * settled) and the channel's pace allows the next message, whoever sends it.
   */
  async quiet(): Promise<void> {
    while (this.#pumping || this.#waiting()) await sleep(50);
    const wait = this.#nextSendAt - Date.now();
    if (wait > 0) await sleep(wait);
  }

  /** Slack said wait: nothing more to this channel until then, and then at the usual pace. */
  #holdChannel(ms: number): void {
    this.#nextSendAt = Math.max(this.#nextSendAt, Date.now() + ms + this.#intervalMs);
  }

  #waiting(): boolean {
    return (
      this.#pages.length +
        this.#firsts.length +
        this.#details.length +
        this.#followUps.length +
        this.#reminders.length >
      0
    );
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiting()) {
        const wait = this.#nextSendAt - Date.now();
        if (wait > 0) await sleep(wait);
        let send: Send | undefined;
        try {
          send = this.#next();
        } catch (error: unknown) {
          // A message that cannot even be built must not leave callers waiting forever.
          this.#rejectAll(error);
          continue;
        }
        if (!send) break;
        let receipt: NotificationReceipt;
        try {
          receipt = await this.#deliver(send.message, send.threadTs);
        } catch (error: unknown) {
          send.failed(error);
          continue;
        }
        send.sent(receipt);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * What goes out now, from everything waiting: the rest of a digest first, then a new digest or a
   * lone first message (the news the owners wait for), then details, then follow-ups. Taken items
   * leave their queue; whatever did not fit waits for the next turn and joins what came meanwhile.
   */
  #next(): Send | undefined {
    if (this.#pages.length === 0 && this.#firsts.length >= this.#digestThreshold) this.#startDigest();
    // Each message is built before its items leave their queue: if building throws, the pump
    // rejects everything still queued, so no caller is left waiting.
    const page = this.#pages[0];
    if (page) {
      const send = this.#pageSend(page);
      this.#pages.shift();
      return send;
    }
    if (this.#firsts.length > 0) {
      const first = loudFirst(this.#firsts, (f) => needsPerson(f.kind))[0];
      if (first) {
        const message = this.#noticed(incidentMessage(first.incident, first.kind, this.#owners), [first]);
        this.#firsts.splice(this.#firsts.indexOf(first), 1);
        return { message, sent: first.resolve, failed: first.reject };
      }
    }
    if (this.#details.length > 0) return this.#detailSend();
    if (this.#followUps.length > 0) return this.#followUpSend();
    if (this.#reminders.length > 0) return this.#reminders.shift();
    return undefined;
  }

  #startDigest(): void {
    const firsts = loudFirst(this.#firsts, (f) => needsPerson(f.kind));
    let offset = 0;
    const pages = digestPages(firsts, this.#owners, this.#threads).map((page) => {
      const slice = firsts.slice(offset, offset + page.count);
      offset += page.count;
      return { message: page.message, firsts: slice };
    });
    this.#firsts.splice(0);
    this.#pages.push(...pages);
  }

  #pageSend(page: DigestPage): Send {
    return {
      message: this.#noticed(page.message, page.firsts),
      sent: (receipt) => {
        for (const first of page.firsts) {
          // Bot token: every incident's full message goes in the digest's thread. Webhook: only
          // those a person must act on get theirs (their instructions), as a message of their own.
          if (this.#threads && receipt.ts) this.#details.push({ first, receipt, threadTs: receipt.ts });
          else if (!this.#threads && needsPerson(first.kind))
            this.#details.push({ first, receipt, threadTs: undefined });
          else first.resolve(receipt);
        }
      },
      failed: (error) => {
        for (const first of page.firsts) first.reject(error);
      },
    };
  }

  #detailSend(): Send | undefined {
    const oldest = this.#details[0];
    if (!oldest) return undefined;
    const group = this.#details.filter((d) => d.threadTs === oldest.threadTs);
    const sorted = loudFirst(group, (d) => needsPerson(d.first.kind));
    const batch = this.#batchOf(
      sorted,
      (d) => incidentMessage(d.first.incident, d.first.kind, this.#owners),
      (items) =>
        detailBatches(
          items.map((d) => d.first),
          this.#owners,
        ),
    );
    const send: Send = {
      message: this.#noticed(
        batch.message,
        batch.items.map((d) => d.first),
      ),
      ...(oldest.threadTs ? { threadTs: oldest.threadTs } : {}),
      sent: () => {
        for (const d of batch.items) d.first.resolve(d.receipt);
      },
      failed: (error) => {
        for (const d of batch.items) d.first.reject(error);
      },
    };
    this.#remove(this.#details, batch.items);
    return send;
  }

  #followUpSend(): Send | undefined {
    const oldest = this.#followUps[0];
    if (!oldest) return undefined;
    const group = this.#followUps.filter((f) => f.threadTs === oldest.threadTs);
    const sorted = loudFirst(group, (f) => followUpNeedsLook(f.details));
    const batch = this.#batchOf(
      sorted,
      (f) => followUpMessage(f.details, this.#owners),
      (items) =>
        followUpBatches(
          items.map((f) => f.details),
          this.#owners,
        ),
    );
    const send: Send = {
      message: this.#noticed(batch.message, batch.items),
      ...(oldest.threadTs ? { threadTs: oldest.threadTs } : {}),
      sent: () => {
        for (const f of batch.items) f.resolve();
      },
      failed: (error) => {
        for (const f of batch.items) f.reject(error);
      },
    };
    this.#remove(this.#followUps, batch.items);
    return send;
  }

  /** The notices a message carries, as metadata to find it again and a note when it may repeat. */
  #noticed(message: SlackMessage, items: Array<WaitingFirst | WaitingFollowUp>): NoticeMessage {
    return withNotices(
      message,
      items.map((item) => noticeOf(item, item.possibleRepeat)),
      this.#threads,
    );
  }

  /** Takes the sent items out of their queue; the others keep their place. */
  #remove<T>(queue: T[], items: readonly T[]): void {
    const taken = new Set(items);
    queue.splice(0, queue.length, ...queue.filter((item) => !taken.has(item)));
  }

  /**
   * One item alone keeps its full message; several share the first message of their batches, and
   * those that did not fit stay queued for the next turn (with whatever joins them meanwhile).
   */
  #batchOf<T>(
    items: T[],
    single: (item: T) => SlackMessage,
    batches: (items: T[]) => Batch[],
  ): { message: SlackMessage; items: T[] } {
    const [only] = items;
    if (items.length === 1 && only !== undefined) return { message: single(only), items };
    const [first] = batches(items);
    if (!first) throw new Error("no message for a non-empty batch");
    return { message: first.message, items: items.slice(0, first.count) };
  }

  #rejectAll(error: unknown): void {
    for (const page of this.#pages.splice(0)) for (const first of page.firsts) first.reject(error);
    for (const first of this.#firsts.splice(0)) first.reject(error);
    for (const detail of this.#details.splice(0)) detail.first.reject(error);
    for (const followUp of this.#followUps.splice(0)) followUp.reject(error);
    for (const reminder of this.#reminders.splice(0)) reminder.failed(error);
  }

  async #deliver(message: SlackMessage, threadTs?: string): Promise<NotificationReceipt> {
    this.#nextSendAt = Math.max(this.#nextSendAt, Date.now() + this.#intervalMs);
    try {
      return await this.#post(message, threadTs);
    } catch (error: unknown) {
      // A refusal is permanent, Slack's own trouble passes (slack-errors.ts); neither echoes the URL.
      throw toSlackFailure(error);
    } finally {
      // Paced from Slack's answer too, not only from the send: Slack had the message by then, so the
      // next one reaches it a full interval later however long this one spent on the way (measured
      // on a loaded machine: two messages 0.85 s apart at Slack with pacing from the send alone).
      this.#nextSendAt = Math.max(this.#nextSendAt, Date.now() + this.#intervalMs);
    }
  }
}
