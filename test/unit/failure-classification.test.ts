/**
 * What passes with time and what will not, as the adapters tell the playbook: a refusal is a
 * PermanentFailure (recorded, said elsewhere, never retried into the dead-letter queue); Slack's or
 * GitHub's own trouble and their rate limits are a TransientFailure (retried).
 */
import { WebAPIHTTPError, WebAPIPlatformError } from "@slack/web-api";
import { IncomingWebhookHTTPError, IncomingWebhookRequestError } from "@slack/webhook";
import { describe, expect, it } from "vitest";
import { toResponderError as githubError } from "../../src/adapters/github/github-errors.js";
import { toSlackFailure } from "../../src/adapters/slack/slack-errors.js";
import { PermanentFailure, TransientFailure, UnprocessableMessage } from "../../src/domain/errors.js";

describe("Slack's answers", () => {
  it.each([
    [
      "a revoked webhook (403 action_prohibited)",
      new IncomingWebhookHTTPError(403, "Forbidden", "action_prohibited"),
    ],
    ["a deleted webhook (404 no_service)", new IncomingWebhookHTTPError(404, "Not Found", "no_service")],
    ["an archived channel (410)", new IncomingWebhookHTTPError(410, "Gone", "channel_is_archived")],
    ["a bot not in the channel", new WebAPIPlatformError({ ok: false, error: "not_in_channel" })],
    ["a revoked token", new WebAPIPlatformError({ ok: false, error: "token_revoked" })],
    ["a Web API 404", new WebAPIHTTPError(404, "Not Found", {})],
  ])("%s is permanent", (_name, error) => {
    const failure = toSlackFailure(error);
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect(failure.message).toMatch(/Slack refused the message/);
  });

  it.each([
    ["a 500", new IncomingWebhookHTTPError(500, "Internal Server Error", "rollup_error")],
    [
      "a 429 still there after Retry-After",
      new IncomingWebhookHTTPError(429, "Too Many Requests", "rate_limited"),
    ],
    [
      "no answer (a timeout)",
      new IncomingWebhookRequestError(new Error("The operation was aborted due to timeout")),
    ],
    ["Slack's internal_error", new WebAPIPlatformError({ ok: false, error: "internal_error" })],
    ["a Web API 503", new WebAPIHTTPError(503, "Service Unavailable", {})],
  ])("%s passes with time", (_name, error) => {
    expect(toSlackFailure(error)).toBeInstanceOf(TransientFailure);
  });

  it.each([
    ["blocks Slack cannot render", new WebAPIPlatformError({ ok: false, error: "invalid_blocks" })],
    ["a message too long", new WebAPIPlatformError({ ok: false, error: "msg_too_long" })],
    [
      "a webhook payload Slack cannot read (400)",
      new IncomingWebhookHTTPError(400, "Bad Request", "invalid_payload"),
    ],
  ])("%s refuses the message itself: the same message is refused every time", (_name, error) => {
    const failure = toSlackFailure(error);
    expect(failure).toBeInstanceOf(UnprocessableMessage);
    expect(failure.message).toMatch(/Slack refused the message's content/);
  });

  it.each([
    ["a revoked token", new WebAPIPlatformError({ ok: false, error: "token_revoked" })],
    ["a deleted webhook (404 no_service)", new IncomingWebhookHTTPError(404, "Not Found", "no_service")],
  ])("%s is lifted by a fix, so it is not the message's fault", (_name, error) => {
    expect(toSlackFailure(error)).not.toBeInstanceOf(UnprocessableMessage);
  });

  it("never echoes the webhook URL", () => {
    const url = "https://hooks.slack.com/services/T000/B000/planted";
    const failure = toSlackFailure(new IncomingWebhookRequestError(new Error(`fetch failed for ${url}`)));
    expect(failure.message).not.toContain("planted");
  });
});

describe("GitHub's answers", () => {
  const requestError = (status: number, headers: Record<string, string> = {}) =>
    Object.assign(new Error("GitHub said no"), { status, response: { headers } });

  it("a 403 that is a rate limit (remaining 0, or retry-after) passes with time", () => {
    expect(githubError(requestError(403, { "x-ratelimit-remaining": "0" }), "Fetching")).toBeInstanceOf(
      TransientFailure,
    );
    expect(githubError(requestError(403, { "retry-after": "60" }), "Fetching")).toBeInstanceOf(
      TransientFailure,
    );
  });

  it("a 403 without rate-limit headers is a denial", () => {
    const failure = githubError(requestError(403, { "x-ratelimit-remaining": "4999" }), "Fetching");
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect(failure.message).toMatch(/GitHub denied access/);
  });

  it.each([
    [400, /no change/i],
    [410, /issues are disabled/i],
  ])("a %i is permanent, never retried, and says why", (status, reason) => {
    const failure = githubError(requestError(status), "Closing the alert");
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect(failure.message).toMatch(reason);
  });
});
