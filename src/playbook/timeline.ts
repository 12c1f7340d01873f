import type { Incident, StepName, StepOutcome, TimelineEntry } from "../domain/incident.js";
import type { Clock } from "../ports.js";

/** Every step records its outcome and time (design.md): this is the incident's clock. */
export class Timeline {
  readonly entries: TimelineEntry[];
  constructor(
    private readonly clock: Clock,
    entries: TimelineEntry[] = [],
  ) {
    this.entries = [...entries];
  }

  record(step: StepName, outcome: StepOutcome, detail: string, startedAt?: Date): TimelineEntry {
    const at = this.clock.now();
    const entry: TimelineEntry = {
      step,
      outcome,
      at: at.toISOString(),
      detail,
      ...(startedAt ? { durationMs: at.getTime() - startedAt.getTime() } : {}),
    };
    this.entries.push(entry);
    return entry;
  }

  /** Records at a time already measured (a step that ran in parallel with others). */
  recordAt(step: StepName, outcome: StepOutcome, detail: string, at: Date, startedAt?: Date): TimelineEntry {
    const entry: TimelineEntry = {
      step,
      outcome,
      at: at.toISOString(),
      detail,
      ...(startedAt ? { durationMs: at.getTime() - startedAt.getTime() } : {}),
    };
    this.entries.push(entry);
    this.entries.sort((a, b) => a.at.localeCompare(b.at));
    return entry;
  }
}

export function entryOf(incident: Pick<Incident, "timeline">, step: StepName): TimelineEntry | undefined {
  return incident.timeline.find((entry) => entry.step === step && entry.outcome === "done");
}

/** When the key was dead: its deactivation as recorded, else the containment cut-off (a temporary key's). */
export function containedAt(incident: Pick<Incident, "timeline" | "containment">): string | undefined {
  return entryOf(incident, "key-deactivated")?.at ?? incident.containment?.containedAt;
}

/** Webhook receipt (or start, for a manual run) to key deactivated, in ms. */
export function timeToContainMs(incident: Pick<Incident, "timeline">): number | undefined {
  const start = incident.timeline[0];
  const deactivated = entryOf(incident, "key-deactivated");
  if (!start || !deactivated) return undefined;
  return Date.parse(deactivated.at) - Date.parse(start.at);
}
