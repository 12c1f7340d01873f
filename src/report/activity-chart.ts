/**
 * The activity chart as inline SVG: the key's calls per bucket, stacked by series, with the leak and
 * the containment marked, axes in UTC and a legend. Drawn from bucketed counts (activity-buckets.ts),
 * so its size is bounded by the number of buckets, not of events; no script, no external font.
 */
import type { ActivityData, ActivityView } from "./activity-buckets.js";
import { BEFORE_LEAK, OTHER_CALLS, OTHER_REGIONS } from "./activity-buckets.js";
import { escapeHtml } from "./html-escape.js";
import { formatStep, formatUtc } from "./time-format.js";

const WIDTH = 960;
const PLOT_HEIGHT = 200;
const MARGIN = { left: 52, right: 20, top: 40, bottom: 30 };
const LEGEND_ROW = 22;

/** Calm for routine calls, warm to alarming for what an attacker does (colour-blind-safe hues). */
const CATEGORY_COLOURS: Readonly<Record<string, string>> = {
  "defense-evasion": "#6a3d9a",
  "credential-access": "#1b9e77",
  exfiltration: "#e7298a",
  persistence: "#d62728",
  "privilege-escalation": "#ff7f0e",
  impact: "#8c564b",
  recon: "#e6ab02",
  [OTHER_CALLS]: "#7d8b99",
  [BEFORE_LEAK]: "#c5d0db",
};
const REGION_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#bcbd22", "#e377c2"];
export const LEAK_COLOUR = "#c0392b";
export const CONTAINED_COLOUR = "#1e8449";

export function seriesColour(activity: Pick<ActivityData, "groupBy" | "series">, name: string): string {
  if (activity.groupBy === "category") return CATEGORY_COLOURS[name] ?? "#9aa9b8";
  if (name === OTHER_REGIONS) return "#9aa9b8";
  const index = activity.series.indexOf(name);
  return REGION_COLOURS[index % REGION_COLOURS.length] ?? "#9aa9b8";
}

/** 1, 2 or 5 times a power of ten, at least `value`: gridlines people can read. */
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= value) return factor * power;
  return 10 * power;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function tickLabel(ms: number, stepMs: number, withDate: boolean): string {
  const date = new Date(ms);
  const day = `${MONTHS[date.getUTCMonth()] ?? ""} ${date.getUTCDate()}`;
  if (stepMs >= 86_400_000) return day;
  const hhmm = date.toISOString().slice(11, stepMs < 60_000 ? 19 : 16);
  return withDate ? `${day} ${hhmm}` : hhmm;
}

/** At most about seven ticks on whole steps; a label carries the date when the day changes. */
function ticks(from: number, to: number, plotWidth: number): Array<{ x: number; label: string }> {
  const steps = [
    1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
    10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000, 1_209_600_000, 2_592_000_000,
  ];
  const span = Math.max(to - from, 1);
  const step = steps.find((s) => span / s <= 7) ?? Math.ceil(span / 7 / 86_400_000) * 86_400_000;
  const out: Array<{ x: number; label: string }> = [];
  let previousDay = "";
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ x: ((t - from) / span) * plotWidth, label: tickLabel(t, step, day !== previousDay) });
    previousDay = day;
  }
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export interface ChartOptions {
  /** Unique on the page: SVG ids (title, description) are derived from it. */
  idPrefix?: string;
}

/** The SVG of one view of the activity. Every interpolated string is escaped. */
export function activityChartSvg(
  activity: ActivityData,
  view: ActivityView,
  options: ChartOptions = {},
): string {
  const id = escapeHtml(`${options.idPrefix ?? "activity"}-${view.id}`);
  const from = Date.parse(view.from);
  const to = Date.parse(view.to);
  const span = Math.max(to - from, 1);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const buckets = Math.max(view.counts.length, 1);
  const bucketWidth = plotWidth / buckets;
  const yMax = niceCeiling(view.peak);
  const y = (count: number) => MARGIN.top + PLOT_HEIGHT - (count / yMax) * PLOT_HEIGHT;
  const xOf = (ms: number) => MARGIN.left + ((ms - from) / span) * plotWidth;
  const parts: string[] = [];

  // Gridlines and the y axis: 0, half and the top.
  for (const value of [0, yMax / 2, yMax]) {
    if (!Number.isInteger(value)) continue;
    const gy = y(value).toFixed(1);
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${gy}" y2="${gy}" stroke="#e3e8ee" />`,
      `<text x="${MARGIN.left - 6}" y="${gy}" text-anchor="end" dominant-baseline="middle" class="axis">${value}</text>`,
    );
  }
  parts.push(
    `<text class="axis-title" x="${MARGIN.left - 40}" y="${MARGIN.top - 22}">calls per ${escapeHtml(formatStep(view.bucketMs))}</text>`,
  );

  // The bars, stacked: the owner's own calls at the bottom, the most alarming category on top.
  const order = activity.series.map((_name, index) => index).reverse();
  view.counts.forEach((row, bucket) => {
    const total = row.reduce((sum, n) => sum + n, 0);
    if (total === 0) return;
    const x = MARGIN.left + bucket * bucketWidth;
    const width = Math.max(bucketWidth - (bucketWidth > 4 ? 1 : 0), 1);
    const start = formatUtc(new Date(from + bucket * view.bucketMs).toISOString());
    let base = 0;
    for (const index of order) {
      const count = row[index] ?? 0;
      if (count === 0) continue;
      const name = activity.series[index] ?? "";
      const top = y(base + count);
      const height = Math.max(y(base) - top, 1);
      parts.push(
        `<rect class="bar" data-series="${escapeHtml(name)}" data-count="${count}" x="${x.toFixed(2)}" y="${(y(base) - height).toFixed(2)}" width="${width.toFixed(2)}" height="${height.toFixed(2)}" fill="${seriesColour(activity, name)}"><title>${escapeHtml(`${start}, ${formatStep(view.bucketMs)}: ${plural(count, "call")} (${name})`)}</title></rect>`,
      );
      base += count;
    }
  });
  if (view.total === 0) {
    parts.push(
      `<text class="empty" x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + PLOT_HEIGHT / 2}" text-anchor="middle">No calls by the key in this period</text>`,
    );
  }

  // The x axis in UTC.
  const axisY = MARGIN.top + PLOT_HEIGHT;
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${axisY}" y2="${axisY}" stroke="#8795a1" />`,
  );
  for (const tick of ticks(from, to, plotWidth)) {
    const tx = (MARGIN.left + tick.x).toFixed(1);
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${axisY}" y2="${axisY + 4}" stroke="#8795a1" />`,
      `<text class="axis" x="${tx}" y="${axisY + 17}" text-anchor="middle">${escapeHtml(tick.label)}</text>`,
    );
  }
  parts.push(
    `<text class="axis-title" x="${WIDTH - MARGIN.right}" y="${axisY + 28}" text-anchor="end">UTC</text>`,
  );

  // The markers: two heights for the labels, so a leak and a containment minutes apart on a
  // week-long axis never print over each other.
  const markers = [
    {
      kind: "leak",
      at: activity.leakedAt,
      label: `leak (${activity.leakLabel ?? "leak time"})`,
      colour: LEAK_COLOUR,
      dash: ' stroke-dasharray="5 3"',
      row: 0,
    },
    {
      kind: "contained",
      at: activity.containedAt,
      label: "key deactivated",
      colour: CONTAINED_COLOUR,
      dash: "",
      row: 1,
    },
  ];
  for (const marker of markers) {
    const ms = marker.at === undefined ? Number.NaN : Date.parse(marker.at);
    if (Number.isNaN(ms) || ms < from || ms > to) continue;
    const mx = xOf(ms);
    const labelY = MARGIN.top - 24 + marker.row * 13;
    const nearRight = mx > WIDTH - MARGIN.right - 150;
    const anchor =
      marker.kind === "leak" ? (mx < MARGIN.left + 150 ? "start" : "end") : nearRight ? "end" : "start";
    const labelX = anchor === "end" ? mx - 4 : mx + 4;
    parts.push(
      `<g class="marker marker-${marker.kind}" data-marker="${marker.kind}"><line x1="${mx.toFixed(2)}" x2="${mx.toFixed(2)}" y1="${labelY - 8}" y2="${axisY}" stroke="${marker.colour}" stroke-width="1.5"${marker.dash} /><text x="${labelX.toFixed(2)}" y="${labelY}" text-anchor="${anchor}" fill="${marker.colour}" class="marker-label">${escapeHtml(marker.label)}</text><title>${escapeHtml(`${marker.label}: ${marker.at ? formatUtc(marker.at) : ""}`)}</title></g>`,
    );
  }

  // The legend: the series this view shows, then the markers.
  const legend: Array<{ swatch: string; text: string }> = [];
  activity.series.forEach((name, index) => {
    const count = view.totals[index] ?? 0;
    if (count > 0) {
      legend.push({
        swatch: `<rect width="12" height="12" y="-10" fill="${seriesColour(activity, name)}" />`,
        text: `${name} (${count})`,
      });
    }
  });
  legend.push(
    {
      swatch: `<line x1="0" x2="14" y1="-4" y2="-4" stroke="${LEAK_COLOUR}" stroke-width="2" stroke-dasharray="5 3" />`,
      text: "leak",
    },
    {
      swatch: `<line x1="0" x2="14" y1="-4" y2="-4" stroke="${CONTAINED_COLOUR}" stroke-width="2" />`,
      text: "key deactivated",
    },
  );
  const legendTop = axisY + MARGIN.bottom + 20;
  let lx = MARGIN.left;
  let ly = legendTop;
  const legendParts: string[] = [];
  for (const item of legend) {
    const width = 20 + item.text.length * 6.4 + 14;
    if (lx + width > WIDTH - MARGIN.right && lx > MARGIN.left) {
      lx = MARGIN.left;
      ly += LEGEND_ROW;
    }
    legendParts.push(
      `<g class="legend-item" transform="translate(${lx.toFixed(1)} ${ly})">${item.swatch}<text x="20" y="0" class="legend">${escapeHtml(item.text)}</text></g>`,
    );
    lx += width;
  }
  const height = ly + 12;

  const by = activity.groupBy === "category" ? "signal category" : "region";
  const title = `${view.title}: calls by the key per ${formatStep(view.bucketMs)}, by ${by}`;
  const description = `${plural(view.total, "call")} from ${formatUtc(view.from)} to ${formatUtc(view.to)}; busiest ${formatStep(view.bucketMs)}: ${plural(view.peak, "call")}.`;
  return [
    `<svg class="activity-chart" id="${id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title id="${id}-title">${escapeHtml(title)}</title>`,
    `<desc id="${id}-desc">${escapeHtml(description)}</desc>`,
    ...parts,
    ...legendParts,
    "</svg>",
  ].join("\n");
}
