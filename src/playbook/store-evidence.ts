import { createHash } from "node:crypto";
import { ConflictError } from "../domain/errors.js";
import type { EvidenceFile } from "../domain/incident.js";
import type { EvidenceStore } from "../ports.js";

/** Writes once; a retry that finds its own earlier write reads it back instead. */
export async function storeOnce(
  store: EvidenceStore,
  incidentId: string,
  name: string,
  body: Buffer,
  contentType: string,
): Promise<EvidenceFile> {
  try {
    return { name, ...(await store.putOnce(incidentId, name, body, contentType)) };
  } catch (error: unknown) {
    if (!(error instanceof ConflictError)) throw error;
    const existing = await store.get(incidentId, name);
    if (!existing) throw error;
    return {
      name,
      key: name,
      sha256: createHash("sha256").update(existing).digest("hex"),
      bytes: existing.length,
    };
  }
}
