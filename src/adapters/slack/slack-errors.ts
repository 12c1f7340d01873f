/**
 * Slack's answer, in the playbook's terms. A 5xx, a 429 (after the notifier has waited out
 * Retry-After), a timeout or no answer at all pass with time: TransientFailure, which the playbook
 * retries through the queue. A refusal (a revoked webhook or token, an archived channel, a bot not in
 * the channel: 4xx, or the Web API's `ok: false`) will not pass by itself: PermanentFailure, so the
 * playbook records it, says it elsewhere and goes on instead of retrying into the dead-letter queue.
 */
import { WebAPIHTTPError, WebAPIPlatformError } from "@slack/web-api";
import { IncomingWebhookHTTPError } from "@slack/webhook";
import { PermanentFailure, TransientFailure, UnprocessableMessage } from "../../domain/errors.js";
import { unreachable, unreachableWords } from "../network-errors.js";

/** Web API `error` codes that are Slack's own trouble, not a refusal. */
const PASSING_PLATFORM_ERRORS = new Set([
  "ratelimited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
]);

/**
 * Codes that refuse the message's content (Web API `error`, or a webhook's 400 body): the same
 * message is refused every time, whatever is fixed, so it is an UnprocessableMessage. A refusal of
 * the sender (a revoked token, an archived channel) is lifted by a fix: a plain PermanentFailure.
 */
const CONTENT_REFUSALS = new Set([
  "invalid_blocks",
  "invalid_blocks_format",
  "invalid_attachments",
  "too_many_attachments",
  "msg_too_long",
  "no_text",
  "invalid_payload",
  "markdown_text_conflict",
]);

/** Slack's error bodies are short codes (`invalid_token`, `channel_is_archived`): keep only that shape. */
function code(text: string): string | undefined {
  const trimmed = text.trim();
  return /^[a-z_]{1,60}$/.test(trimmed) ? trimmed : undefined;
}

export function toSlackFailure(error: unknown): Error {
  // Never echo the webhook URL or token (credentials): the message names the failure only.
  const detail = error instanceof Error ? error.message.replace(/https?:\/\/\S+/g, "<slack-url>") : "unknown";
  if (error instanceof WebAPIPlatformError) {
    const reason = code(error.data.error) ?? "error";
    if (PASSING_PLATFORM_ERRORS.has(reason))
      return new TransientFailure(`Slack did not accept the message: ${reason}`, `slack-${reason}`);
    return CONTENT_REFUSALS.has(reason)
      ? new UnprocessableMessage(`Slack refused the message's content: ${reason}`, `slack-${reason}`)
      : new PermanentFailure(`Slack refused the message: ${reason}`, `slack-${reason}`);
  }
  const status =
    error instanceof IncomingWebhookHTTPError || error instanceof WebAPIHTTPError
      ? error.statusCode
      : undefined;
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    const body = error instanceof IncomingWebhookHTTPError ? code(error.body) : undefined;
    if (body !== undefined && CONTENT_REFUSALS.has(body))
      return new UnprocessableMessage(
        `Slack refused the message's content (HTTP ${status} ${body})`,
        `slack-${body}`,
      );
    return new PermanentFailure(
      `Slack refused the message (HTTP ${status}${body ? ` ${body}` : ""}): the webhook or token was revoked, or the channel is closed to it`,
      `slack-${status}`,
    );
  }
  // Only the host is named: the rest of a webhook URL is its credential.
  const away = unreachable(error, "Slack");
  if (away) return new TransientFailure(`Slack: ${unreachableWords(away)}`, "slack-unreachable");
  return new TransientFailure(`Slack did not accept the message: ${detail}`, "SlackFailed");
}
