import { ConflictError } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";
import type { Clock, IncidentStore, StoredIncident } from "../ports.js";
import { Timeline } from "./timeline.js";

export type SaveIncident = (mutate: (timeline: Timeline, draft: Incident) => void) => Promise<void>;

const CONFLICT_RETRIES = 5;

/**
 * One way to record progress on an incident: apply a change (timeline entries, fields) to the
 * version last read and write it with If-Match on its ETag. When another writer got there first
 * (a redelivery noting its delivery id), the change is applied again to the fresh version: changes
 * are small functions of the record, so nothing written by either is lost. `get`/`set` hold the
 * caller's current version.
 */
export function incidentSaver(
  deps: { incidents: IncidentStore; clock: Clock },
  get: () => StoredIncident,
  set: (stored: StoredIncident) => void,
): SaveIncident {
  return async (mutate) => {
    let current = get();
    for (let attempt = 0; ; attempt++) {
      const timeline = new Timeline(deps.clock, current.incident.timeline);
      const draft: Incident = { ...current.incident, warnings: [...current.incident.warnings] };
      mutate(timeline, draft);
      const next = { ...draft, timeline: timeline.entries, updatedAt: deps.clock.now().toISOString() };
      try {
        set({ incident: next, etag: await deps.incidents.update(next, current.etag) });
        return;
      } catch (error: unknown) {
        if (!(error instanceof ConflictError) || attempt >= CONFLICT_RETRIES) throw error;
        const fresh = await deps.incidents.get(current.incident.id);
        if (!fresh) throw error;
        // This very write went through and its answer was lost (a timeout; the SDK's retry then
        // failed If-Match on the new ETag): applying the change again would record it twice.
        if (sameRecord(fresh.incident, next)) {
          set(fresh);
          return;
        }
        current = fresh;
      }
    }
  };
}

/** The record as written, read back (a JSON round trip is what every store holds). */
export function sameRecord(found: Incident, written: Incident): boolean {
  return JSON.stringify(found) === JSON.stringify(JSON.parse(JSON.stringify(written)));
}
