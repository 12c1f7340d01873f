/**
 * A snapshot given up before it finished (too many continuations, or its last attempt failed): what
 * it did not read, and how to say so. Every place a person reads the verdict (the findings, Slack,
 * the GitHub issue, the audit report) says it in these words, so a partial history never reads as
 * "nothing happened".
 */
import type { MissingHistory, PartialSnapshot } from "../domain/incident.js";
import type { TrailEvent } from "./trail-event.js";

/** Regions named in one sentence before "and N others". */
const LISTED_REGIONS = 6;

/**
 * The histories a checkpoint had still to read. LookupEvents returns the newest events first
 * (CloudTrail API reference, LookupEvents response: "The most recent event is listed first"), so a
 * region stopped part-way was read from the window's end back to its oldest event read: the range
 * before that is what is missing. A region not started misses the whole window.
 */
export function missingHistory(
  pending: ReadonlyArray<{ accessKeyId: string; region: string; nextToken?: string }>,
  events: readonly TrailEvent[],
  window: { startTime: string; endTime: string },
): MissingHistory[] {
  const oldestRead = new Map<string, string>();
  for (const event of events) {
    const key = `${event.userIdentity.accessKeyId ?? ""} ${event.awsRegion}`;
    const seen = oldestRead.get(key);
    if (seen === undefined || Date.parse(event.eventTime) < Date.parse(seen))
      oldestRead.set(key, event.eventTime);
  }
  const byKeyAndRegion = new Map<string, MissingHistory>();
  for (const task of pending) {
    const key = `${task.accessKeyId} ${task.region}`;
    if (byKeyAndRegion.has(key)) continue;
    const started = task.nextToken !== undefined && task.nextToken !== "";
    const oldest = started ? oldestRead.get(key) : undefined;
    // Within the window whatever the events say: the range is what the lookups asked for.
    const until =
      oldest === undefined
        ? Date.parse(window.endTime)
        : Math.min(Math.max(Date.parse(oldest), Date.parse(window.startTime)), Date.parse(window.endTime));
    byKeyAndRegion.set(key, {
      accessKeyId: task.accessKeyId,
      region: task.region,
      from: window.startTime,
      until: new Date(until).toISOString(),
    });
  }
  return [...byKeyAndRegion.values()].sort(
    (a, b) => a.region.localeCompare(b.region) || a.accessKeyId.localeCompare(b.accessKeyId),
  );
}

/** The regions whose history is missing, sorted, once each. */
export function missingRegions(partial: PartialSnapshot): string[] {
  return [...new Set(partial.missing.map((m) => m.region))].sort();
}

/** Seconds are enough for a person; the evidence keeps the exact times. */
function shortTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z") : iso;
}

/**
 * One line per region: the time range not read, widest over the keys, and how many keys it is for
 * (the leaked key and the temporary keys it minted are looked up one by one).
 */
export function missingLines(partial: PartialSnapshot): string[] {
  return [...missingByRegion(partial).values()];
}

/** The same lines, by region. */
export function missingByRegion(partial: PartialSnapshot): Map<string, string> {
  return new Map(missingRegions(partial).map((region) => [region, missingLine(partial, region)]));
}

function missingLine(partial: PartialSnapshot, region: string): string {
  const here = partial.missing.filter((m) => m.region === region);
  const from = here.map((m) => m.from).sort((a, b) => Date.parse(a) - Date.parse(b))[0] ?? "";
  const until = here.map((m) => m.until).sort((a, b) => Date.parse(b) - Date.parse(a))[0] ?? "";
  const keys = here.length === 1 ? `key ${here[0]?.accessKeyId ?? ""}` : `${here.length} keys`;
  return `${region}: ${shortTime(from)} to ${shortTime(until)} not read (${keys})`;
}

/** Why the snapshot is partial and what that means, under a "PARTIAL snapshot" label of the caller's. */
export function partialExplanation(partial: PartialSnapshot): string {
  const regions = missingRegions(partial);
  const shown = regions.slice(0, LISTED_REGIONS).join(", ");
  const more = regions.length > LISTED_REGIONS ? ` and ${regions.length - LISTED_REGIONS} others` : "";
  return `The snapshot was given up before it finished (${partial.reason}). The verdict is based on partial evidence: the CloudTrail history was not read (or not to the end) in ${regions.length} region${regions.length === 1 ? "" : "s"} (${shown}${more}); what the key did there is unknown. Look there by hand.`;
}

/** The warning recorded on the incident, read wherever its warnings are. */
export function partialWarning(partial: PartialSnapshot): string {
  return `PARTIAL snapshot: ${partialExplanation(partial)}`;
}
