/**
 * Evidence and reports on the local filesystem, for local runs: written once (exclusive create),
 * beside the incident, with the SHA-256 of the exact bytes. Nothing here is locked: a filesystem has
 * no Object Lock, so anyone who can write the folder can change or delete evidence. Keep evidence
 * meant for an audit in the S3 store.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError } from "../../domain/errors.js";
import { isSafeEvidenceName } from "../../domain/evidence-name.js";
import type { EvidenceObject, EvidenceStore } from "../../ports.js";

export class FileEvidenceStore implements EvidenceStore {
  constructor(private readonly root: string) {}

  #path(incidentId: string, name: string): string {
    if (!/^[\w.-]+$/.test(incidentId) || !isSafeEvidenceName(name)) {
      throw new Error(`unsafe evidence path: ${name}`);
    }
    return join(this.root, "incidents", incidentId, "evidence", ...name.split("/"));
  }

  async putOnce(incidentId: string, name: string, body: Buffer): Promise<EvidenceObject> {
    const path = this.#path(incidentId, name);
    await mkdir(join(path, ".."), { recursive: true });
    try {
      await writeFile(path, body, { flag: "wx" });
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new ConflictError(`Evidence ${path} already exists: evidence is written once`);
      }
      throw error;
    }
    return { key: path, sha256: createHash("sha256").update(body).digest("hex"), bytes: body.length };
  }

  async get(incidentId: string, name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.#path(incidentId, name));
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }
}
