import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileEvidenceStore } from "../../src/adapters/local/file-evidence-store.js";
import { FileIncidentStore } from "../../src/adapters/local/file-incident-store.js";
import { ConflictError } from "../../src/domain/errors.js";
import { minimalIncident } from "../support/fakes.js";

const incident = (summary: string) => minimalIncident("gh__acme__api__9", summary);

describe("the local stores keep the S3 stores' contract", () => {
  it("incidents: created once, updated only from the ETag read", async () => {
    const store = new FileIncidentStore(mkdtempSync(join(tmpdir(), "incidents-")));
    const etag = await store.create(incident("first"));
    await expect(store.create(incident("again"))).rejects.toBeInstanceOf(ConflictError);
    const next = await store.update(incident("second"), etag);
    await expect(store.update(incident("stale"), etag)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.get("gh__acme__api__9"))?.etag).toBe(next);
    expect(await store.list()).toEqual(["gh__acme__api__9"]);
  });

  it("evidence: written once, nested plan paths allowed, escapes refused, SHA-256 of the bytes", async () => {
    const store = new FileEvidenceStore(mkdtempSync(join(tmpdir(), "evidence-")));
    const body = Buffer.from("events\n");
    const stored = await store.putOnce("gh__acme__api__9", "plan/workflows/deploy.diff", body);
    expect(stored.sha256).toBe(createHash("sha256").update(body).digest("hex"));
    expect((await store.get("gh__acme__api__9", "plan/workflows/deploy.diff"))?.toString()).toBe("events\n");
    await expect(
      store.putOnce("gh__acme__api__9", "plan/workflows/deploy.diff", body),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(store.putOnce("gh__acme__api__9", "../../escape", body)).rejects.toThrow(/unsafe/);
    await expect(store.putOnce("gh__acme__api__9", "plan/../../x", body)).rejects.toThrow(/unsafe/);
  });
});
