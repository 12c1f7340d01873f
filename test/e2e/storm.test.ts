/**
 * Issue 7, the storm: 500 distinct alerts across several accounts and repositories, each delivered
 * 1-3 times in random order, through the local intake and queue on the sandbox with IAM's and
 * Slack's rate limits on and CloudTrail's real 2 requests/second per account and region. Every key
 * must end contained, with exactly one incident, the alert resolved once, nothing dead-lettered,
 * Slack told within its limit, every snapshot complete, and no byte of any planted secret anywhere.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { StormWorld } from "../../sandbox/storm.js";
import { runStorm, type StormReport, type StormStack } from "../../src/cli/storm.js";
import { MemoryLog } from "../../src/logger.js";
import { findPlanted, recordQueued, sandboxOutputs } from "../support/secret-hygiene.js";

const ALERTS = 500;

describe("a storm of 500 leaked keys", () => {
  it("contains every key once, tells Slack within its limit, snapshots at 2 TPS, leaks no secret", {
    timeout: 420_000,
  }, async () => {
    const planted = `PLANTED${randomBytes(12).toString("hex")}`;
    const log = new MemoryLog();
    const queued: string[] = [];
    let stack: StormStack | undefined;
    let storm: StormWorld | undefined;
    const report: StormReport = await runStorm({
      alerts: ALERTS,
      accounts: 10,
      secretPrefix: planted,
      log,
      onStart: (running, seeded) => {
        stack = running;
        storm = seeded;
        recordQueued(running.server.queue, queued);
      },
    });
    console.log(`storm figures: ${JSON.stringify(report)}`);
    if (!stack || !storm) throw new Error("the storm did not start");
    const state = stack.sandbox.state;

    // Every key dead, one incident per alert, nothing lost or done twice.
    expect(report.deliveriesRefused).toBe(0);
    expect(report.deliveries).toBeGreaterThan(ALERTS);
    expect(report.keysInactive).toBe(ALERTS);
    expect(report.contained).toBe(ALERTS);
    expect(report.incidents).toBe(ALERTS);
    expect(report.alertsWithoutIncident).toBe(0);
    expect(report.alertsWithDuplicateIncidents).toBe(0);
    // A second PATCH of an alert only ever follows a resolve call whose answer was lost (timed out).
    expect(report.alertsResolvedTwice).toBeLessThanOrEqual(report.callsAbandoned["github updateAlert"] ?? 0);
    expect(report.deadLettered).toBe(0);
    expect(report.completed).toBe(ALERTS);
    expect(report.githubIssues).toBe(ALERTS);
    for (const alert of storm.alerts) {
      expect(state.repo(alert.repository)?.alerts.get(alert.number)?.state).toBe("resolved");
    }

    // The services pushed back and the responder absorbed it: IAM did throttle, and every snapshot
    // still completed without exceeding 2 LookupEvents a second for any account and region.
    expect(report.iamThrottled).toBeGreaterThan(0);
    expect(report.incompleteSnapshots).toBe(0);
    expect(report.lookupEventsPeakPerSecond).toBeLessThanOrEqual(2);

    // Slack: a digest and threads, never over its limit, and every key named where people look.
    expect(report.slackRateLimited).toBe(0);
    expect(report.slackPeakPerSecond).toBeLessThanOrEqual(3);
    expect(report.slackMessages).toBeLessThan(ALERTS);
    expect(report.slackThreadReplies).toBeGreaterThan(0);
    const slackText = state.slackMessages.map((m) => m.raw).join("\n");
    const unnamed = storm.alerts.filter((a) => !slackText.includes(a.accessKeyId));
    expect(unnamed.map((a) => a.accessKeyId.slice(-4))).toEqual([]);

    // No byte of any planted secret in any log line, queue message, object, issue, comment or message.
    const found = findPlanted(planted, {
      log: [log.text()],
      queue: queued,
      sandbox: sandboxOutputs(state),
      report: [JSON.stringify(report)],
    });
    expect(queued.length).toBe(report.deliveries);
    expect(found).toEqual([]);
  });
});
