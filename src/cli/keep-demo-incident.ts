/**
 * The demo's incident lives in the sandbox's S3 bucket, which ends with the demo. So that
 * `leak-responder report <id>` works afterwards, from another process, the demo records the
 * incident and its evidence in the local incident store `report` reads (INCIDENT_DIR, default
 * `.leak-responder`), through the same ports the responder writes with, byte for byte: the
 * report's read-back check of every SHA-256 holds for the copy.
 *
 * The demo's incident id is the same on every run (one repository, alert 1), so a rerun replaces
 * the previous run's copy; a folder the demo did not write (a real local incident) is never
 * touched: the demo says so and leaves it.
 */
import { access, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { INCIDENT_PREFIX } from "../adapters/aws/s3-incident-store.js";
import { DEFAULT_INCIDENT_DIR } from "../adapters/incident-stores.js";
import { FileEvidenceStore } from "../adapters/local/file-evidence-store.js";
import { FileIncidentStore } from "../adapters/local/file-incident-store.js";
import type { Env } from "../config.js";
import { ConflictError, errorMessage } from "../domain/errors.js";
import type { EvidenceStore, IncidentStore } from "../ports.js";
import type { LocalStack } from "./local-stack.js";

/** Marks an incident folder as the demo's copy, which the next demo may replace. */
const DEMO_COPY_MARKER = "DEMO-COPY.txt";

interface KeptIncident {
  /** The incident folder in the local store. */
  folder: string;
  evidenceFiles: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies incident `id` and its evidence into the file store at
 * `dir`. Throws ConflictError when `dir` already holds an incident of that id that an
 * earlier demo did not write.
 */
async function keepDemoIncident(input: {
  id: string;
  incidents: IncidentStore;
  /** The evidence store and the names of the incident's evidence in it. */
  evidence?: { store: EvidenceStore; names: readonly string[] };
  dir: string;
}): Promise<KeptIncident> {
  const { id, dir } = input;
  const stored = await input.incidents.get(id);
  if (!stored) throw new Error(`the demo's incident ${id} is not in the sandbox's store`);
  const incidents = new FileIncidentStore(dir);
  const folder = join(dir, "incidents", id);
  if (await incidents.get(id)) {
    if (!(await exists(join(folder, DEMO_COPY_MARKER)))) {
      throw new ConflictError(
        `${folder} holds an incident the demo did not write: left as it is, the demo's copy not kept`,
      );
    }
    await rm(folder, { recursive: true, force: true });
  }
  await incidents.create(stored.incident);
  await writeFile(
    join(folder, DEMO_COPY_MARKER),
    "Recorded by `leak-responder demo` from its embedded sandbox (nothing here happened in a real account).\n" +
      "The next demo run replaces this folder.\n",
  );
  const evidence: EvidenceStore = new FileEvidenceStore(dir);
  let evidenceFiles = 0;
  for (const name of input.evidence?.names ?? []) {
    const body = await input.evidence?.store.get(id, name);
    if (body === undefined) continue;
    // The content type only matters to S3; the file store keeps the bytes.
    await evidence.putOnce(id, name, body, "application/octet-stream");
    evidenceFiles++;
  }
  return { folder, evidenceFiles };
}

/** Where the demo keeps its incident, and the command that reads it back from there. */
export interface LocalIncidentTarget {
  dir: string;
  /** `leak-responder report` reads a bucket when INCIDENT_BUCKET is set: the command then clears it. */
  bucketConfigured: boolean;
}

/** The local store `report` reads with this environment (INCIDENT_DIR, default `.leak-responder`). */
export function localIncidentTarget(env: Env): LocalIncidentTarget {
  return {
    dir: env.INCIDENT_DIR?.trim() || DEFAULT_INCIDENT_DIR,
    bucketConfigured: Boolean(env.INCIDENT_BUCKET?.trim()),
  };
}

/** Where the demo's incident went, or why it was not kept (the demo itself still succeeded). */
export type KeptDemoIncident =
  | { folder: string; evidenceFiles: number; reportCommand: string }
  | { notKept: string };

/** keepDemoIncident for a finished demo: the evidence is whatever the sandbox's bucket holds for it. */
export async function keepIncidentOfStack(
  stack: LocalStack,
  id: string,
  target: LocalIncidentTarget,
): Promise<KeptDemoIncident> {
  const prefix = `${INCIDENT_PREFIX}${id}/evidence/`;
  const keys = [...(stack.sandbox.state.buckets.get(stack.world.bucket)?.keys() ?? [])];
  const names = keys.filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  const evidence = stack.deps.investigation?.evidence ?? stack.deps.prevention?.evidence;
  try {
    const kept = await keepDemoIncident({
      id,
      incidents: stack.deps.incidents,
      ...(evidence ? { evidence: { store: evidence, names } } : {}),
      dir: target.dir,
    });
    const env = [
      ...(target.bucketConfigured ? ["INCIDENT_BUCKET="] : []),
      ...(target.dir === DEFAULT_INCIDENT_DIR ? [] : [`INCIDENT_DIR=${target.dir}`]),
    ];
    return { ...kept, reportCommand: [...env, "npx leak-responder report", id].join(" ") };
  } catch (error: unknown) {
    return { notKept: errorMessage(error) };
  }
}

export function printKeptIncident(kept: KeptDemoIncident | null): void {
  if (kept === null) return;
  console.log("");
  if ("notKept" in kept) {
    console.log(`Incident not kept for \`leak-responder report\`: ${kept.notKept}`);
    return;
  }
  console.log(
    `Incident kept in ${kept.folder} (${kept.evidenceFiles} evidence files); its audit report again, any time:`,
  );
  console.log(`  ${kept.reportCommand}`);
}
