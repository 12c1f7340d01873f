import { describe, expect, it } from "vitest";
import type { FileEvidenceStore } from "../../src/adapters/local/file-evidence-store.js";
import type { Incident } from "../../src/domain/incident.js";
import { afterContainment } from "../../src/playbook/after-containment.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import type { FollowUp, NoticeOptions } from "../../src/ports.js";
import type { AuditReport } from "../../src/report/report-model.js";
import { investigationDeps, world } from "../support/respond-world.js";

/** The respond world with steps 5-8 on: an empty CloudTrail history, evidence on disk. */
function worldWithInvestigation() {
  const w = world();
  w.directory.activity.set(w.owner, {
    accountId: w.owner,
    enabledRegions: async () => ["us-east-1"],
    lookupByAccessKey: async () => ({ events: [], raw: [] }),
  });
  const investigation = investigationDeps("follow-up-order-");
  const deps = { ...w.deps, afterContainment, investigation };
  return { w, deps, evidence: investigation.evidence };
}

async function storedReport(evidence: FileEvidenceStore, incident: Incident, format: "json" | "md") {
  const file = incident.report?.find((f) => f.name.endsWith(`.${format}`));
  expect(file).toBeDefined();
  return (await evidence.get(incident.id, file?.name ?? ""))?.toString("utf8") ?? "";
}

describe("the stored report's follow-up status is true when the report is read", () => {
  it("the report is written after the Slack follow-up, so it records the follow-up as sent", async () => {
    const { w, deps, evidence } = worldWithInvestigation();
    const { incident } = await respondToAlert(w.job(), deps);

    expect(w.notifier.followUps).toHaveLength(1);
    const report = JSON.parse(await storedReport(evidence, incident, "json")) as AuditReport;
    const followedUp = report.milestones.find((m) => m.id === "followed-up");
    expect(followedUp?.outcome).toBe("done");
    expect(await storedReport(evidence, incident, "md")).toMatch(
      /\| Follow-up sent \(findings and plan\) \| [^|]+ \|.*\| done \|/,
    );
    // The report is the last step: nothing it could tell happened after it was written.
    const steps = incident.timeline.map((e) => e.step);
    expect(steps.indexOf("report-written")).toBeGreaterThan(steps.indexOf("followed-up"));
  });

  it("a run that died after sending the follow-up, before recording it: the next run says it may repeat", async () => {
    const { w, deps } = worldWithInvestigation();
    const options: NoticeOptions[] = [];
    let processGone = false;
    deps.notifier.followUp = async (_details: FollowUp, notice?: NoticeOptions) => {
      options.push(notice ?? {});
      // Slack took the message, then the process died: nothing after it is recorded.
      if (options.length === 1) processGone = true;
    };
    const update = w.incidents.update.bind(w.incidents);
    w.incidents.update = async (incident, etag) => {
      if (processGone) throw new Error("the process is gone");
      return update(incident, etag);
    };
    await expect(respondToAlert(w.job(), deps)).rejects.toThrow("the process is gone");
    processGone = false;
    // SQS redelivers the same job (same delivery id: the lease is this delivery's own).
    const { incident } = await respondToAlert(w.job(), deps);

    expect(options).toEqual([{}, { possibleRepeat: true }]);
    expect(incident.timeline.filter((e) => e.step === "followed-up").map((e) => e.detail)).toEqual([
      expect.stringContaining("possible repeat"),
    ]);
  });
});
