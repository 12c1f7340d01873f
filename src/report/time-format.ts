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

/** `2026-11-26 14:18:31.451 UTC`; an unparseable value is shown as it is (it is escaped later). */
export function formatUtc(iso: string, options: { zone?: boolean } = {}): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const text = new Date(ms).toISOString().replace("T", " ").replace(/Z$/, "");
  return options.zone === false ? text : `${text} UTC`;
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
