import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import type { TrailEvent } from "../../src/forensics/trail-event.js";
import {
  BEFORE_LEAK,
  bucketActivity,
  MAX_BUCKETS,
  MAX_REGION_SERIES,
  niceStep,
  OTHER_CALLS,
  OTHER_REGIONS,
} from "../../src/report/activity-buckets.js";
import { activityChartSvg } from "../../src/report/activity-chart.js";

const KEY = fakeAccessKeyId();
const LEAK = "2026-11-02T09:00:00.000Z";
const CONTAINED = "2026-11-02T09:25:00.000Z";
const WINDOW = { startTime: "2026-10-26T09:00:00.000Z", endTime: "2026-11-02T09:40:00.000Z" };

function event(
  at: string | number,
  eventSource: string,
  eventName: string,
  awsRegion = "us-east-1",
): TrailEvent {
  return {
    eventId: randomUUID(),
    eventTime: typeof at === "number" ? new Date(at).toISOString() : at,
    eventSource,
    eventName,
    awsRegion,
    userIdentity: { accessKeyId: KEY },
  };
}

function bars(svg: string): number {
  return (svg.match(/<rect class="bar"/g) ?? []).length;
}

describe("the activity chart", () => {
  it("with no event: the axes, the markers and a plain sentence, no bar", () => {
    const activity = bucketActivity([], {
      window: WINDOW,
      leakedAt: LEAK,
      containedAt: CONTAINED,
      leakLabel: "key committed",
    });
    expect(activity.views.map((v) => v.id)).toEqual(["window", "leak"]);
    for (const view of activity.views) {
      const svg = activityChartSvg(activity, view);
      expect(bars(svg)).toBe(0);
      expect(svg).toContain("No calls by the key in this period");
      expect(svg).toContain('data-marker="leak"');
      expect(svg).toContain('data-marker="contained"');
      expect(svg).toContain("leak (key committed)");
    }
  });

  it("with nothing at all to place in time: no view (the report says so in words)", () => {
    expect(bucketActivity([]).views).toEqual([]);
  });

  it("with one event: one bar of one call, in its category", () => {
    const activity = bucketActivity([event("2026-11-02T09:10:00Z", "iam.amazonaws.com", "CreateUser")], {
      leakedAt: LEAK,
      containedAt: CONTAINED,
    });
    const view = activity.views[0];
    if (!view) throw new Error("no view");
    const svg = activityChartSvg(activity, view);
    expect(bars(svg)).toBe(1);
    expect(svg).toMatch(/<rect class="bar" data-series="persistence" data-count="1"/);
    expect(svg).toContain("persistence (1)");
  });

  it("keeps the owner's calls before the leak apart, and the CI's identity check out of recon", () => {
    const activity = bucketActivity(
      [
        event("2026-11-01T09:00:00Z", "iam.amazonaws.com", "CreateUser"),
        event("2026-11-02T09:05:00Z", "sts.amazonaws.com", "GetCallerIdentity"),
        event("2026-11-02T09:06:00Z", "iam.amazonaws.com", "ListUsers"),
      ],
      { window: WINDOW, leakedAt: LEAK, containedAt: CONTAINED },
    );
    const total = (name: string) => activity.totals[activity.series.indexOf(name)];
    expect(total(BEFORE_LEAK)).toBe(1);
    expect(total("persistence")).toBe(0);
    expect(total(OTHER_CALLS)).toBe(1);
    expect(total("recon")).toBe(1);
  });

  it("counts an event at the very end of the window (the last bucket is not cut off)", () => {
    const end = "2026-11-02T12:00:00.000Z";
    const activity = bucketActivity([event(end, "s3.amazonaws.com", "ListBuckets")], {
      window: { startTime: "2026-11-02T00:00:00.000Z", endTime: end },
    });
    expect(activity.views[0]?.total).toBe(1);
  });

  it("by region: the busiest regions by name, the rest as one series", () => {
    const regions = [
      "us-east-1",
      "eu-west-1",
      "sa-east-1",
      "ap-south-1",
      "eu-north-1",
      "us-west-2",
      "ca-central-1",
      "me-south-1",
    ];
    const events = regions.flatMap((region, i) =>
      Array.from({ length: 10 - i }, (_, j) =>
        event(Date.parse(LEAK) + j * 60_000, "ec2.amazonaws.com", "DescribeInstances", region),
      ),
    );
    const activity = bucketActivity(events, { groupBy: "region", leakedAt: LEAK, containedAt: CONTAINED });
    expect(activity.series).toHaveLength(MAX_REGION_SERIES);
    expect(activity.series.slice(0, 2)).toEqual(["us-east-1", "eu-west-1"]);
    expect(activity.series.at(-1)).toBe(OTHER_REGIONS);
    expect(activity.totals.reduce((a, b) => a + b, 0)).toBe(events.length);
    expect(activity.totals.at(-1)).toBe(5 + 4 + 3);
  });

  it("with 100k events over 90 days stays bounded: a few dozen bars, a small SVG, every event counted", () => {
    const start = Date.parse("2026-08-04T00:00:00Z");
    const span = 90 * 86_400_000;
    const names: Array<[string, string]> = [
      ["s3.amazonaws.com", "GetObject"],
      ["iam.amazonaws.com", "ListUsers"],
      ["lambda.amazonaws.com", "UpdateFunctionCode20150331v2"],
      ["iam.amazonaws.com", "CreateUser"],
    ];
    const events = Array.from({ length: 100_000 }, (_, i) => {
      const [source, name] = names[i % names.length] ?? ["s3.amazonaws.com", "GetObject"];
      return event(start + Math.floor((i / 100_000) * span), source, name, i % 3 ? "us-east-1" : "eu-west-1");
    });
    const began = performance.now();
    const activity = bucketActivity(events, {
      window: { startTime: new Date(start).toISOString(), endTime: new Date(start + span).toISOString() },
      leakedAt: new Date(start + span - 86_400_000).toISOString(),
      containedAt: new Date(start + span - 86_000_000).toISOString(),
    });
    const svg = activity.views.map((view) => activityChartSvg(activity, view)).join("");
    expect(performance.now() - began).toBeLessThan(5_000);
    for (const view of activity.views) expect(view.counts.length).toBeLessThanOrEqual(MAX_BUCKETS + 2);
    expect(activity.views[0]?.total).toBe(100_000);
    expect(activity.totals.reduce((a, b) => a + b, 0)).toBe(100_000);
    expect(bars(svg)).toBeLessThanOrEqual((MAX_BUCKETS + 2) * activity.series.length * activity.views.length);
    expect(svg.length).toBeLessThan(250_000);
    expect(JSON.stringify(activity).length).toBeLessThan(30_000);
  });

  it("reads bucket widths people can say: 3 h for a week, 10 s for ten minutes", () => {
    expect(niceStep(7 * 86_400_000, MAX_BUCKETS)).toBe(3 * 3_600_000);
    expect(niceStep(10 * 60_000, MAX_BUCKETS)).toBe(10_000);
    expect(niceStep(0, MAX_BUCKETS)).toBe(1_000);
  });

  it("escapes series names and labels (a hostile region name stays text)", () => {
    const activity = bucketActivity(
      [event(LEAK, "ec2.amazonaws.com", "DescribeInstances", "<script>alert(1)</script>")],
      {
        groupBy: "region",
      },
    );
    const view = activity.views[0];
    if (!view) throw new Error("no view");
    const svg = activityChartSvg(activity, view);
    expect(svg).not.toContain("<script");
    expect(svg).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});
