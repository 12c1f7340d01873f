import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { Sandbox } from "../../sandbox/server.js";
import { slackService } from "../../sandbox/slack.js";
import { SlackNotifier } from "../../src/adapters/slack/slack-notifier.js";
import { TransientFailure } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import { analyzeTrail } from "../../src/forensics/analyze.js";

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
  it("posts a Block Kit message with the key id, the link and the time to contain", async () => {
    const key = fakeAccessKeyId();
    await new SlackNotifier({ kind: "webhook", url: sandbox.slackWebhookUrl }, fast).notify(
      incident(key, "contained"),
      "contained",
    );
    const last = sandbox.state.slackMessages.at(-1);
    expect(last?.raw).toContain(key);
    expect(last?.raw).toContain("https://github.com/acme/api/security/secret-scanning/7");
    expect(last?.raw).toContain("1.3 s from webhook");
    expect(typeof last?.payload.text).toBe("string");
  });

  it("a failed containment says what to do by hand, with the key id in the command", async () => {
    const key = fakeAccessKeyId();
    await new SlackNotifier({ kind: "webhook", url: sandbox.slackWebhookUrl }, fast).notify(
      incident(key, "failed"),
      "failed",
    );
    const raw = sandbox.state.slackMessages.at(-1)?.raw ?? "";
    expect(raw).toContain("ACTION NEEDED");
    expect(raw).toContain(
      `aws iam update-access-key --user-name ci-deploy --status Inactive --access-key-id ${key}`,
    );
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

  it("shares the audit report as a file in the incident's thread (external upload, byte for byte)", async () => {
    const notifier = new SlackNotifier(
      { kind: "bot", token: token(), channel: "C0SECURITY", apiUrl: `${sandbox.url}/slack/api/` },
      fast,
    );
    const first = incident(fakeAccessKeyId(), "contained");
    const receipt = await notifier.notify(first, "contained");
    const body = Buffer.from("<!doctype html><title>report</title><p>ünïcödé survives</p>\n", "utf8");
    await notifier.attachReport?.(
      {
        ...first,
        notifications: { slack: { channel: receipt.channel ?? "C0SECURITY", ts: receipt.ts ?? "" } },
      },
      { filename: "report-20261205T100000000Z.html", title: `Audit report ${first.id}`, body },
    );
    const shared = [...sandbox.state.slackFiles.values()].at(-1);
    expect(shared?.bytes?.equals(body)).toBe(true);
    expect(shared).toMatchObject({
      filename: "report-20261205T100000000Z.html",
      title: `Audit report ${first.id}`,
      channel: "C0SECURITY",
      threadTs: receipt.ts,
    });
  });

  it("an incoming webhook cannot upload: the notifier has no attachReport", () => {
    const notifier = new SlackNotifier(
      { kind: "webhook", url: `${sandbox.url}/slack/webhook/T0/B0/x` },
      fast,
    );
    expect(notifier.attachReport).toBeUndefined();
  });

  it("a burst of incidents becomes one digest, their full details batched in its thread, paced per channel", async () => {
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
    // The failed one is listed first, loud, in the digest itself.
    const lines = String(digest?.raw).split("\\n");
    expect(lines.findIndex((l) => l.includes("gh__acme__api__4"))).toBeLessThan(
      lines.findIndex((l) => l.includes("gh__acme__api__2")),
    );
    expect(digest?.raw).toMatch(/ACTION NEEDED\* `gh__acme__api__4`/);
    // One thread reply carries the six incidents' details, the failed one's instructions included.
    const threaded = sent.filter((m) => m.threadTs === digest?.ts);
    expect(threaded).toHaveLength(1);
    for (const i of incidents.slice(1)) {
      expect(threaded[0]?.raw).toContain(i.id);
      expect(threaded[0]?.raw).toContain(i.accessKeyId ?? "no key id");
    }
    expect(threaded[0]?.raw).toContain("aws iam update-access-key --user-name ci-deploy --status Inactive");
    expect(receipts.slice(1).every((r) => r.ts === digest?.ts)).toBe(true);
    expect(receipts[0]?.ts).toBe(tops[0]?.ts);
    // Paced: the messages leave at least 40 ms apart; arrival times jitter on a busy machine, so the
    // whole burst is checked against the pace (3 messages: at least 2 intervals).
    const times = sent.map((m) => m.receivedAt.getTime());
    expect(times).toHaveLength(3);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(2 * 40 - 15);
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

describe("Slack's posting limit (sandbox, opt-in): about one message a second per channel, short bursts", () => {
  const limited = new Sandbox({ services: [slackService] });
  beforeAll(() => limited.start());
  afterAll(() => limited.stop());
  const botToken = () => {
    const value = `test-bot-${Math.random().toString(36).slice(2)}`;
    limited.state.slackBotTokens.add(value);
    return value;
  };
  const reset = (limit: { intervalMs: number; burst: number }) => {
    limited.state.slackRateLimit = limit;
    limited.state.slackBuckets.clear();
    limited.state.slackRefusals.length = 0;
    limited.state.slackMessages.length = 0;
  };

  it("takes a burst, then answers 429 with Retry-After per channel, counts the refusal, and a refusal takes no slot", async () => {
    reset({ intervalMs: 1000, burst: 3 });
    const webhook = () =>
      fetch(`${limited.slackWebhookUrl}/T1/B1`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "hello" }),
      });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await webhook());
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    expect(answers[3]?.headers.get("retry-after")).toBe("1");
    expect(await answers[3]?.text()).toBe("rate_limited");
    const post = (channel: string, token: string) =>
      fetch(`${limited.url}/slack/api/chat.postMessage`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ channel, text: "hello" }),
      });
    const token = botToken();
    const api = [];
    for (let i = 0; i < 4; i++) api.push(await post("C0ONE", token));
    expect(api.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(await api[3]?.json()).toEqual({ ok: false, error: "ratelimited" });
    // Another channel has its own allowance.
    expect((await post("C0TWO", token)).status).toBe(200);
    expect(limited.state.slackRefusalCount()).toBe(3);
    expect(limited.state.slackRefusalCount("C0ONE")).toBe(1);
    expect(limited.state.slackMessagesIn("C0ONE")).toHaveLength(3);
    // A second later one slot is back (the refusals did not use any).
    await new Promise((r) => setTimeout(r, 1_050));
    expect((await post("C0ONE", token)).status).toBe(200);
    expect((await post("C0ONE", token)).status).toBe(429);
  });

  for (const mode of ["webhook", "bot"] as const) {
    it(`${mode}: a 429 is waited out as Retry-After says, and every message arrives exactly once`, async () => {
      reset({ intervalMs: 1000, burst: 1 });
      // No pacing of its own and no digest: only Slack's 429s hold the notifier back here.
      const notifier = new SlackNotifier(
        mode === "webhook"
          ? { kind: "webhook", url: `${limited.slackWebhookUrl}/T1/B2` }
          : { kind: "bot", token: botToken(), channel: "C0LIMIT", apiUrl: `${limited.url}/slack/api/` },
        { ...fast, intervalMs: 0, digestThreshold: 100 },
      );
      const incidents = Array.from({ length: 3 }, (_, i) => ({
        ...incident(fakeAccessKeyId(), "contained"),
        id: `gh__acme__api__limit${i}`,
      }));
      await Promise.all(incidents.map((i) => notifier.notify(i, "contained")));
      const received = limited.state.slackMessages;
      expect(received).toHaveLength(3);
      for (const i of incidents) expect(received.filter((m) => m.raw.includes(i.id))).toHaveLength(1);
      const refusals = limited.state.slackRefusals;
      expect(refusals.length).toBeGreaterThanOrEqual(1);
      // After each refusal, nothing reached the channel before Retry-After (1 s) had passed.
      for (const refusal of refusals) {
        const next = received.find((m) => m.receivedAt > refusal.at);
        expect((next?.receivedAt.getTime() ?? 0) - refusal.at.getTime()).toBeGreaterThanOrEqual(950);
      }
    });
  }
});

/**
 * Issue 7: a storm of 500 leaked keys in a minute. Slack's limit (about 1 message a second per
 * channel, facts.md) and the notifier's pace (1.1 s) are both scaled down 50 times, so the test
 * runs in seconds and the ratio between them is the real one.
 */
describe("a storm: 500 first messages and 500 follow-ups within Slack's posting limit", () => {
  const SCALE = 50;
  const storm = new Sandbox({ services: [slackService] });
  beforeAll(() => storm.start());
  afterAll(() => storm.stop());

  const LOUD: Record<number, Incident["status"]> = {
    17: "failed",
    250: "escalated",
    499: "contained-with-warnings",
  };
  const KIND = {
    failed: "failed",
    escalated: "escalated",
    "contained-with-warnings": "partial",
    contained: "contained",
  } as const;
  const quiet = analyzeTrail([], { leakedAt: "2026-11-26T01:50:00Z", containedAt: "2026-11-26T02:00:01Z" });

  function stormIncidents(): Incident[] {
    return Array.from({ length: 500 }, (_, n) => ({
      ...incident(fakeAccessKeyId(), LOUD[n] ?? "contained"),
      id: `gh__acme__service-${n % 40}__${n}`,
      repository: `acme/service-${n % 40}`,
      alertNumber: n,
      alertUrl: `https://github.com/acme/service-${n % 40}/security/secret-scanning/${n}`,
      ...(LOUD[n] === "contained-with-warnings"
        ? { warnings: ["Sessions were NOT revoked: Throttling"] }
        : {}),
    }));
  }

  interface Run {
    elapsedMs: number;
    settled: PromiseSettledResult<unknown>[];
    receipts: Map<string, string | undefined>;
  }

  /** Each incident: its first message, then (as the playbook does) its follow-up once that resolved. */
  async function run(notifier: SlackNotifier, incidents: Incident[], spreadMs = 0): Promise<Run> {
    const started = Date.now();
    const receipts = new Map<string, string | undefined>();
    const settled = await Promise.allSettled(
      incidents.map(async (i, n) => {
        if (spreadMs > 0) await new Promise((r) => setTimeout(r, (n * spreadMs) / incidents.length));
        const status = i.status as keyof typeof KIND;
        const receipt = await notifier.notify(i, KIND[status]);
        receipts.set(i.id, receipt.ts);
        if (spreadMs > 0) await new Promise((r) => setTimeout(r, 200 + (n % 7) * 100));
        await notifier.followUp({
          incident: { ...i, ...(receipt.ts ? { notifications: { slack: { ts: receipt.ts } } } : {}) },
          findings: n === 7 ? { ...quiet, verdict: "compromised" } : quiet,
          plan: { summary: "Replace the key with a GitHub OIDC role", files: ["trust-policy.json"] },
          reportLocation: `s3://incidents/${i.id}/report.html`,
        });
      }),
    );
    return { elapsedMs: Date.now() - started, settled, receipts };
  }

  function report(label: string, sent: readonly { threadTs?: string }[], elapsedMs: number): void {
    const messages = sent.length;
    const replies = sent.filter((m) => m.threadTs).length;
    console.log(
      `storm ${label}: ${messages} Slack messages (${messages - replies} top-level, ${replies} thread replies) ` +
        `for 500 first + 500 follow-ups; at the real 1.1 s pace ` +
        `${(((messages - 1) * 1100) / 1000).toFixed(1)} s; measured at 1/${SCALE} scale ${elapsedMs} ms ` +
        `(x${SCALE} = ${((elapsedMs * SCALE) / 1000).toFixed(1)} s)`,
    );
  }

  const reset = () => {
    storm.state.slackRateLimit = { intervalMs: 1000 / SCALE, burst: 3 };
    storm.state.slackBuckets.clear();
    storm.state.slackRefusals.length = 0;
    storm.state.slackMessages.length = 0;
  };
  const keyId = (i: Incident) => i.accessKeyId ?? "no key id";

  it("bot token: a digest in parts, details and follow-ups batched in each part's thread, no 429", {
    timeout: 60_000,
  }, async () => {
    reset();
    const token = `test-bot-${Math.random().toString(36).slice(2)}`;
    storm.state.slackBotTokens.add(token);
    const notifier = new SlackNotifier(
      { kind: "bot", token, channel: "C0STORM", apiUrl: `${storm.url}/slack/api/` },
      { ...fast, intervalMs: 1100 / SCALE, owners: { "acme/service-17": "<!subteam^S17>" } },
    );
    const incidents = stormIncidents();
    const { elapsedMs, settled, receipts } = await run(notifier, incidents);
    expect(settled.filter((s) => s.status === "rejected")).toEqual([]);
    expect(storm.state.slackRefusalCount()).toBe(0);
    const sent = storm.state.slackMessagesIn("C0STORM");
    report("bot", sent, elapsedMs);
    expect(sent.length).toBeLessThanOrEqual(80);
    const tops = sent.filter((m) => !m.threadTs);
    // The one that went at once, then the digest parts of the 499 that piled up behind it.
    expect(tops[0]?.raw).toContain("gh__acme__service-0__0");
    const parts = tops.slice(1);
    expect(parts.every((p) => p.raw.includes("499 leaked AWS keys handled, 3 need a person now"))).toBe(true);
    // Those that need a person lead the first part, loud, and their owners are called.
    const firstLines = String(parts[0]?.raw).split("\\n");
    const loudLines = firstLines.filter((l) => l.includes("ACTION NEEDED*"));
    expect(loudLines.map((l) => /`(gh__[^`]+)`/.exec(l)?.[1])).toEqual([
      "gh__acme__service-17__17",
      "gh__acme__service-10__250",
      "gh__acme__service-19__499",
    ]);
    expect(parts[0]?.raw).toContain("<!subteam^S17>");
    for (const i of incidents) {
      const ts = receipts.get(i.id);
      const top = tops.find((m) => m.ts === ts);
      // Listed (id and key id) in the message its receipt names...
      expect(top?.raw, i.id).toContain(`\`${i.id}\``);
      expect(top?.raw).toContain(keyId(i));
      // ...and, unless it went alone, its details and its follow-up in that message's thread.
      const thread = sent.filter((m) => m.threadTs === ts).map((m) => m.raw);
      if (i.id !== "gh__acme__service-0__0")
        expect(thread.filter((raw) => raw.includes(`\`${i.id}\``)).length, i.id).toBe(2);
    }
    const replies = sent.filter((m) => m.threadTs).map((m) => m.raw);
    expect(
      replies.some((r) => r.includes("aws iam update-access-key --user-name ci-deploy --status Inactive")),
    ).toBe(true);
    expect(replies.some((r) => r.includes("*Compromised*") && r.includes("1 to look at now"))).toBe(true);
  });

  it("incoming webhook: digest parts, the loud ones' full messages, follow-ups batched, no 429", {
    timeout: 60_000,
  }, async () => {
    reset();
    const url = `${storm.slackWebhookUrl}/T0/STORM`;
    const notifier = new SlackNotifier({ kind: "webhook", url }, { ...fast, intervalMs: 1100 / SCALE });
    const incidents = stormIncidents();
    const { elapsedMs, settled } = await run(notifier, incidents);
    expect(settled.filter((s) => s.status === "rejected")).toEqual([]);
    expect(storm.state.slackRefusalCount()).toBe(0);
    const sent = storm.state.slackMessagesIn("/slack/webhook/T0/STORM");
    report("webhook", sent, elapsedMs);
    expect(sent.length).toBeLessThanOrEqual(40);
    const all = sent.map((m) => m.raw);
    for (const i of incidents) {
      // Its first message (alone or a digest line) and its follow-up (alone or a batch line).
      expect(all.filter((raw) => raw.includes(`\`${i.id}\``)).length, i.id).toBeGreaterThanOrEqual(2);
      expect(all.some((raw) => raw.includes(keyId(i)))).toBe(true);
    }
    // A webhook has no thread: the three that need a person still get their instructions.
    expect(
      all.some((raw) => raw.includes("aws iam update-access-key --user-name ci-deploy --status Inactive")),
    ).toBe(true);
    expect(all.some((raw) => raw.includes("leaked AWS key left active (escalated)"))).toBe(true);
  });

  it("arriving over a minute (scaled), first messages leave as they come and nothing is refused", {
    timeout: 60_000,
  }, async () => {
    reset();
    const token = `test-bot-${Math.random().toString(36).slice(2)}`;
    storm.state.slackBotTokens.add(token);
    const notifier = new SlackNotifier(
      { kind: "bot", token, channel: "C0MINUTE", apiUrl: `${storm.url}/slack/api/` },
      { ...fast, intervalMs: 1100 / SCALE },
    );
    const incidents = stormIncidents();
    const { elapsedMs, settled, receipts } = await run(notifier, incidents, 60_000 / SCALE);
    expect(settled.filter((s) => s.status === "rejected")).toEqual([]);
    expect(storm.state.slackRefusalCount()).toBe(0);
    const sent = storm.state.slackMessagesIn("C0MINUTE");
    report("bot, over a minute", sent, elapsedMs);
    // Far fewer than one message per first message and per follow-up (1000).
    expect(sent.length).toBeLessThanOrEqual(250);
    for (const i of incidents) {
      const top = sent.find((m) => !m.threadTs && m.ts === receipts.get(i.id));
      expect(top?.raw, i.id).toContain(`\`${i.id}\``);
    }
  });
});
