/**
 * A snapshot that never gets to finish, end to end on the sandbox through the deployed topology: the
 * investigation function's runs are cut so short (its timeout leaves no time before the finishing
 * margin) that CloudTrail is never read to the end. After the continuation limit the parts stored are
 * analysed anyway, and the Slack follow-up, the GitHub issue and the audit report in S3 all say the
 * snapshot is PARTIAL and name the regions not read; the manifest vouches for exactly the parts stored.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FINISH_MARGIN_MS } from "../../src/adapters/aws/lambda-context.js";
import type { Incident } from "../../src/domain/incident.js";
import { MAX_CONTINUATIONS } from "../../src/playbook/investigation-stage.js";
import { deliverDemoAlert, stagedStackForFile, storedObject } from "../support/staged-stack.js";

const staged = stagedStackForFile({
  // Each investigation run's deadline falls as it starts: no CloudTrail page is ever read.
  functionTimeoutSeconds: { investigate: FINISH_MARGIN_MS / 1000 },
});

describe("a snapshot cut short at every run, through the deployed stages", () => {
  it("is analysed as PARTIAL after the continuation limit, and every output says which regions were not read", async () => {
    const stack = staged();
    const { sandbox } = stack;
    const object = (key: string) => storedObject(stack, key);
    const { answer, repo, incidentId: id } = await deliverDemoAlert(stack);
    expect(answer.status).toBe(202);
    expect(await stack.drained({ timeoutMs: 150_000 })).toBe(0);
    expect(stack.deadLettered()).toBe(0);

    const incident = JSON.parse(
      object(`incidents/${id}/incident.json`)?.toString("utf8") ?? "{}",
    ) as Incident;
    const forensics = incident.forensics;
    const regions = forensics?.regions ?? [];
    expect(regions.length).toBeGreaterThan(0);
    // Nothing was read anywhere: every region's whole window is missing, and said so.
    expect(forensics?.partial?.missing.map((m) => m.region).sort()).toEqual([...regions].sort());
    expect(incident.timeline.filter((e) => e.step === "snapshot-taken").at(-1)?.outcome).toBe("partial");
    expect(forensics?.verdict).toBe("suspicious");
    expect(forensics?.headline).toMatch(/^Based on PARTIAL evidence/);
    for (const step of [
      "evidence-stored",
      "analyzed",
      "planned",
      "issue-opened",
      "followed-up",
      "report-written",
    ]) {
      expect({ step, outcome: incident.timeline.filter((e) => e.step === step).at(-1)?.outcome }).toEqual({
        step,
        outcome: "done",
      });
    }

    // The plan's permissions come from what was read: it says what that leaves out.
    expect(incident.warnings.join("\n")).toMatch(/Plan: the role's permissions come from a PARTIAL snapshot/);

    // The manifest covers exactly the parts stored: one per run before the limit (the run at the
    // limit reads no further), each hash as stored.
    const manifest = JSON.parse(object(`incidents/${id}/evidence/manifest.json`)?.toString("utf8") ?? "{}");
    const files = manifest.files as Array<{ name: string; sha256: string }>;
    expect(files.map((f) => f.name)).toEqual(forensics?.parts.map((p) => p.name));
    expect(files).toHaveLength(MAX_CONTINUATIONS);
    for (const file of files) {
      const body = object(`incidents/${id}/evidence/${file.name}`);
      expect(body && createHash("sha256").update(body).digest("hex")).toBe(file.sha256);
    }
    expect(manifest.complete).toBe(false);

    // The owners in Slack, the team in the issue and the auditor in the report read it first.
    const region = regions[0] ?? "";
    const followUp = sandbox.state.slackMessages
      .map((m) => m.raw)
      .find((raw) => raw.includes("Forensics and plan"));
    expect(followUp).toMatch(/PARTIAL SNAPSHOT/);
    expect(followUp).toContain(`${region}: `);
    const issue = repo.issues.at(-1);
    expect(issue?.body).toMatch(/PARTIAL SNAPSHOT/);
    const report = incident.report?.find((file) => file.name.endsWith(".md"));
    const markdown = object(`incidents/${id}/evidence/${report?.name}`)?.toString("utf8") ?? "";
    const top = markdown.slice(0, markdown.indexOf("## Open follow-ups"));
    expect(top).toMatch(/PARTIAL SNAPSHOT/);
    expect(top).toContain(`${region}: `);
  }, 180_000);
});
