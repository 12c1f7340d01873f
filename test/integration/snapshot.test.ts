import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccountId } from "../../sandbox/fake-ids.js";
import { type Sandbox, startSandbox } from "../../sandbox/index.js";
import { DEFAULT_REGIONS } from "../../sandbox/state.js";
import { bulkHistory } from "../../sandbox/trail-history.js";
import { awsClients } from "../../src/adapters/aws/aws-clients.js";
import { CloudTrailActivityLog } from "../../src/adapters/aws/cloudtrail-activity.js";
import { lookupEventsPacer } from "../../src/forensics/region-pacer.js";
import { takeSnapshot } from "../../src/playbook/snapshot.js";

let sandbox: Sandbox;
const accountId = fakeAccountId();
const regions = DEFAULT_REGIONS.slice(0, 5);
let seededIds: string[] = [];
let leakedKeyId = "";

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.state.addAccount(accountId, "snapshot-test", regions);
  sandbox.state.addUser(accountId, "responder");
  const responder = sandbox.state.addAccessKey(accountId, "responder");
  sandbox.state.addUser(accountId, "ci");
  const leaked = sandbox.state.addAccessKey(accountId, "ci");
  leakedKeyId = leaked.accessKeyId;
  const now = Date.now();
  const records = bulkHistory({
    accountId,
    userName: "ci",
    accessKeyId: leaked.accessKeyId,
    regions,
    count: 1_300,
    from: new Date(now - 86_400_000),
    to: new Date(now - 60_000),
  });
  seededIds = records.map((r) => r.eventID).sort();
  sandbox.state.addTrailRecords(accountId, records);
  // The responder's own client factory, through AWS_ENDPOINT_URL as in a local run.
  Object.assign(process.env, sandbox.awsEnv(responder));
  delete process.env.AWS_SESSION_TOKEN;
});
afterAll(() => sandbox.stop());

function activity() {
  return new CloudTrailActivityLog(accountId, awsClients({ maxAttempts: 3 }), undefined);
}
const window = () => ({ startTime: new Date(Date.now() - 2 * 86_400_000), endTime: new Date() });

describe("takeSnapshot against the sandbox's CloudTrail (2 requests/second per region enforced)", () => {
  it("captures exactly the seeded events in every enabled region, and claims completeness only then", async () => {
    const snapshot = await takeSnapshot({
      activity: activity(),
      accessKeyId: leakedKeyId,
      window: window(),
      pacer: lookupEventsPacer(),
    });
    expect(snapshot.regions.sort()).toEqual([...regions].sort());
    expect(snapshot.events.map((e) => e.eventId).sort()).toEqual(seededIds);
    expect(snapshot.raw).toHaveLength(seededIds.length);
    expect(snapshot.complete).toBe(true);
    expect(snapshot.incompleteRegions).toEqual([]);
    expect(snapshot.results.every((r) => r.complete && r.error === undefined)).toBe(true);
  });

  it("names a region whose lookups are denied as incomplete, and still captures the others", async () => {
    sandbox.faults.inject({
      service: "cloudtrail",
      operation: "LookupEvents",
      kind: "access-denied",
      times: 1,
    });
    const snapshot = await takeSnapshot({
      activity: activity(),
      accessKeyId: leakedKeyId,
      window: window(),
      pacer: lookupEventsPacer(),
    });
    expect(snapshot.complete).toBe(false);
    expect(snapshot.incompleteRegions).toHaveLength(1);
    const failed = snapshot.incompleteRegions[0] ?? "";
    const perRegion = seededIds.length / regions.length;
    expect(snapshot.events.filter((e) => e.awsRegion !== failed)).toHaveLength(seededIds.length - perRegion);
    expect(snapshot.results.find((r) => r.region === failed)?.error).toMatch(/AccessDenied/);
  });

  it("absorbs injected throttling: every event is still captured", async () => {
    sandbox.faults.inject({ service: "cloudtrail", operation: "LookupEvents", kind: "throttle", times: 6 });
    const snapshot = await takeSnapshot({
      activity: activity(),
      accessKeyId: leakedKeyId,
      window: window(),
      pacer: lookupEventsPacer(),
    });
    expect(snapshot.complete).toBe(true);
    expect(snapshot.events.map((e) => e.eventId).sort()).toEqual(seededIds);
  });
});
