/**
 * Signals no single call shows, only the calls around it: a ransom note is a PutObject of a
 * note-like key after the same key deleted objects (Stratus aws.impact.s3-ransomware-batch-deletion);
 * exfiltration by download is a burst of successful GetObject calls from one address (S3 data events).
 */

import { outcomeOf } from "./call-outcome.js";
import { type DeniedCall, findDeniedBursts } from "./denied-bursts.js";
import { isRansomNote, RANSOM_NOTE_RULE, S3_DOWNLOAD_BURST_RULE, type SignalRule } from "./signals.js";
import type { TrailEvent } from "./trail-event.js";

/** At least this many successful downloads from one address... */
export const DOWNLOAD_BURST_MIN_CALLS = 100;
/** ...within this window make a bulk download. */
export const DOWNLOAD_BURST_WINDOW_MS = 10 * 60_000;

const S3_DELETIONS = new Set(["DeleteObjects", "DeleteObject", "DeleteBucket"]);

/** The extra rules each event raises, by eventId. `events` are in time order. */
export function sequenceSignals(events: readonly TrailEvent[]): Map<string, SignalRule[]> {
  const raised = new Map<string, SignalRule[]>();
  const raise = (event: TrailEvent, rule: SignalRule) => {
    const list = raised.get(event.eventId) ?? [];
    list.push(rule);
    raised.set(event.eventId, list);
  };

  const deletedBy = new Set<string>();
  // Each download call keeps its event: the burst finder hands back the same objects.
  const downloads = new Map<DeniedCall, TrailEvent>();
  for (const event of events) {
    if (event.eventSource !== "s3.amazonaws.com") continue;
    const key = event.userIdentity.accessKeyId ?? event.userIdentity.arn ?? "";
    const succeeded = outcomeOf(event) === "succeeded";
    if (succeeded && S3_DELETIONS.has(event.eventName)) deletedBy.add(key);
    else if (event.eventName === "PutObject" && deletedBy.has(key) && isRansomNote(event)) {
      raise(event, RANSOM_NOTE_RULE);
    } else if (succeeded && event.eventName === "GetObject") {
      const timeMs = Date.parse(event.eventTime);
      downloads.set({ address: event.sourceIPAddress ?? "", timeMs, action: "s3:GetObject" }, event);
    }
  }
  // The same sliding window as denied bursts, over successful downloads.
  for (const burst of findDeniedBursts(
    [...downloads.keys()],
    DOWNLOAD_BURST_MIN_CALLS,
    DOWNLOAD_BURST_WINDOW_MS,
  )) {
    for (const call of burst.calls) {
      const event = downloads.get(call);
      if (event) raise(event, S3_DOWNLOAD_BURST_RULE);
    }
  }
  return raised;
}
