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

describe("SlackNotifier with a bot token: threads, pacing and digests", () => {
  const token = () => {
    const value = `test-bot-${Math.random().toString(36).slice(2)}`;
    sandbox.state.slackBotTokens.add(value);
    return value;
  };

  it("posts the follow-up in the first message's thread", async () => {
    const notifier = new SlackNotifier(
      { kind: "bot", token: token(), channel: "C0SECURITY", apiUrl: `${sandbox.url}/slack/api/` },
      fast,
    );
    const first = incident(fakeAccessKeyId(), "contained");
    const receipt = await notifier.notify(first, "contained");
    expect(receipt.ts).toMatch(/^\d+\.\d{6}$/);
    await notifier.followUp({ incident: { ...first, notifications: { slack: { ts: receipt.ts ?? "" } } } });
    const reply = sandbox.state.slackMessages.at(-1);
    expect(reply?.channel).toBe("C0SECURITY");
    expect(reply?.threadTs).toBe(receipt.ts);
  });

  it("a burst of incidents becomes one digest with each incident threaded under it, paced per channel", async () => {
    const before = sandbox.state.slackMessages.length;
    const notifier = new SlackNotifier(
      { kind: "bot", token: token(), channel: "C0BURST", apiUrl: `${sandbox.url}/slack/api/` },
      { ...fast, intervalMs: 40 },
    );
    // The first message goes at once; the six that pile up behind it become a digest.
    const incidents = Array.from({ length: 7 }, (_, i) => ({
      ...incident(fakeAccessKeyId(), i === 3 ? "failed" : "contained"),
      id: `gh__acme__api__${i + 1}`,
    }));
    const receipts = await Promise.all(
      incidents.map((i) => notifier.notify(i, i.status === "failed" ? "failed" : "contained")),
    );
    const sent = sandbox.state.slackMessages.slice(before);
    const tops = sent.filter((m) => !m.threadTs);
    expect(tops).toHaveLength(2);
    const digest = tops[1];
    expect(digest?.raw).toContain("6 leaked AWS keys handled");
    expect(digest?.raw).toContain("1 need a person now");
    const threaded = sent.filter((m) => m.threadTs === digest?.ts);
    expect(threaded).toHaveLength(6);
    expect(receipts.slice(1).every((r) => r.ts === digest?.ts)).toBe(true);
    // Paced: the messages leave at least 40 ms apart; arrival times jitter on a busy machine, so the
    // whole burst is checked against the pace (8 messages: at least 7 intervals).
    const times = sent.map((m) => m.receivedAt.getTime());
    expect(times).toHaveLength(8);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(7 * 40 - 15);
  });
});

describe("Slack messages stay within Slack's limits for large incidents", () => {
  it("a follow-up for thousands of events from dozens of addresses fits (blocks, sections, fields, total)", async () => {
    const { analyzeTrail } = await import("../../src/forensics/analyze.js");
    const { parseTrailEvents } = await import("../../src/forensics/parse-trail.js");
    const { attackerStory } = await import("../fixtures/trails/stories.js");
    const { cloudTrailRecord } = await import("../fixtures/trails/records.js");
    const story = attackerStory();
    const caller = {
      accountId: story.cast.accountId,
      userName: story.cast.userName,
      principalId: "AIDAEXAMPLEPRINCIPAL",
      accessKeyId: story.cast.accessKeyId,
    };
    const names = [
      "ListBuckets",
      "ListUsers",
      "CreateUser",
      "RunInstances",
      "DescribeRegions",
      "GetSendQuota",
    ];
    const extra = Array.from({ length: 3000 }, (_, i) =>
      cloudTrailRecord({
        at: new Date(Date.parse(story.leakedAt) + 60_000 + i * 1000),
        source: "iam.amazonaws.com",
        name: names[i % names.length] ?? "ListUsers",
        caller,
        ip: `192.0.2.${i % 60}`,
        userAgent: `<script>alert(${i % 7})</script> agent/${i % 13}`,
        region: ["us-east-1", "eu-west-1", "sa-east-1", "ap-south-1"][i % 4] ?? "us-east-1",
      }),
    );
    const events = parseTrailEvents(JSON.stringify({ Records: [...story.records, ...extra] }));
    const findings = analyzeTrail(events, {
      leakedAt: story.leakedAt,
      containedAt: story.containedAt,
      accessKeyIds: [story.cast.accessKeyId],
    });
    expect(findings.addresses.length + findings.addressesOmitted).toBeGreaterThan(50);
    const big = incident(story.cast.accessKeyId, "contained");
    big.warnings = Array.from({ length: 40 }, (_, i) => `warning ${i}: ${"x".repeat(200)}`);
    const { followUpMessage } = await import("../../src/adapters/slack/follow-up-message.js");
    const { incidentMessage } = await import("../../src/adapters/slack/incident-message.js");
    const plan = {
      summary: "y".repeat(5000),
      files: Array.from({ length: 80 }, (_, i) => `roles/r${i}/trust-policy.json`),
    };
    for (const message of [
      followUpMessage({ incident: big, findings, plan }),
      incidentMessage(big, "contained"),
    ]) {
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      expect(JSON.stringify(message.blocks).length).toBeLessThanOrEqual(12_000);
      expect(message.text.length).toBeLessThanOrEqual(3000);
      for (const block of message.blocks as Array<{
        type: string;
        text?: { text: string };
        fields?: Array<{ text: string }>;
      }>) {
        if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
        expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
        for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
      }
      expect(JSON.stringify(message)).not.toContain("<script>");
    }
    const follow = followUpMessage({ incident: big, findings, plan });
    expect(JSON.stringify(follow)).toContain("compromised");
    expect(JSON.stringify(follow)).toMatch(/and \d+ more/);
    // Slack itself accepts it.
    await new SlackNotifier({ kind: "webhook", url: sandbox.slackWebhookUrl }, fast).followUp({
      incident: big,
      findings,
      plan,
    });
  });
});
