/**
 * Gathers what the report of one incident is drawn from, through the same stores the responder
 * writes: the incident (with the plan's summary), findings.json, manifest.json and the CloudTrail
 * event parts (for the chart). Every evidence file read is hashed again, so the report
 * says whether the bytes still match the SHA-256 recorded when they were written. Whatever cannot be
 * read becomes a line in the report's gaps, never a silent omission or a crash.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { errorMessage, ResponderError } from "../domain/errors.js";
import { type Incident, stepDone } from "../domain/incident.js";
import type { Findings } from "../forensics/findings.js";
import { DEFAULT_MAX_TRAIL_BYTES, parseTrailEvents } from "../forensics/parse-trail.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import type { EvidenceStore, IncidentStore } from "../ports.js";
import type { ReportInput } from "./report-model.js";

const EVENT_PART = /^cloudtrail-events-part-\d{3,}\.jsonl\.gz$/;

export class IncidentNotFoundError extends ResponderError {
  override readonly name = "IncidentNotFoundError";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Enough of the Findings shape that the report can read it; anything else is a gap, not a crash. */
export function isFindings(value: unknown): value is Findings {
  if (!isRecord(value)) return false;
  return (
    value.version === 1 &&
    typeof value.verdict === "string" &&
    typeof value.headline === "string" &&
    Array.isArray(value.reasons) &&
    Array.isArray(value.notes) &&
    isRecord(value.totals) &&
    isRecord(value.afterLeak) &&
    isRecord(value.signals) &&
    Array.isArray(value.addresses) &&
    Array.isArray(value.regions) &&
    Array.isArray(value.artifacts) &&
    Array.isArray(value.derivedCredentials) &&
    Array.isArray(value.rolesAssumed) &&
    Array.isArray(value.deniedBursts)
  );
}

export type LoadedReport = Omit<ReportInput, "generatedAt" | "groupBy"> & { incident: Incident };

export async function loadReportInput(
  stores: { incidents: IncidentStore; evidence: EvidenceStore },
  incidentId: string,
): Promise<LoadedReport> {
  const stored = await stores.incidents.get(incidentId);
  if (!stored) throw new IncidentNotFoundError(`no incident "${incidentId}"`);
  const { incident } = stored;
  const problems: string[] = [];
  const readBack: Record<string, string> = {};

  /** `recorded`: the incident says the file was written, so its absence is a gap worth saying. */
  const read = async (name: string, recorded: boolean): Promise<Buffer | undefined> => {
    try {
      const body = await stores.evidence.get(incident.id, name);
      if (body === undefined) {
        if (recorded)
          problems.push(`${name} is recorded on the incident but missing from the evidence store.`);
        return undefined;
      }
      readBack[name] = createHash("sha256").update(body).digest("hex");
      return body;
    } catch (error: unknown) {
      problems.push(`${name} could not be read: ${errorMessage(error)}`);
      return undefined;
    }
  };
  const readJson = async (name: string, recorded: boolean): Promise<unknown> => {
    const body = await read(name, recorded);
    if (body === undefined) return undefined;
    try {
      return JSON.parse(body.toString("utf8"));
    } catch {
      problems.push(`${name} is not valid JSON.`);
      return undefined;
    }
  };

  const forensics = incident.forensics;
  const findingsJson = await readJson(
    "findings.json",
    forensics?.findings !== undefined || stepDone(incident, "analyzed"),
  );
  let findings: Findings | undefined;
  if (findingsJson !== undefined) {
    if (isFindings(findingsJson)) findings = findingsJson;
    else problems.push("findings.json does not have the expected shape: the findings are left out.");
  }
  const manifest = await readJson("manifest.json", forensics?.manifest !== undefined);

  // The event parts: those the incident records, and any the manifest lists beyond them.
  const names = new Set((forensics?.parts ?? []).map((part) => part.name));
  if (isRecord(manifest) && Array.isArray(manifest.files)) {
    for (const file of manifest.files) {
      if (isRecord(file) && typeof file.name === "string" && EVENT_PART.test(file.name)) names.add(file.name);
    }
  }
  const texts: string[] = [];
  for (const name of [...names].sort()) {
    const body = await read(name, true);
    if (body === undefined) continue;
    try {
      // Bounded like any trail input: our own evidence, but a report must not fall over on it.
      const text = gunzipSync(body, { maxOutputLength: DEFAULT_MAX_TRAIL_BYTES }).toString("utf8");
      texts.push(text.endsWith("\n") ? text : `${text}\n`);
    } catch (error: unknown) {
      problems.push(`${name} could not be decompressed: ${errorMessage(error)}`);
    }
  }
  let events: TrailEvent[] = [];
  if (texts.length > 0) {
    try {
      events = parseTrailEvents(texts.join(""));
    } catch (error: unknown) {
      problems.push(`The CloudTrail events could not be parsed: ${errorMessage(error)}`);
    }
  }
  return {
    incident,
    ...(findings ? { findings } : {}),
    ...(manifest === undefined ? {} : { manifest }),
    events,
    readBack,
    problems,
  };
}

/** Every incident in the store (for the periodic summary), read a few at a time. */
export async function loadIncidents(incidents: IncidentStore, concurrency = 8): Promise<Incident[]> {
  const ids = await incidents.list();
  const out: Incident[] = [];
  for (let i = 0; i < ids.length; i += concurrency) {
    const batch = await Promise.all(ids.slice(i, i + concurrency).map((id) => incidents.get(id)));
    for (const stored of batch) if (stored) out.push(stored.incident);
  }
  return out;
}
