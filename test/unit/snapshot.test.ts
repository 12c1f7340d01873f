import { describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { PermanentFailure, TransientFailure } from "../../src/domain/errors.js";
import { RegionPacer } from "../../src/forensics/region-pacer.js";
import type { TrailEvent } from "../../src/forensics/trail-event.js";
import {
  continueSnapshot,
  type SnapshotInput,
  snapshotWindow,
  takeSnapshot,
} from "../../src/playbook/snapshot.js";
import type { ActivityLog, TrailPage } from "../../src/ports.js";

/**
 * Virtual time: sleepers wake in time order and the clock jumps to each wake-up, so pacing is
 * measured exactly and instantly. A timer fires only once every ready task has run (setTimeout 0).
 */
function virtualTime() {
  let now = 1_000_000;
  const timers: Array<{ at: number; wake: () => void }> = [];
  let scheduled = false;
  const tick = () => {
    scheduled = false;
    timers.sort((a, b) => a.at - b.at);
    const next = timers.shift();
    if (!next) return;
    now = Math.max(now, next.at);
    next.wake();
    schedule();
  };
  const schedule = () => {
    if (scheduled || timers.length === 0) return;
    scheduled = true;
    setTimeout(tick, 0);
  };
  return {
    now: () => now,
    sleep: (ms: number) =>
      new Promise<void>((wake) => {
        timers.push({ at: now + ms, wake });
        schedule();
      }),
  };
}

function event(accessKeyId: string, region: string, i: number, extra: Partial<TrailEvent> = {}): TrailEvent {
  return {
    eventId: `${accessKeyId}-${region}-${i}`,
    eventTime: new Date(Date.UTC(2026, 10, 20, 0, 0, i)).toISOString(),
    eventName: "GetObject",
    eventSource: "s3.amazonaws.com",
    awsRegion: region,
    userIdentity: { accessKeyId },
    ...extra,
  };
}

class FakeActivity implements ActivityLog {
  readonly accountId = "111122223333";
  readonly calls: Array<{ region: string; accessKeyId: string; at: number }> = [];
  failures = new Map<string, Error[]>();
  constructor(
    readonly events: Map<string, TrailEvent[]>,
    private readonly clock: () => number,
    readonly regions = [...new Set([...events.values()].flat().map((e) => e.awsRegion))],
  ) {}
  async enabledRegions(): Promise<string[]> {
    return this.regions;
  }
  async lookupByAccessKey(input: {
    region: string;
    accessKeyId: string;
    nextToken?: string;
  }): Promise<TrailPage> {
    this.calls.push({ region: input.region, accessKeyId: input.accessKeyId, at: this.clock() });
    const failure = this.failures.get(input.region)?.shift();
    if (failure) throw failure;
    const all = (this.events.get(input.accessKeyId) ?? []).filter((e) => e.awsRegion === input.region);
    const start = Number(input.nextToken ?? 0);
    const page = all.slice(start, start + 50);
    const next = start + 50 < all.length ? String(start + 50) : undefined;
    return { events: page, raw: page.map((e) => JSON.stringify(e)), ...(next ? { nextToken: next } : {}) };
  }
}

/** A snapshot of `key` paced at CloudTrail's 2 requests/second per region, on virtual time. */
function pacedSnapshot(
  activity: ActivityLog,
  key: string,
  time: ReturnType<typeof virtualTime>,
  extra: Partial<SnapshotInput> = {},
) {
  return takeSnapshot({
    activity,
    accessKeyId: key,
    window,
    pacer: new RegionPacer(2, time.now, time.sleep),
    sleep: time.sleep,
    ...extra,
  });
}

const window = { startTime: new Date("2026-11-01T00:00:00Z"), endTime: new Date("2026-11-26T00:00:00Z") };

describe("takeSnapshot", () => {
  it("captures every event of every region, each region paced at 2 requests/second, regions in parallel", async () => {
    const time = virtualTime();
    const key = fakeAccessKeyId();
    const regions = ["us-east-1", "eu-west-1", "ap-south-1"];
    const events = regions.flatMap((region, r) =>
      Array.from({ length: 120 + r * 60 }, (_, i) => event(key, region, i)),
    );
    const activity = new FakeActivity(new Map([[key, events]]), time.now);
    const snapshot = await pacedSnapshot(activity, key, time);

    expect(snapshot.complete).toBe(true);
    expect(snapshot.events.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
    for (const region of regions) {
      const times = activity.calls.filter((c) => c.region === region).map((c) => c.at);
      for (let i = 1; i < times.length; i++)
        expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(500);
    }
    // The slowest region (ap-south-1: 240 events = 5 pages) sets the floor: 4 intervals of 500 ms.
    const elapsed =
      Math.max(...activity.calls.map((c) => c.at)) - Math.min(...activity.calls.map((c) => c.at));
    expect(elapsed).toBe(2000);
  });

  it("follows keys minted with GetSessionToken and the roles they assumed", async () => {
    const time = virtualTime();
    const key = fakeAccessKeyId();
    const minted = fakeAccessKeyId("ASIA");
    const second = fakeAccessKeyId("ASIA");
    const roleArn = "arn:aws:iam::111122223333:role/deploy-admin";
    const events = new Map<string, TrailEvent[]>([
      [
        key,
        [
          event(key, "us-east-1", 1, {
            eventName: "GetSessionToken",
            eventSource: "sts.amazonaws.com",
            responseElements: { credentials: { accessKeyId: minted } },
          }),
        ],
      ],
      [
        minted,
        [
          event(minted, "us-east-1", 2, {
            eventName: "AssumeRole",
            eventSource: "sts.amazonaws.com",
            requestParameters: { roleArn },
            responseElements: { credentials: { accessKeyId: second } },
          }),
        ],
      ],
      [
        second,
        [event(second, "eu-west-1", 3, { eventName: "RunInstances", eventSource: "ec2.amazonaws.com" })],
      ],
    ]);
    const activity = new FakeActivity(events, time.now, ["us-east-1", "eu-west-1"]);
    const snapshot = await pacedSnapshot(activity, key, time);
    expect(snapshot.accessKeyIds).toEqual([key, minted, second]);
    expect(snapshot.rolesAssumed).toEqual([roleArn]);
    expect(snapshot.events.map((e) => e.eventName)).toEqual([
      "GetSessionToken",
      "AssumeRole",
      "RunInstances",
    ]);
  });

  it("tells of a role the key assumed as soon as its page is read, long before slow regions finish (revocation must not wait)", async () => {
    const time = virtualTime();
    const key = fakeAccessKeyId();
    const roleArn = "arn:aws:iam::111122223333:role/deploy-admin";
    const events = [
      event(key, "us-east-1", 1, {
        eventName: "AssumeRole",
        eventSource: "sts.amazonaws.com",
        requestParameters: { roleArn },
      }),
      // eu-west-1: 10 pages at 2 requests/second, 4.5 s of paced reading.
      ...Array.from({ length: 500 }, (_, i) => event(key, "eu-west-1", i)),
    ];
    const activity = new FakeActivity(new Map([[key, events]]), time.now);
    const told: Array<{ roleArn: string; at: number }> = [];
    const snapshot = await pacedSnapshot(activity, key, time, {
      onRoleAssumed: (arn) => told.push({ roleArn: arn, at: time.now() }),
    });
    expect(snapshot.rolesAssumed).toEqual([roleArn]);
    expect(told.map((t) => t.roleArn)).toEqual([roleArn]);
    const lastCall = Math.max(...activity.calls.map((c) => c.at));
    expect(lastCall - (told[0]?.at ?? lastCall)).toBeGreaterThanOrEqual(4000);
  });

  it("absorbs throttling (no missing events) and names a region that fails for good as incomplete", async () => {
    const time = virtualTime();
    const key = fakeAccessKeyId();
    const events = ["us-east-1", "eu-west-1"].flatMap((region) =>
      Array.from({ length: 70 }, (_, i) => event(key, region, i)),
    );
    const activity = new FakeActivity(new Map([[key, events]]), time.now);
    activity.failures.set("us-east-1", [
      new TransientFailure("ThrottlingException", "ThrottlingException"),
      new TransientFailure("ThrottlingException", "ThrottlingException"),
    ]);
    activity.failures.set("eu-west-1", [new PermanentFailure("AccessDenied", "AccessDenied")]);
    const snapshot = await pacedSnapshot(activity, key, time);
    expect(snapshot.events.filter((e) => e.awsRegion === "us-east-1")).toHaveLength(70);
    expect(snapshot.incompleteRegions).toEqual(["eu-west-1"]);
    expect(snapshot.complete).toBe(false);
    expect(snapshot.results.find((r) => r.region === "eu-west-1")?.error).toContain("AccessDenied");
  });

  it("stops at the deadline with a checkpoint, and continuing from it loses and repeats nothing", async () => {
    const time = virtualTime();
    const key = fakeAccessKeyId();
    const events = ["us-east-1", "eu-west-1"].flatMap((region) =>
      Array.from({ length: 400 }, (_, i) => event(key, region, i)),
    );
    const activity = new FakeActivity(new Map([[key, events]]), time.now);
    const realNow = Date.now;
    Date.now = time.now;
    try {
      const input = {
        activity,
        accessKeyId: key,
        window,
        pacer: new RegionPacer(2, time.now, time.sleep),
        sleep: time.sleep,
        deadline: time.now() + 1_600,
      };
      const first = await takeSnapshot(input);
      expect(first.complete).toBe(false);
      expect(first.checkpoint?.pending.length).toBe(2);
      expect(first.incompleteRegions).toEqual([]);
      const rest = await continueSnapshot(
        { ...input, deadline: time.now() + 60_000 },
        first.checkpoint,
        first,
      );
      expect(rest.complete).toBe(true);
      expect(rest.events).toHaveLength(800);
      expect(new Set(rest.events.map((e) => e.eventId)).size).toBe(800);
    } finally {
      Date.now = realNow;
    }
  });
});

describe("snapshotWindow", () => {
  it("looks back 7 days before the leak by default, never past 90 days, and ends at containment + grace or now", () => {
    const now = new Date("2026-11-26T02:10:00Z");
    const w = snapshotWindow({
      leakedAt: new Date("2026-11-26T01:00:00Z"),
      containedAt: new Date("2026-11-26T02:00:00Z"),
      now,
    });
    expect(w.startTime.toISOString()).toBe("2026-11-19T01:00:00.000Z");
    expect(w.endTime.toISOString()).toBe("2026-11-26T02:10:00.000Z");
    const long = snapshotWindow({ leakedAt: now, containedAt: now, now, lookbackDays: 400 });
    expect(now.getTime() - long.startTime.getTime()).toBe(90 * 86_400_000);
  });
});
