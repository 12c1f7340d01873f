/**
 * Times and durations as people read them in the report. Every time is shown in UTC with the zone
 * named, because the auditor, the responder and CloudTrail may all be in different time zones.
 */

/** `276 ms`, `2.2 s`, `10 min 2 s`, `3 h 12 min`, `6 d 3 h`: precise where it matters, short elsewhere. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  const sign = ms < 0 ? "-" : "";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  const seconds = Math.round(abs / 1000);
  if (seconds < 3600) return `${sign}${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(abs / 60_000);
  if (minutes < 24 * 60) return `${sign}${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  const hours = Math.round(abs / 3_600_000);
  return `${sign}${Math.floor(hours / 24)} d ${hours % 24} h`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** How CloudTrail writes some times inside responseElements (credentials' expiration): in UTC. */
const TRAIL_TIME = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)$/;
/** ISO 8601 with its zone; without one, `Date.parse` would read the machine's local time. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_TIME_IN_TEXT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})/g;

/** Milliseconds since the epoch for a time that names its zone (ISO 8601, or CloudTrail's form), else undefined. */
function parseUtc(value: string): number | undefined {
  const trail = TRAIL_TIME.exec(value.trim());
  if (trail) {
    const [, month = "", day, year, hour, minute, second, half] = trail;
    const monthIndex = MONTHS.indexOf(month);
    if (monthIndex < 0) return undefined;
    const hour24 = (Number(hour) % 12) + (half === "PM" ? 12 : 0);
    return Date.UTC(Number(year), monthIndex, Number(day), hour24, Number(minute), Number(second));
  }
  if (!ISO_TIME.test(value.trim())) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The time as ISO 8601 in UTC (what the report's JSON holds), or the value as it is when it is not a time. */
export function isoUtc(value: string): string {
  const ms = parseUtc(value);
  return ms === undefined ? value : new Date(ms).toISOString();
}

/** `2026-11-26 14:18:31.451 UTC`; an unparseable value is shown as it is (it is escaped later). */
export function formatUtc(iso: string, options: { zone?: boolean } = {}): string {
  const ms = parseUtc(iso);
  if (ms === undefined) return iso;
  const text = new Date(ms).toISOString().replace("T", " ").replace(/Z$/, "");
  return options.zone === false ? text : `${text} UTC`;
}

/** Sentences that quote a time (a step's detail, a finding's reason) quote it as the report shows times. */
export function utcTimesInText(text: string): string {
  return text.replace(ISO_TIME_IN_TEXT, (time) => formatUtc(time));
}

/** Milliseconds from `from` to `to`, or undefined when either is missing or not a time. */
export function msBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const a = Date.parse(from);
  const b = Date.parse(to);
  return Number.isNaN(a) || Number.isNaN(b) ? undefined : b - a;
}

/** A bucket or tick width as people say it: `15 s`, `5 min`, `3 h`, `1 day`, `2 days`. */
export function formatStep(ms: number): string {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? "1 day" : `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return formatDuration(ms);
}
