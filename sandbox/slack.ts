/**
 * Slack, as the responder uses it: an incoming webhook (POST /slack/webhook...) answering "ok" or a
 * plain-text error (invalid_payload, no_text...), and the Web API's chat.postMessage
 * (POST /slack/api/chat.postMessage) with a bot token, answering `{ok, channel, ts}` or
 * `{ok: false, error}`, threads included. Every accepted message is recorded for tests.
 */
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "./service.js";
import type { SandboxState } from "./state.js";

function text(status: number, body: string, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body };
}

function json(body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return {
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

/** Slack's Web API errors are HTTP 200 with ok:false (429 for rate limits). */
class SlackApiError extends SandboxError {}

function parse(request: SandboxRequest): Record<string, unknown> {
  const raw = request.body.toString("utf8");
  const type = String(request.headers["content-type"] ?? "");
  if (type.includes("application/x-www-form-urlencoded")) {
    const form = Object.fromEntries(new URLSearchParams(raw));
    const out: Record<string, unknown> = { ...form };
    for (const key of ["blocks", "attachments"]) {
      const value = form[key];
      if (typeof value === "string") {
        try {
          out[key] = JSON.parse(value);
        } catch {
          throw new SlackApiError(200, "invalid_blocks", "invalid_blocks");
        }
      }
    }
    return out;
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SandboxError(400, "invalid_payload", "invalid_payload");
}

function validate(message: Record<string, unknown>, api: boolean): void {
  const blocks = message.blocks;
  const err = (code: string) =>
    api ? new SlackApiError(200, code, code) : new SandboxError(400, code, code);
  if (typeof message.text !== "string" && !Array.isArray(blocks)) throw err("no_text");
  if (Array.isArray(blocks) && blocks.length > 50) throw err("invalid_blocks");
}

function postMessage(request: SandboxRequest, state: SandboxState): SandboxResponse {
  const auth = request.headers.authorization;
  const token = typeof auth === "string" ? auth.replace(/^Bearer\s+/i, "") : "";
  if (!state.slackBotTokens.has(token)) throw new SlackApiError(200, "invalid_auth", "invalid_auth");
  const message = parse(request);
  validate(message, true);
  const channel = typeof message.channel === "string" ? message.channel : "";
  if (!channel) throw new SlackApiError(200, "channel_not_found", "channel_not_found");
  const ts = `${Math.floor(Date.now() / 1000)}.${String(state.slackMessages.length + 1).padStart(6, "0")}`;
  state.slackMessages.push({
    receivedAt: new Date(),
    path: request.url.pathname,
    payload: message,
    raw: JSON.stringify(message),
    channel,
    ts,
    ...(typeof message.thread_ts === "string" ? { threadTs: message.thread_ts } : {}),
  });
  return json({ ok: true, channel, ts, message: { text: message.text, ts } });
}

export const slackService: SandboxService = {
  name: "slack",

  operation(request) {
    if (request.method !== "POST") return "unknown";
    if (request.url.pathname.startsWith("/slack/webhook")) return "postWebhook";
    if (request.url.pathname === "/slack/api/chat.postMessage") return "chat.postMessage";
    return "unknown";
  },

  handle(request, operation, state) {
    if (operation === "chat.postMessage") return postMessage(request, state);
    if (operation !== "postWebhook") throw new SandboxError(404, "no_service", "no_service");
    const message = parse(request);
    validate(message, false);
    state.slackMessages.push({
      receivedAt: new Date(),
      path: request.url.pathname,
      payload: message,
      raw: request.body.toString("utf8"),
    });
    return text(200, "ok");
  },

  faultError(kind) {
    switch (kind) {
      case "throttle":
        return new SandboxError(429, "rate_limited", "rate_limited");
      case "access-denied":
        return new SandboxError(403, "action_prohibited", "action_prohibited");
      default:
        return new SandboxError(500, "rollup_error", "rollup_error");
    }
  },

  render(error, operation) {
    const headers: Record<string, string> = error.status === 429 ? { "retry-after": "1" } : {};
    if (operation === "chat.postMessage") {
      if (error.status === 200 || error instanceof SlackApiError)
        return json({ ok: false, error: error.code }, headers);
      return { ...json({ ok: false, error: error.code }, headers), status: error.status };
    }
    return text(error.status, error.code, headers);
  },
};
