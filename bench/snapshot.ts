/**
 * CloudTrail snapshot throughput against the sandbox with the real 2 requests/second per region
 * limit enforced (ThrottlingException beyond it): N events over R regions, all captured, in a wall
 * time compared with the floor the API allows (pages of the busiest region / 2 per second).
 */
import { fakeAccountId } from "../sandbox/fake-ids.js";
import { startSandbox } from "../sandbox/index.js";
import { DEFAULT_REGIONS } from "../sandbox/state.js";
import { bulkHistory } from "../sandbox/trail-history.js";
import { awsClients } from "../src/adapters/aws/aws-clients.js";
import { CloudTrailActivityLog, LOOKUP_PAGE_SIZE } from "../src/adapters/aws/cloudtrail-activity.js";
import { lookupEventsPacer } from "../src/forensics/region-pacer.js";
import { takeSnapshot } from "../src/playbook/snapshot.js";

export async function benchSnapshot(events = 10_000, regionCount = 17): Promise<Record<string, number>> {
  const sandbox = await startSandbox();
  try {
    const accountId = fakeAccountId();
    const regions = DEFAULT_REGIONS.slice(0, regionCount);
    sandbox.state.addAccount(accountId, "bench", regions);
    sandbox.state.addUser(accountId, "responder");
    const responder = sandbox.state.addAccessKey(accountId, "responder");
    sandbox.state.addUser(accountId, "ci");
    const leaked = sandbox.state.addAccessKey(accountId, "ci");
    const now = Date.now();
    sandbox.state.addTrailRecords(
      accountId,
      bulkHistory({
        accountId,
        userName: "ci",
        accessKeyId: leaked.accessKeyId,
        regions,
        count: events,
        from: new Date(now - 2 * 86_400_000),
        to: new Date(now - 60_000),
      }),
    );
    // The responder's own client factory, pointed at the sandbox the way a local run is.
    Object.assign(process.env, sandbox.awsEnv(responder));
    delete process.env.AWS_SESSION_TOKEN;
    const clients = awsClients({ maxAttempts: 5 });
    const activity = new CloudTrailActivityLog(accountId, clients, undefined);
    const started = Date.now();
    const snapshot = await takeSnapshot({
      activity,
      accessKeyId: leaked.accessKeyId,
      window: { startTime: new Date(now - 3 * 86_400_000), endTime: new Date(now) },
      pacer: lookupEventsPacer(),
    });
    const wallMs = Date.now() - started;
    const busiest = Math.max(...regions.map((r) => snapshot.events.filter((e) => e.awsRegion === r).length));
    const pages = Math.ceil(busiest / LOOKUP_PAGE_SIZE);
    const floorMs = (pages / 2) * 1000;
    const throttles = sandbox.state
      .callsTo("cloudtrail", "LookupEvents")
      .filter((c) => c.status === 400).length;
    if (snapshot.events.length !== events || !snapshot.complete) {
      throw new Error(`bench: snapshot captured ${snapshot.events.length} of ${events} events`);
    }
    return {
      snapshot_events: snapshot.events.length,
      snapshot_regions: regions.length,
      snapshot_pages_busiest_region: pages,
      snapshot_wall_ms: wallMs,
      snapshot_floor_ms: floorMs,
      snapshot_ratio_to_floor: Math.round((wallMs / floorMs) * 100) / 100,
      snapshot_events_per_second: Math.round(events / (wallMs / 1000)),
      snapshot_throttled_requests: throttles,
    };
  } finally {
    await sandbox.stop();
  }
}
