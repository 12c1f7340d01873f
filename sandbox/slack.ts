/**
 * A Slack incoming webhook (POST /slack/webhook...) that records every payload it accepts and
 * answers as Slack does: "ok", or a plain-text error such as invalid_payload or no_text.
 */
import { SandboxError, type SandboxResponse, type SandboxService } from "./service.js";

function text(status: number, body: string, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body };
}

export const slackService: SandboxService = {
  name: "slack",

  operation(request) {
    return request.method === "POST" && request.url.pathname.startsWith("/slack/webhook")
      ? "postWebhook"
      : "unknown";
  },

  handle(request, operation, state) {
    if (operation !== "postWebhook") throw new SandboxError(404, "no_service", "no_service");
    const raw = request.body.toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      throw new SandboxError(400, "invalid_payload", "invalid_payload");
    }
    if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
      throw new SandboxError(400, "invalid_payload", "invalid_payload");
    }
    const message = payload as Record<string, unknown>;
    const blocks = message.blocks;
    if (typeof message.text !== "string" && !Array.isArray(blocks))
      throw new SandboxError(400, "no_text", "no_text");
    if (Array.isArray(blocks) && blocks.length > 50)
      throw new SandboxError(400, "invalid_blocks", "invalid_blocks");
    state.slackMessages.push({ receivedAt: new Date(), path: request.url.pathname, payload: message, raw });
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

  render(error) {
    return text(error.status, error.code, error.status === 429 ? { "retry-after": "1" } : {});
  },
};
