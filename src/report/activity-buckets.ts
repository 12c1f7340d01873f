/**
 * The key's calls over time, counted into a bounded number of buckets per series (signal category
 * or region): the data behind the report's activity chart. Counting happens once, here, so the JSON
 * report carries the chart's data and the SVG is drawn from at most MAX_BUCKETS x series numbers,
 * however many events there were (a 90-day history of a busy CI key is hundreds of thousands).
 */
import { SIGNAL_CATEGORIES, signalRulesFor } from "../forensics/signals.js";
import type { TrailEvent } from "../forensics/trail-event.js";

export type ActivityGrouping = "category" | "region";

/** Enough columns to see a burst, few enough that each is wide enough to hover on (plus up to
 * two for aligning the first and last bucket to whole steps). */
export const MAX_BUCKETS = 72;
/** Regions beyond this are drawn as one "other regions" series: colours stay distinguishable. */
export const MAX_REGION_SERIES = 6;
export const OTHER_CALLS = "other calls";
/** Calls before the leak are the owner's own: drawn apart, never in an attacker's colours. */
export const BEFORE_LEAK = "before the leak";
export const OTHER_REGIONS = "other regions";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Bucket widths people can read off an axis without arithmetic. */
export const NICE_STEPS_MS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
] as const;

export interface ActivityView {
  /** `window`: the whole snapshot; `leak`: from just before the leak to just after containment. */
  id: "window" | "leak";
  title: string;
  from: string;
  to: string;
  bucketMs: number;
  /** One row per bucket (the first starts at `from`), one count per series in `series` order. */
  counts: number[][];
  /** Calls in this view, per series. */
  totals: number[];
  total: number;
  /** The busiest bucket's calls. */
  peak: number;
}

export interface ActivityData {
  groupBy: ActivityGrouping;
  series: string[];
  /** Calls per series over every dated event. */
  totals: number[];
  events: number;
  /** Events whose time could not be read: counted here, drawn nowhere. */
  undated: number;
  leakedAt?: string;
  /** What the leak time is: "key committed" or "alert created". */
  leakLabel?: string;
  containedAt?: string;
  views: ActivityView[];
}

export interface ActivityOptions {
  groupBy?: ActivityGrouping;
  /** The snapshot's window: the chart spans it even where the key made no call. */
  window?: { startTime: string; endTime: string };
  leakedAt?: string;
  leakLabel?: string;
  containedAt?: string;
}

/** The smallest readable bucket width that fits `spanMs` into at most `maxBuckets` buckets. */
export function niceStep(spanMs: number, maxBuckets: number): number {
  const wanted = Math.max(spanMs, 1) / maxBuckets;
  for (const step of NICE_STEPS_MS) if (step >= wanted) return step;
  // Longer than any nice step allows (not a real CloudTrail history): whole days, still bounded.
  return Math.ceil(wanted / DAY) * DAY;
}

function time(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The most alarming category a call belongs to, else "other calls" (the index after the last
 * category); the identity check every CI run makes is not recon.
 */
function categoryIndex(event: TrailEvent): number {
  let best: number = SIGNAL_CATEGORIES.length;
  for (const rule of signalRulesFor(event)) {
    if (rule.keyCheck) continue;
    const index = SIGNAL_CATEGORIES.indexOf(rule.category);
    if (index >= 0 && index < best) best = index;
  }
  return best;
}

function regionSeries(events: readonly TrailEvent[]): string[] {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.awsRegion, (counts.get(event.awsRegion) ?? 0) + 1);
  const ranked = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([r]) => r);
  if (ranked.length <= MAX_REGION_SERIES) return ranked;
  return [...ranked.slice(0, MAX_REGION_SERIES - 1), OTHER_REGIONS];
}

interface ViewRange {
  id: ActivityView["id"];
  title: string;
  from: number;
  to: number;
}

function emptyView(range: ViewRange, seriesCount: number): ActivityView & { fromMs: number } {
  const step = niceStep(range.to - range.from, MAX_BUCKETS);
  const from = Math.floor(range.from / step) * step;
  // The bucket holding `range.to` is included: an event at the very end is drawn, not dropped.
  const to = (Math.floor(range.to / step) + 1) * step;
  const buckets = Math.round((to - from) / step);
  return {
    id: range.id,
    title: range.title,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    bucketMs: step,
    counts: Array.from({ length: buckets }, () => new Array<number>(seriesCount).fill(0)),
    totals: new Array<number>(seriesCount).fill(0),
    total: 0,
    peak: 0,
    fromMs: from,
  };
}

/** Views worth drawing: the whole window, and a close-up of the leak when the window would hide it. */
function viewRanges(times: { first?: number; last?: number }, options: ActivityOptions): ViewRange[] {
  const leak = time(options.leakedAt);
  const contained = time(options.containedAt);
  const candidates = [
    time(options.window?.startTime),
    times.first,
    leak,
    contained,
    time(options.window?.endTime),
    times.last,
  ];
  const known = candidates.filter((t): t is number => t !== undefined);
  if (known.length === 0) return [];
  const from = Math.min(...known);
  const to = Math.max(...known);
  const ranges: ViewRange[] = [{ id: "window", title: "The whole snapshot window", from, to }];
  if (leak !== undefined && contained !== undefined && contained >= leak) {
    const span = Math.max(contained - leak, MINUTE);
    // A little before the leak (what the key did just before), and after containment long enough
    // to show the attempts IAM now denies.
    const closeFrom = leak - Math.max(span / 4, MINUTE);
    const closeTo = contained + Math.max(span / 2, 5 * MINUTE);
    if ((closeTo - closeFrom) * 4 < to - from) {
      ranges.push({
        id: "leak",
        title: "From the leak to containment, close up",
        from: closeFrom,
        to: closeTo,
      });
    }
  }
  return ranges;
}

export function bucketActivity(events: readonly TrailEvent[], options: ActivityOptions = {}): ActivityData {
  const groupBy = options.groupBy ?? "category";
  const series =
    groupBy === "category" ? [...SIGNAL_CATEGORIES, OTHER_CALLS, BEFORE_LEAK] : regionSeries(events);
  const leak = time(options.leakedAt);
  const beforeLeak = series.indexOf(BEFORE_LEAK);
  const regionIndex = new Map(series.map((name, index) => [name, index]));
  const otherRegion = regionIndex.get(OTHER_REGIONS) ?? series.length - 1;

  // One pass for the times, so the views can be sized before counting.
  const stamps = new Float64Array(events.length);
  let first: number | undefined;
  let last: number | undefined;
  let undated = 0;
  events.forEach((event, index) => {
    const ms = Date.parse(event.eventTime);
    stamps[index] = ms;
    if (Number.isNaN(ms)) {
      undated += 1;
      return;
    }
    if (first === undefined || ms < first) first = ms;
    if (last === undefined || ms > last) last = ms;
  });
  const views = viewRanges(
    { ...(first === undefined ? {} : { first }), ...(last === undefined ? {} : { last }) },
    options,
  ).map((range) => emptyView(range, series.length));
  const totals = new Array<number>(series.length).fill(0);
  events.forEach((event, index) => {
    const ms = stamps[index];
    if (ms === undefined || Number.isNaN(ms)) return;
    const seriesIndex =
      groupBy === "region"
        ? (regionIndex.get(event.awsRegion) ?? otherRegion)
        : leak !== undefined && ms < leak
          ? beforeLeak
          : categoryIndex(event);
    totals[seriesIndex] = (totals[seriesIndex] ?? 0) + 1;
    for (const view of views) {
      const bucket = Math.floor((ms - view.fromMs) / view.bucketMs);
      const row = view.counts[bucket];
      if (!row) continue;
      row[seriesIndex] = (row[seriesIndex] ?? 0) + 1;
      view.totals[seriesIndex] = (view.totals[seriesIndex] ?? 0) + 1;
      view.total += 1;
    }
  });
  return {
    groupBy,
    series,
    totals,
    events: events.length,
    undated,
    ...(options.leakedAt ? { leakedAt: options.leakedAt } : {}),
    ...(options.leakLabel ? { leakLabel: options.leakLabel } : {}),
    ...(options.containedAt ? { containedAt: options.containedAt } : {}),
    views: views.map(({ fromMs: _fromMs, ...view }) => ({
      ...view,
      peak: view.counts.reduce(
        (peak, row) =>
          Math.max(
            peak,
            row.reduce((sum, n) => sum + n, 0),
          ),
        0,
      ),
    })),
  };
}
