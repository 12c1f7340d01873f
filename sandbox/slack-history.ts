/**
 * Slack's Web API read methods, as the responder uses them to find out whether a message already
 * went out before it posts it again: `conversations.history` (a channel's top-level messages,
 * newest first; thread replies are not in it) and `conversations.replies` (a thread: the parent,
 * then its replies, oldest first). Both page with `limit` and `cursor`, take `oldest`/`latest`
 * (exclusive unless `inclusive`), and return each message's `metadata` ({event_type, event_payload},
 * as chat.postMessage received it) only when asked with `include_all_metadata`. Requests come
 * form-encoded from @slack/web-api; errors are HTTP 200 with `ok: false`, as Slack answers them.
 */
import { SandboxError, type SandboxRequest, type SandboxResponse } from "./service.js";
import type { SandboxState, SlackMessage } from "./state.js";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 999;

function fail(code: string): SandboxError {
  return new SandboxError(200, code, code);
}

function params(request: SandboxRequest): URLSearchParams {
  const type = String(request.headers["content-type"] ?? "");
  const raw = request.body.toString("utf8");
  if (type.includes("application/json")) {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    const out = new URLSearchParams();
    if (parsed && typeof parsed === "object")
      for (const [key, value] of Object.entries(parsed)) out.set(key, String(value));
    return out;
  }
  // Query-string arguments are accepted too, as Slack does for GET.
  return new URLSearchParams([...request.url.searchParams, ...new URLSearchParams(raw)]);
}

function authorize(request: SandboxRequest, state: SandboxState, form: URLSearchParams): void {
  const auth = request.headers.authorization;
  const token = typeof auth === "string" ? auth.replace(/^Bearer\s+/i, "") : (form.get("token") ?? "");
  if (!state.slackBotTokens.has(token)) throw fail("invalid_auth");
}

function flag(value: string | null): boolean {
  return value === "true" || value === "1";
}

/** Slack's ts strings compare as numbers ("1764122400.000012"). */
function inRange(ts: string, form: URLSearchParams): boolean {
  const value = Number(ts);
  const inclusive = flag(form.get("inclusive"));
  const oldest = form.get("oldest");
  const latest = form.get("latest");
  if (oldest && (inclusive ? value < Number(oldest) : value <= Number(oldest))) return false;
  if (latest && (inclusive ? value > Number(latest) : value >= Number(latest))) return false;
  return true;
}

function rendered(
  message: SlackMessage,
  all: SlackMessage[],
  withMetadata: boolean,
): Record<string, unknown> {
  const ts = message.ts ?? "";
  const replies = all.filter((m) => m.threadTs === ts && m.ts !== ts).length;
  const metadata = message.payload.metadata;
  return {
    type: "message",
    subtype: "bot_message",
    ts,
    text: typeof message.payload.text === "string" ? message.payload.text : "",
    ...(message.threadTs ? { thread_ts: message.threadTs } : replies > 0 ? { thread_ts: ts } : {}),
    ...(replies > 0 ? { reply_count: replies } : {}),
    ...(withMetadata && metadata && typeof metadata === "object" ? { metadata } : {}),
  };
}

function page(messages: SlackMessage[], all: SlackMessage[], form: URLSearchParams): SandboxResponse {
  const limit = Math.min(Math.max(Number(form.get("limit") ?? DEFAULT_LIMIT) || DEFAULT_LIMIT, 1), MAX_LIMIT);
  const cursor = form.get("cursor");
  const offset = cursor
    ? Number(
        Buffer.from(cursor, "base64")
          .toString("utf8")
          .replace(/^offset:/, ""),
      )
    : 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw fail("invalid_cursor");
  const slice = messages.slice(offset, offset + limit);
  const more = offset + limit < messages.length;
  const withMetadata = flag(form.get("include_all_metadata"));
  return {
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify({
      ok: true,
      messages: slice.map((m) => rendered(m, all, withMetadata)),
      has_more: more,
      response_metadata: {
        next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString("base64") : "",
      },
    }),
  };
}

export function conversationsHistory(request: SandboxRequest, state: SandboxState): SandboxResponse {
  const form = params(request);
  authorize(request, state, form);
  const channel = form.get("channel");
  if (!channel) throw fail("channel_not_found");
  const inChannel = state.slackMessages.filter((m) => m.channel === channel && m.ts);
  const topLevel = inChannel
    .filter((m) => !m.threadTs || m.threadTs === m.ts)
    .filter((m) => inRange(m.ts ?? "", form))
    .sort((a, b) => Number(b.ts) - Number(a.ts));
  return page(topLevel, inChannel, form);
}

export function conversationsReplies(request: SandboxRequest, state: SandboxState): SandboxResponse {
  const form = params(request);
  authorize(request, state, form);
  const channel = form.get("channel");
  const ts = form.get("ts");
  if (!channel) throw fail("channel_not_found");
  const inChannel = state.slackMessages.filter((m) => m.channel === channel && m.ts);
  const parent = inChannel.find((m) => m.ts === ts);
  if (!ts || !parent) throw fail("thread_not_found");
  const thread = [parent, ...inChannel.filter((m) => m.threadTs === ts && m.ts !== ts)]
    .filter((m) => m === parent || inRange(m.ts ?? "", form))
    .sort((a, b) => Number(a.ts) - Number(b.ts));
  return page(thread, inChannel, form);
}
