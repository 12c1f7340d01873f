/**
 * Issue 13: the storm on the deployed topology, with independent worker processes per queue (the
 * containment, investigation and notification functions, as Lambda runs them side by side). The
 * guarantees that held within one process must hold across processes, because they now come from
 * the queues: CloudTrail at most 2 LookupEvents a second per account and region (the investigation
 * queue's message group per account), Slack at most one message a second on the channel (the
 * notification queue's single group), every key contained once, nothing lost or dead-lettered.
 * `leak-responder storm --workers 8` runs the full 500 alerts; this keeps CI's share small.
 */
import { describe, expect, it } from "vitest";
import { runStorm } from "../../src/cli/storm.js";
import { MemoryLog } from "../../src/logger.js";

const ALERTS = 40;

describe("a storm across worker processes", () => {
  it("keeps CloudTrail's and Slack's limits across processes, contains every key once, loses nothing", {
    timeout: 300_000,
  }, async () => {
    const log = new MemoryLog();
    const report = await runStorm({ alerts: ALERTS, accounts: 3, workers: 3, spreadMs: 3_000, log });
    console.log(`storm --workers figures: ${JSON.stringify(report)}`);
    expect(log.lines.filter((l) => l.message === "a worker process stopped")).toEqual([]);
    expect(report.workers).toBe(3);
    expect(report.leftInQueues).toBe(0);
    expect(report.deliveriesRefused).toBe(0);
    expect(report.keysInactive).toBe(ALERTS);
    expect(report.contained).toBe(ALERTS);
    expect(report.incidents).toBe(ALERTS);
    expect(report.alertsWithDuplicateIncidents).toBe(0);
    expect(report.deadLettered).toBe(0);
    expect(report.completed).toBe(ALERTS);
    expect(report.incompleteSnapshots).toBe(0);
    expect(report.githubIssues).toBe(ALERTS);
    expect(report.incidentsWithDuplicateIssues).toBe(0);
    // The guarantees, now across processes.
    expect(report.lookupEventsCalls).toBeGreaterThan(ALERTS);
    expect(report.lookupEventsPeakPerSecond).toBeLessThanOrEqual(2);
    expect(report.slackMessages).toBeGreaterThan(1);
    expect(report.slackPeakPerSecond).toBeLessThanOrEqual(1);
    expect(report.slackRateLimited).toBe(0);
  });
});
