/**
 * SlackNotifier.quiet() (issue 13): the notification function waits for it before letting go of the
 * channel's message group, so the next process to take the group may post at once and Slack's pace
 * of about a message a second (facts.md) holds across processes, not only within one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { Sandbox } from "../../sandbox/server.js";
import { slackService } from "../../sandbox/slack.js";
import { SlackNotifier, type SlackNotifierOptions } from "../../src/adapters/slack/slack-notifier.js";
import { minimalIncident } from "../support/fakes.js";

const sandbox = new Sandbox({ services: [slackService] });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());

const retryConfig = { retries: 3, minTimeout: 5, maxTimeout: 10, factor: 1 };

function botNotifier(channel: string, options: SlackNotifierOptions) {
  const token = `test-bot-${Math.random().toString(36).slice(2)}`;
  sandbox.state.slackBotTokens.add(token);
  return new SlackNotifier({ kind: "bot", token, channel, apiUrl: `${sandbox.url}/slack/api/` }, options);
}

const contained = (n: number) => ({
  ...minimalIncident(`gh__acme__api__${n}`, "key deactivated"),
  accessKeyId: fakeAccessKeyId(),
});

describe("SlackNotifier.quiet()", () => {
  it("resolves only after everything queued is in Slack and a full interval has passed since the last", async () => {
    const intervalMs = 300;
    const notifier = botNotifier("C0QUIET", { retryConfig, intervalMs, digestThreshold: 100 });
    const before = sandbox.state.slackMessages.length;
    // Handed to the notifier, not awaited: quiet() must wait for them itself.
    const sends = [1, 2, 3].map((n) => notifier.notify(contained(n), "contained"));
    await notifier.quiet();
    const quietAt = Date.now();

    const sent = sandbox.state.slackMessages.slice(before);
    expect(sent).toHaveLength(3);
    const last = sent.at(-1)?.receivedAt.getTime() ?? Number.POSITIVE_INFINITY;
    expect(quietAt - last).toBeGreaterThanOrEqual(intervalMs - 5);
    await Promise.all(sends);
  });

  it("two processes taking turns at the channel, each quiet before letting go, never land two messages within 1 s (a slow post included)", async () => {
    sandbox.state.slackRateLimit = { intervalMs: 1000, burst: 1 };
    sandbox.state.slackBuckets.clear();
    const refusalsBefore = sandbox.state.slackRefusals.length;
    try {
      // Slack's own pace, as deployed (the default interval): no test scaling here.
      const [a, b] = [botNotifier("C0TURNS", { retryConfig }), botNotifier("C0TURNS", { retryConfig })];
      const before = sandbox.state.slackMessages.length;
      let n = 10;
      // The first post is slow on the way (a loaded Lambda, a slow network): Slack has it late, so
      // a pace counted from the send alone would let the next process land within the second.
      sandbox.faults.setLatency(400, { service: "slack" });
      for (const owner of [a, b, a]) {
        await owner.notify(contained(n++), "contained");
        sandbox.faults.setLatency(0, { service: "slack" });
        await owner.quiet();
      }
      const times = sandbox.state.slackMessages.slice(before).map((m) => m.receivedAt.getTime());
      expect(times).toHaveLength(3);
      const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
      expect(sandbox.state.slackRefusals.length).toBe(refusalsBefore);
    } finally {
      sandbox.faults.clear();
      sandbox.state.slackRateLimit = undefined;
    }
  }, 15_000);
});
