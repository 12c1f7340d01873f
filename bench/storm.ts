/**
 * The storm (issue 7): 500 alerts over 10 accounts and 25 repositories, each delivered 1-3 times in
 * random order within 10 s, every sandbox call answered after L = 50 ms, IAM throttling at 20/s per
 * account, Slack at its posting limit, CloudTrail at 2 TPS per account and region. Time to contain
 * runs from the first delivery's send to the key deactivated; its ratios are against the warm
 * critical path of one alert alone (4 sequential calls x L, see containment.ts) and against the time
 * IAM's limit alone needs for the storm's IAM calls.
 */
import { runStorm } from "../src/cli/storm.js";

const LATENCY_MS = 50;
const CRITICAL_PATH_CALLS = 4;
/** The sandbox's IAM limit per account (calls a second) that the storm runs under. */
const IAM_PER_SECOND = 20;

export async function benchStorm(): Promise<Record<string, number>> {
  const report = await runStorm({
    alerts: 500,
    accounts: 10,
    latencyMs: LATENCY_MS,
    iamRate: { perSecond: IAM_PER_SECOND, burst: 2 * IAM_PER_SECOND },
  });
  // The time IAM's limit alone needs for every IAM call the storm made, all accounts in parallel:
  // the floor under the worst time to contain when keys spread evenly over the accounts.
  const iamFloorMs = (report.iamCalls / (report.accounts * IAM_PER_SECOND)) * 1000;
  const alone = CRITICAL_PATH_CALLS * LATENCY_MS;
  const lost = report.alerts - report.contained + report.alertsWithDuplicateIncidents + report.deadLettered;
  if (lost > 0)
    throw new Error(`bench: the storm lost or doubled ${lost} alert(s): ${JSON.stringify(report)}`);
  const ratio = (ms: number) => Number((ms / alone).toFixed(2));
  return {
    alerts: report.alerts,
    deliveries: report.deliveries,
    accounts: report.accounts,
    repositories: report.repositories,
    wallSeconds: Number((report.wallMs / 1000).toFixed(1)),
    containedAll: report.contained === report.alerts ? 1 : 0,
    completedStories: report.completed,
    ttcMedianMs: report.timeToContainMs.median,
    ttcP95Ms: report.timeToContainMs.p95,
    ttcWorstMs: report.timeToContainMs.worst,
    ttcMedianVsOneAlertAlone: ratio(report.timeToContainMs.median),
    ttcP95VsOneAlertAlone: ratio(report.timeToContainMs.p95),
    iamCalls: report.iamCalls,
    iamFloorMs: Math.round(iamFloorMs),
    ttcWorstVsIamFloor: Number((report.timeToContainMs.worst / iamFloorMs).toFixed(2)),
    iamThrottledAbsorbed: report.iamThrottled,
    lookupEventsCalls: report.lookupEventsCalls,
    lookupEventsThrottledAbsorbed: report.lookupEventsThrottled,
    lookupEventsPeakPerSecondPerRegion: report.lookupEventsPeakPerSecond,
    slackMessages: report.slackMessages,
    slackPeakPerSecond: report.slackPeakPerSecond,
  };
}
