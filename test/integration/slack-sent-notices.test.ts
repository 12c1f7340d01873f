/**
 * A resumed run asks Slack whether a message already went out (src/adapters/slack/sent-notices.ts):
 * against the sandbox's chat.postMessage, conversations.history and conversations.replies, over
 * HTTP with the real @slack/web-api client. The whole story, with a killed process, is in
 * test/e2e/crash-resume.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { Sandbox } from "../../sandbox/server.js";
import { slackService } from "../../sandbox/slack.js";
import { NOTICE_EVENT_TYPE } from "../../src/adapters/slack/sent-notices.js";
import { SlackNotifier } from "../../src/adapters/slack/slack-notifier.js";
import type { Incident } from "../../src/domain/incident.js";

const sandbox = new Sandbox({ services: [slackService] });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());

const fast = { retryConfig: { retries: 1, minTimeout: 5, maxTimeout: 10, factor: 1 }, intervalMs: 5 };

function incident(n: number, createdAt = new Date()): Incident {
  return {
    id: `gh__acme__api__${n}`,
    version: 1,
    source: "github-alert",
    status: "contained",
    summary: "key deactivated",
    accessKeyId: fakeAccessKeyId(),
    repository: "acme/api",
    alertNumber: n,
    deliveryIds: [`d-${n}`],
    mode: "enforce",
    location: { accountId: "210987654321", viaMemberRole: true, userName: "ci-deploy" },
    warnings: [],
    timeline: [],
    createdAt: createdAt.toISOString(),
    updatedAt: createdAt.toISOString(),
  };
}

function bot(channel: string): SlackNotifier {
  const token = `test-bot-${Math.random().toString(36).slice(2)}`;
  sandbox.state.slackBotTokens.add(token);
  return new SlackNotifier({ kind: "bot", token, channel, apiUrl: `${sandbox.url}/slack/api/` }, fast);
}

describe("finding a notice an earlier run sent", () => {
  it("finds a first message by its metadata, and the follow-up in its thread; not another incident's", async () => {
    const notifier = bot("C0FIND");
    const first = incident(1);
    const receipt = await notifier.notify(first, "contained");
    const threaded = { ...first, notifications: { slack: { ts: receipt.ts ?? "" } } };
    await notifier.followUp({ incident: threaded });
    const posted = sandbox.state.slackMessages.filter((m) => m.channel === "C0FIND");
    expect(posted.map((m) => m.payload.metadata)).toEqual([
      { event_type: NOTICE_EVENT_TYPE, event_payload: { incident_id: first.id, kind: "contained" } },
      { event_type: NOTICE_EVENT_TYPE, event_payload: { incident_id: first.id, kind: "follow-up" } },
    ]);

    expect(await notifier.findSent?.(first, "contained")).toEqual({ channel: "C0FIND", ts: receipt.ts });
    expect((await notifier.findSent?.(threaded, "follow-up"))?.ts).toBe(posted[1]?.ts);
    // Another kind of first message (a failed incident retried and now contained is news) and
    // another incident are not found.
    expect(await notifier.findSent?.(first, "failed")).toBeUndefined();
    expect(await notifier.findSent?.(incident(2), "contained")).toBeUndefined();
    expect(sandbox.state.callsTo("slack", "conversations.replies").length).toBeGreaterThan(0);
  });

  it("finds first messages that went out together in a digest, by the digest's list of notices", async () => {
    const notifier = bot("C0DIGEST");
    const burst = [10, 11, 12, 13].map((n) => incident(n));
    const receipts = await Promise.all(burst.map((i) => notifier.notify(i, "contained")));
    for (const [index, each] of burst.entries()) {
      const found = await notifier.findSent?.(each, "contained");
      // Where the message is that the owners read for it: its own, or the digest that lists it.
      expect(found?.ts, each.id).toBe(receipts[index]?.ts);
    }
  });

  it("reads only from just before the incident began, page by page", async () => {
    const notifier = bot("C0PAGES");
    const old = incident(20, new Date(Date.now() - 3_600_000));
    await notifier.notify(old, "contained");
    // Written long after: a fresh incident with the same id cannot be confused with the old message.
    expect(
      await notifier.findSent?.(
        { ...old, createdAt: new Date(Date.now() + 3_600_000).toISOString() },
        "contained",
      ),
    ).toBeUndefined();
    // Many messages since: the one sought is on a later page (200 a page, newest first).
    for (let n = 0; n < 210; n++)
      sandbox.state.slackMessages.push({
        receivedAt: new Date(),
        path: "/slack/api/chat.postMessage",
        payload: { text: `noise ${n}` },
        raw: "{}",
        channelKey: "C0PAGES",
        channel: "C0PAGES",
        ts: `${Math.floor(Date.now() / 1000) + 1}.${String(900_000 + n)}`,
      });
    expect(await notifier.findSent?.(old, "contained")).toBeDefined();
  });

  it("a token the channel refuses to read back makes the lookup fail, not answer 'not sent'", async () => {
    const notifier = bot("C0DENIED");
    sandbox.faults.inject({
      service: "slack",
      operation: "conversations.history",
      kind: "access-denied",
      times: 5,
    });
    await expect(notifier.findSent?.(incident(30), "contained")).rejects.toThrow();
    sandbox.faults.clear();
  });

  it("an incoming webhook has no read-back; a possible repeat says so, and no metadata goes to the webhook", async () => {
    const notifier = new SlackNotifier({ kind: "webhook", url: sandbox.slackWebhookUrl }, fast);
    expect(notifier.findSent).toBeUndefined();
    await notifier.notify(incident(40), "contained", { possibleRepeat: true });
    const last = sandbox.state.slackMessages.at(-1);
    expect(last?.raw).toContain("This may repeat an earlier message.");
    expect(String(last?.payload.text)).toMatch(/^\(May repeat an earlier message\)/);
    expect(last?.payload.metadata).toBeUndefined();
  });
});
