/**
 * Slack, as the responder uses it: an incoming webhook (POST /slack/webhook...) answering "ok" or a
 * plain-text error (invalid_payload, no_text...), and the Web API's chat.postMessage
 * (POST /slack/api/chat.postMessage) with a bot token, answering `{ok, channel, ts}` or
 * `{ok: false, error}`, threads included, and the read methods conversations.history and
 * conversations.replies (slack-history.ts), and the external file upload (files.getUploadURLExternal,
 * a POST of the bytes to the upload URL it returns, files.completeUploadExternal into a channel or
 * thread). Every accepted message and file is recorded for tests.
 *
 * When `state.slackRateLimit` is set, each channel takes about one message a second with a short
 * burst, as Slack documents for both ways of posting; beyond it Slack answers HTTP 429 with a
 * Retry-After header in whole seconds, and the refusal is counted in `state.slackRefusals`.
 */
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "./service.js";
import { conversationsHistory, conversationsReplies } from "./slack-history.js";
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

/** HTTP 429 from the posting limit, with the seconds to wait. */
class SlackRateLimited extends SandboxError {
  constructor(
    code: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, code, code);
  }
}

/**
 * The posting limit: a token bucket per channel. A refused message takes no token, so a client
 * that waits Retry-After gets through; Retry-After is at least 1 (Slack sends whole seconds).
 */
function admit(state: SandboxState, channelKey: string, path: string, code: string): void {
  const limit = state.slackRateLimit;
  if (!limit) return;
  const now = Date.now();
  const bucket = state.slackBuckets.get(channelKey) ?? { tokens: limit.burst, at: now };
  const tokens = Math.min(limit.burst, bucket.tokens + (now - bucket.at) / limit.intervalMs);
  if (tokens < 1) {
    state.slackBuckets.set(channelKey, { tokens, at: now });
    const retryAfterSeconds = Math.max(1, Math.ceil(((1 - tokens) * limit.intervalMs) / 1000));
    state.slackRefusals.push({ at: new Date(now), channelKey, path, retryAfterSeconds });
    throw new SlackRateLimited(code, retryAfterSeconds);
  }
  state.slackBuckets.set(channelKey, { tokens: tokens - 1, at: now });
}

function parse(request: SandboxRequest): Record<string, unknown> {
  const raw = request.body.toString("utf8");
  const type = String(request.headers["content-type"] ?? "");
  if (type.includes("application/x-www-form-urlencoded")) {
    const form = Object.fromEntries(new URLSearchParams(raw));
    const out: Record<string, unknown> = { ...form };
    for (const key of ["blocks", "attachments", "metadata"]) {
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

function botToken(request: SandboxRequest, state: SandboxState): void {
  const auth = request.headers.authorization;
  const token = typeof auth === "string" ? auth.replace(/^Bearer\s+/i, "") : "";
  if (!state.slackBotTokens.has(token)) throw new SlackApiError(200, "invalid_auth", "invalid_auth");
}

function postMessage(request: SandboxRequest, state: SandboxState): SandboxResponse {
  botToken(request, state);
  const message = parse(request);
  validate(message, true);
  const channel = typeof message.channel === "string" ? message.channel : "";
  if (!channel) throw new SlackApiError(200, "channel_not_found", "channel_not_found");
  // Slack's Web API names this error "ratelimited" (the webhook says "rate_limited").
  admit(state, channel, request.url.pathname, "ratelimited");
  const ts = `${Math.floor(Date.now() / 1000)}.${String(state.slackMessages.length + 1).padStart(6, "0")}`;
  state.slackMessages.push({
    receivedAt: new Date(),
    path: request.url.pathname,
    payload: message,
    raw: JSON.stringify(message),
    channelKey: channel,
    channel,
    ts,
    ...(typeof message.thread_ts === "string" ? { threadTs: message.thread_ts } : {}),
  });
  return json({ ok: true, channel, ts, message: { text: message.text, ts } });
}

/** Step 1: a file id and a URL to POST the bytes to (Slack's is on files.slack.com; here, this sandbox). */
function getUploadUrl(request: SandboxRequest, state: SandboxState): SandboxResponse {
  botToken(request, state);
  const form = parse(request);
  const filename = typeof form.filename === "string" ? form.filename : "";
  const length = Number(form.length);
  if (!filename || !Number.isInteger(length) || length <= 0)
    throw new SlackApiError(200, "invalid_arguments", "invalid_arguments");
  const id = `F${String(state.slackFiles.size + 1).padStart(8, "0")}`;
  state.slackFiles.set(id, { id, filename, length });
  const host = typeof request.headers.host === "string" ? request.headers.host : "127.0.0.1";
  return json({ ok: true, upload_url: `http://${host}/slack/upload/${id}`, file_id: id });
}

/** The first file part of a multipart/form-data body (how @slack/web-api posts the bytes), else the raw body. */
function uploadedBytes(request: SandboxRequest): Buffer {
  const type = String(request.headers["content-type"] ?? "");
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (!type.startsWith("multipart/form-data") || !boundary) return request.body;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2] ?? ""}`);
  const body = request.body;
  for (let at = body.indexOf(delimiter); at !== -1; ) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(at + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd !== -1 && /filename=/.test(part.subarray(0, headerEnd).toString("utf8")))
      return Buffer.from(part.subarray(headerEnd + 4));
    at = next;
  }
  throw new SandboxError(400, "no_file_part", "no_file_part");
}

/** Step 2: the bytes, exactly the length announced. */
function uploadBytes(request: SandboxRequest, state: SandboxState): SandboxResponse {
  const id = request.url.pathname.split("/").pop() ?? "";
  const file = state.slackFiles.get(id);
  if (!file) throw new SandboxError(404, "file_not_found", "file_not_found");
  const bytes = uploadedBytes(request);
  if (bytes.length !== file.length) throw new SandboxError(400, "length_mismatch", "length_mismatch");
  file.bytes = bytes;
  return text(200, `OK - ${bytes.length}`);
}

/** Step 3: share the uploaded files in a channel, or in a thread of it. */
function completeUpload(request: SandboxRequest, state: SandboxState): SandboxResponse {
  botToken(request, state);
  const form = parse(request);
  let files: unknown;
  try {
    files = typeof form.files === "string" ? JSON.parse(form.files) : form.files;
  } catch {
    throw new SlackApiError(200, "invalid_arguments", "invalid_arguments");
  }
  if (!Array.isArray(files) || files.length === 0)
    throw new SlackApiError(200, "invalid_arguments", "invalid_arguments");
  const channel = typeof form.channel_id === "string" ? form.channel_id : undefined;
  const threadTs = typeof form.thread_ts === "string" ? form.thread_ts : undefined;
  const shared = [];
  for (const entry of files as Array<{ id?: unknown; title?: unknown }>) {
    const file = typeof entry.id === "string" ? state.slackFiles.get(entry.id) : undefined;
    if (!file?.bytes) throw new SlackApiError(200, "file_not_found", "file_not_found");
    file.title = typeof entry.title === "string" ? entry.title : file.filename;
    if (channel) file.channel = channel;
    if (threadTs) file.threadTs = threadTs;
    shared.push({ id: file.id, title: file.title, name: file.filename });
  }
  return json({ ok: true, files: shared });
}

export const slackService: SandboxService = {
  name: "slack",

  operation(request) {
    if (request.method !== "POST") return "unknown";
    if (request.url.pathname.startsWith("/slack/webhook")) return "postWebhook";
    if (request.url.pathname === "/slack/api/chat.postMessage") return "chat.postMessage";
    // The read-back a resumed run uses to tell whether its message already went out (slack-history.ts).
    if (request.url.pathname === "/slack/api/conversations.history") return "conversations.history";
    if (request.url.pathname === "/slack/api/conversations.replies") return "conversations.replies";
    if (request.url.pathname === "/slack/api/files.getUploadURLExternal") return "files.getUploadURLExternal";
    if (request.url.pathname === "/slack/api/files.completeUploadExternal")
      return "files.completeUploadExternal";
    if (request.url.pathname.startsWith("/slack/upload/")) return "files.upload";
    return "unknown";
  },

  handle(request, operation, state) {
    if (operation === "chat.postMessage") return postMessage(request, state);
    if (operation === "conversations.history") return conversationsHistory(request, state);
    if (operation === "conversations.replies") return conversationsReplies(request, state);
    if (operation === "files.getUploadURLExternal") return getUploadUrl(request, state);
    if (operation === "files.upload") return uploadBytes(request, state);
    if (operation === "files.completeUploadExternal") return completeUpload(request, state);
    if (operation !== "postWebhook") throw new SandboxError(404, "no_service", "no_service");
    const message = parse(request);
    validate(message, false);
    admit(state, request.url.pathname, request.url.pathname, "rate_limited");
    state.slackMessages.push({
      receivedAt: new Date(),
      path: request.url.pathname,
      payload: message,
      raw: request.body.toString("utf8"),
      channelKey: request.url.pathname,
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
    const retryAfter = error instanceof SlackRateLimited ? error.retryAfterSeconds : 1;
    const headers: Record<string, string> = error.status === 429 ? { "retry-after": String(retryAfter) } : {};
    // Web API methods answer JSON; the incoming webhook and the upload URL answer plain text.
    if (
      operation.startsWith("chat.") ||
      operation.startsWith("conversations.") ||
      (operation.startsWith("files.") && operation !== "files.upload")
    ) {
      if (error.status === 200 || error instanceof SlackApiError)
        return json({ ok: false, error: error.code }, headers);
      return { ...json({ ok: false, error: error.code }, headers), status: error.status };
    }
    return text(error.status, error.code, headers);
  },
};
