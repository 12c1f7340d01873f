import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { Sandbox } from "../../sandbox/server.js";
import { slackService } from "../../sandbox/slack.js";
import { SlackNotifier } from "../../src/adapters/slack/slack-notifier.js";
import { TransientFailure } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";

const sandbox = new Sandbox({ services: [slackService] });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());

function incident(accessKeyId: string, status: Incident["status"]): Incident {
  return {
    id: "gh__acme__api__7",
    version: 1,
    source: "github-alert",
    status,
    summary: status === "failed" ? "The leaked key is NOT contained: AccessDenied" : "key deactivated",
    accessKeyId,
    repository: "acme/api",
    alertNumber: 7,
    alertUrl: "https://github.com/acme/api/security/secret-scanning/7",
    deliveryIds: ["d-1"],
    mode: "enforce",
    location: { accountId: "210987654321", viaMemberRole: true, userName: "ci-deploy" },
    warnings: [],
    timeline: [
      { step: "webhook-received", outcome: "done", at: "2026-11-26T02:00:00.000Z", detail: "Delivery d-1" },
      { step: "key-deactivated", outcome: "done", at: "2026-11-26T02:00:01.250Z", detail: "deactivated" },
    ],
    createdAt: "2026-11-26T02:00:01.300Z",
    updatedAt: "2026-11-26T02:00:01.300Z",
  };
}

const fast = { retryConfig: { retries: 3, minTimeout: 5, maxTimeout: 10, factor: 1 }, intervalMs: 5 };

describe("SlackWebhookNotifier against the sandbox's incoming webhook", () => {
  it("posts a Block Kit message with the masked key, the link and the time to contain", async () => {
    const key = fakeAccessKeyId();
    await new SlackNotifier({ kind: "webhook", url: sandbox.slackWebhookUrl }, fast).notify(
      incident(key, "contained"),
      "contained",
    );
    const last = sandbox.state.slackMessages.at(-1);
    expect(last?.raw).toContain(`AKIA${"*".repeat(12)}${key.slice(-4)}`);
    expect(last?.raw).not.toContain(key);
    expect(last?.raw).toContain("https://github.com/acme/api/security/secret-scanning/7");
    expect(last?.raw).toContain("1.3 s from webhook");
    expect(typeof last?.payload.text).toBe("string");
  });

  it("a failed containment says what to do by hand, still without the full key id", async () => {
    const key = fakeAccessKeyId();
    await new SlackNotifier({ kind: "webhook", url: sandbox.slackWebhookUrl }, fast).notify(
      incident(key, "failed"),
      "failed",
    );
    const raw = sandbox.state.slackMessages.at(-1)?.raw ?? "";
    expect(raw).toContain("ACTION NEEDED");
    expect(raw).toContain("aws iam update-access-key --user-name ci-deploy --status Inactive");
    expect(raw).toContain(key.slice(-4));
    expect(raw).not.toContain(key);
  });

  it("Slack failing 3 times then succeeding delivers exactly one message", async () => {
    const before = sandbox.state.slackMessages.length;
    sandbox.faults.inject({ service: "slack", kind: "server-error", times: 3 });
    await new SlackNotifier({ kind: "webhook", url: sandbox.slackWebhookUrl }, fast).notify(
      incident(fakeAccessKeyId(), "contained"),
      "contained",
    );
    expect(sandbox.state.slackMessages.length - before).toBe(1);
  });

  it("Slack failing for good surfaces as a retryable failure, without the webhook URL in the message", async () => {
    sandbox.faults.inject({ service: "slack", kind: "server-error", times: 10 });
    const error = await new SlackNotifier({ kind: "webhook", url: sandbox.slackWebhookUrl }, fast)
      .notify(incident(fakeAccessKeyId(), "contained"), "contained")
      .catch((e: unknown) => e);
    sandbox.faults.clear();
    expect(error).toBeInstanceOf(TransientFailure);
    expect(String((error as Error).message)).not.toContain(sandbox.slackWebhookUrl);
  });
});
