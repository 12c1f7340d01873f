import { describe, expect, it } from "vitest";
import { incidentIssue } from "../../src/adapters/github/incident-issue.js";
import { digestLine } from "../../src/adapters/slack/batch-messages.js";
import { followUpLine, followUpMessage } from "../../src/adapters/slack/follow-up-message.js";
import { incidentMessage } from "../../src/adapters/slack/incident-message.js";
import { migrationGuide } from "../../src/oidc-plan/migration-guide.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/report-model.js";
import { world } from "../support/respond-world.js";

/** A key id with its middle starred out (or escaped stars, as Markdown writes them). */
const MASKED = /(AKIA|ASIA)(\*|&#42;){4,}/;

describe("the access key id is shown one way, in full, in every output (design.md: it is an identifier)", () => {
  it("incident summary, timeline, alert comment, Slack, issue, report and migration guide all name the same full id", async () => {
    const w = world();
    const { incident } = await respondToAlert(w.job(), w.deps);
    const report = buildReport({ incident, generatedAt: incident.updatedAt });
    const outputs: Record<string, string> = {
      "incident summary": incident.summary,
      "key-deactivated step": incident.timeline.find((e) => e.step === "key-deactivated")?.detail ?? "",
      "alert resolution comment": w.alerts.resolved[0]?.comment ?? "",
      "Slack first message": JSON.stringify(incidentMessage(incident, "contained")),
      "Slack digest line": digestLine(incident, "contained"),
      "Slack follow-up": JSON.stringify(followUpMessage({ incident })),
      "Slack follow-up line": followUpLine({ incident }),
      "GitHub issue": JSON.stringify(incidentIssue({ incident, diffs: [], hideIps: false })),
      "Markdown report": renderMarkdown(report),
      "HTML report": renderHtml(report),
      MIGRATION: migrationGuide({
        repo: { owner: "acme", name: "api", defaultBranch: "main", environments: [] },
        summary: "",
        roles: [],
        findings: [],
        workflows: [],
        accountId: w.owner,
        warnings: [],
        userName: "ci-deploy",
        accessKeyId: w.accessKeyId,
        hasAzure: false,
        hasGcp: false,
        evidence: false,
        setAside: [],
      }),
    };
    const shownOtherwise = Object.entries(outputs)
      .filter(([, text]) => !text.includes(w.accessKeyId) || MASKED.test(text))
      .map(([name]) => name);
    expect(shownOtherwise).toEqual([]);
  });
});
