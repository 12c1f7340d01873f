/**
 * Incidents on the local filesystem, for local runs: the same contract as the S3 store (create
 * once, update only from the version read), with the ETag a hash of the file's bytes.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError } from "../../domain/errors.js";
import type { Incident } from "../../domain/incident.js";
import type { IncidentStore, StoredIncident } from "../../ports.js";

function etagOf(text: string): string {
  return `"${createHash("sha256").update(text).digest("hex").slice(0, 32)}"`;
}

function render(incident: Incident): string {
  return `${JSON.stringify(incident, null, 2)}\n`;
}

export class FileIncidentStore implements IncidentStore {
  /** Serialises check-and-write within this process; files are the truth across processes. */
  #lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly root: string) {}

  #file(id: string): string {
    if (!/^[\w.-]+$/.test(id)) throw new Error(`unsafe incident id: ${id}`);
    return join(this.root, "incidents", id, "incident.json");
  }

  async get(id: string): Promise<StoredIncident | undefined> {
    try {
      const text = await readFile(this.#file(id), "utf8");
      return { incident: JSON.parse(text) as Incident, etag: etagOf(text) };
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  create(incident: Incident): Promise<string> {
    return this.#exclusive(async () => {
      const file = this.#file(incident.id);
      await mkdir(join(file, ".."), { recursive: true });
      const text = render(incident);
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(file, "wx");
      } catch (error: unknown) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") {
          throw new ConflictError(`Creating incident ${incident.id}: it already exists`);
        }
        throw error;
      }
      try {
        await handle.writeFile(text, "utf8");
      } finally {
        await handle.close();
      }
      return etagOf(text);
    });
  }

  update(incident: Incident, etag: string): Promise<string> {
    return this.#exclusive(async () => {
      const current = await this.get(incident.id);
      if (!current || current.etag !== etag) {
        throw new ConflictError(`Updating incident ${incident.id}: it changed since it was read`);
      }
      const file = this.#file(incident.id);
      const text = render(incident);
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, text, "utf8");
      await rename(temp, file);
      return etagOf(text);
    });
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(join(this.root, "incidents"))).sort();
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}
