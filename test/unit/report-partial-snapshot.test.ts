/**
 * A snapshot given up before it finished is said plainly and first wherever the owners and the
 * auditor read the verdict: the Slack follow-up (and its one-line form), the GitHub issue and the
 * audit report (Markdown and HTML), each naming the region not read and the verdict's partial basis.
 */
import { describe, expect, it } from "vitest";
import { incidentIssue } from "../../src/adapters/github/incident-issue.js";
import { followUpLine, followUpMessage } from "../../src/adapters/slack/follow-up-message.js";
import type { TrailEvent } from "../../src/forensics/trail-event.js";
import { afterContainment } from "../../src/playbook/after-containment.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import { renderHtml } from "../../src/report/html.js";
import { loadReportInput } from "../../src/report/load-report.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/report-model.js";
import { investigationDeps, world } from "../support/respond-world.js";

/**
 * How long the run may read before its deadline: long enough for the other regions on a cold, loaded
 * machine (eu-west-1's page outlasts the deadline whatever it is).
 */
const RUN_MS = 500;

/** One delivery, its last: eu-west-1's history is longer than the run, the other regions are read. */
async function partialIncident() {
  const w = world();
  const investigation = investigationDeps("report-partial-");
  let deadline = 0;
  w.directory.activity.set(w.owner, {
    accountId: w.owner,
    enabledRegions: async () => ["eu-west-1", "us-east-1"],
    lookupByAccessKey: async ({ region, accessKeyId }) => {
      if (region !== "eu-west-1") return { events: [], raw: [] };
      const event: TrailEvent = {
        eventId: "e-1",
        // Ten minutes before the world's clock (test/support/fakes.ts) contains the key.
        eventTime: "2026-11-26T01:50:00Z",
        eventName: "ListBuckets",
        eventSource: "s3.amazonaws.com",
        awsRegion: region,
        sourceIPAddress: "192.0.2.10",
        userIdentity: { type: "IAMUser", accessKeyId },
      };
      // A slow page: the deadline passes while it is read, and the next page is never asked for.
      await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 20));
      return { events: [event], raw: [JSON.stringify(event)], nextToken: "more" };
    },
  });
  const deps = { ...w.deps, afterContainment, investigation };
  deadline = Date.now() + RUN_MS;
  const { incident } = await respondToAlert(w.job(), deps, { finalAttempt: true, deadline });
  const followUp = w.notifier.followUps.at(-1);
  if (!followUp) throw new Error("no follow-up sent");
  const loaded = await loadReportInput(
    { incidents: w.incidents, evidence: investigation.evidence },
    incident.id,
  );
  const report = buildReport({ ...loaded, generatedAt: new Date().toISOString() });
  return { incident, followUp, report, findings: loaded.findings };
}

describe("a partial snapshot in what people read", () => {
  it("the Slack follow-up says PARTIAL above the verdict, with the region not read; its one-line form too", async () => {
    const { followUp } = await partialIncident();
    const message = followUpMessage(followUp);
    const texts = message.blocks.map((block) => JSON.stringify(block));
    const warning = texts.findIndex((text) => text.includes("PARTIAL SNAPSHOT"));
    const verdict = texts.findIndex((text) => text.includes("*Suspicious*"));
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(verdict);
    expect(texts[warning]).toMatch(/eu-west-1: .* not read/);
    expect(texts[warning]).not.toContain("us-east-1");
    expect(message.text).toMatch(/PARTIAL/);
    expect(followUpLine(followUp)).toMatch(/PARTIAL snapshot\* \(not read: eu-west-1\)/);
  });

  it("the Markdown report says it under the summary, before anything else, and the verdict is marked partial", async () => {
    const { report } = await partialIncident();
    const markdown = renderMarkdown(report);
    const warning = markdown.indexOf("PARTIAL SNAPSHOT");
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(markdown.indexOf("## Open follow-ups"));
    expect(markdown.slice(warning, markdown.indexOf("## Open follow-ups"))).toMatch(/eu-west-1: .* not read/);
    expect(markdown).toMatch(/\*\*Verdict\*\* Suspicious \(PARTIAL evidence\)/);
    expect(markdown).toMatch(/Based on PARTIAL evidence/);
  });

  it("the report's timeline does not call the snapshot done", async () => {
    const { report } = await partialIncident();
    const snapshot = report.milestones.find((milestone) => milestone.id === "snapshot-taken");
    expect(snapshot?.outcome).toBe("partial");
    expect(snapshot?.label).toMatch(/PARTIAL/);
    expect(snapshot?.label).not.toMatch(/done/);
  });

  it("the HTML report says it in the masthead, with the region not read", async () => {
    const { report } = await partialIncident();
    const html = renderHtml(report);
    const header = html.slice(html.indexOf("<header"), html.indexOf("</header>"));
    expect(header).toContain('id="partial-snapshot"');
    expect(header).toMatch(/PARTIAL SNAPSHOT.*eu-west-1: .* not read/s);
    expect(header).toContain("Verdict: Suspicious (PARTIAL evidence)");
  });

  it("the GitHub issue says it before what was done, and the verdict's headline says partial evidence", async () => {
    const { incident, findings } = await partialIncident();
    const issue = incidentIssue({ incident, ...(findings ? { findings } : {}), diffs: [], hideIps: false });
    const warning = issue.body.indexOf("PARTIAL SNAPSHOT");
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(issue.body.indexOf("## What was done"));
    expect(issue.body).toMatch(/eu-west-1: .* not read/);
    expect(issue.body).toMatch(/\*\*suspicious\*\*: Based on PARTIAL evidence/);
  });
});
