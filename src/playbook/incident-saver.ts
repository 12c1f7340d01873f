import type { Incident } from "../domain/incident.js";
import type { Clock, IncidentStore, StoredIncident } from "../ports.js";
import { Timeline } from "./timeline.js";

export type SaveIncident = (mutate: (timeline: Timeline, draft: Incident) => void) => Promise<void>;

/**
 * One way to record progress on an incident: apply a change (timeline entries, fields) to the
 * version last read and write it with If-Match on its ETag, so a concurrent writer is detected,
 * never overwritten. `get`/`set` are the caller's own current version.
 */
export function incidentSaver(
  deps: { incidents: IncidentStore; clock: Clock },
  get: () => StoredIncident,
  set: (stored: StoredIncident) => void,
): SaveIncident {
  return async (mutate) => {
    const { incident, etag } = get();
    const timeline = new Timeline(deps.clock, incident.timeline);
    const draft: Incident = { ...incident, warnings: [...incident.warnings] };
    mutate(timeline, draft);
    const next = { ...draft, timeline: timeline.entries, updatedAt: deps.clock.now().toISOString() };
    set({ incident: next, etag: await deps.incidents.update(next, etag) });
  };
}
