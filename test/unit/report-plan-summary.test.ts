import { describe, expect, it } from "vitest";
import { followUpLine, followUpMessage } from "../../src/adapters/slack/follow-up-message.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/report-model.js";
import { minimalIncident } from "../support/fakes.js";

/**
 * A plan summary as oidc-plan/migration-guide.ts writes it, with what a workflow author controls
 * (a job id, a file path, a warning) made hostile: the summary is rendered, the hostile text is not.
 */
const PLAN_SUMMARY = [
  "## OIDC migration plan for acme/api",
  "",
  "**3 static credential reference(s)** (aws) in **2 of 2 workflow(s)**; **2 role(s)** planned in account 123456789012.",
  "",
  "| Role | Trusted for | Jobs | Permissions |",
  "|---|---|---|---|",
  "| `gh-acme-api-branch-main` | pushes to main | deploy.yml:<script>alert(1)</script> | 4 actions seen in CloudTrail |",
  "",
  "- The alert points at `deploy/settings.env:12` (AWS_ACCESS_KEY_ID).",
  '- Workflow <img src=x onerror="alert(2)"> could not be read: [fix it](javascript:alert(3))',
  "",
  "Follow MIGRATION.md: roles first, a test branch, then one workflow at a time.",
  "",
].join("\n");

function report() {
  return buildReport({
    incident: minimalIncident("gh__acme__api__7", "contained"),
    plan: { summary: PLAN_SUMMARY, files: [{ path: "MIGRATION.md" }] },
    generatedAt: "2026-11-26T03:00:00.000Z",
  });
}

/** The text a reader sees in a piece of HTML: tags dropped, the entities this renderer emits decoded. */
function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

describe("the OIDC plan summary in the report is rendered, not shown as raw Markdown", () => {
  const html = renderHtml(report());
  const plan = /<section id="plan">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? "";

  it("HTML: strong text, code, the table and the list are elements; no ** # | or backtick is left for the reader", () => {
    expect(plan).toContain("<h3>OIDC migration plan for acme/api</h3>");
    expect(plan).toContain("<strong>3 static credential reference(s)</strong>");
    expect(plan).toContain("<th>Trusted for</th>");
    expect(plan).toContain("<td><code>gh-acme-api-branch-main</code></td>");
    expect(plan).toContain("<li>The alert points at <code>deploy/settings.env:12</code>");
    const text = visibleText(plan);
    expect(text).not.toContain("**");
    expect(text).not.toContain("`");
    expect(text).not.toMatch(/^#|\n#|\|---/);
  });

  it("HTML: what the workflow author wrote stays text: no tag, attribute or link of theirs gets through", () => {
    expect(plan).not.toMatch(/<script|<img|<a /i);
    expect(plan).not.toContain("javascript:alert(3)</a>");
    expect(plan).toContain("deploy.yml:&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(plan).toContain("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;");
    // A Markdown link of theirs is shown as the characters they typed, not made a link.
    expect(visibleText(plan)).toContain("[fix it](javascript:alert(3))");
  });

  it("Markdown: the summary is Markdown a renderer formats (bold, code, a table), with the author's text escaped", () => {
    const md = renderMarkdown(report());
    const section = md.slice(md.indexOf("## OIDC migration plan"));
    expect(section).toContain("**3 static credential reference(s)**");
    expect(section).toContain("| `gh-acme-api-branch-main` | pushes to main |");
    expect(section).toContain("- The alert points at `deploy/settings.env:12`");
    expect(section).not.toContain("&#42;&#42;3 static");
    expect(section).not.toContain("<script");
    expect(section).not.toContain("<img");
    expect(section).not.toContain("](javascript:");
  });

  it("Slack: the plan's first paragraph (what the incident keeps) is Slack formatting, not Markdown asterisks", () => {
    const incident = minimalIncident("gh__acme__api__7", "contained");
    const firstParagraph =
      "**3 static credential reference(s)** (aws) in **2 of 2 workflow(s)**; **2 role(s)** planned in `123456789012`.";
    const details = { incident, plan: { summary: firstParagraph, files: ["MIGRATION.md"] } };
    const message = followUpMessage(details);
    const mrkdwn = JSON.stringify(message.blocks);
    expect(mrkdwn).toContain("*3 static credential reference(s)* (aws) in *2 of 2 workflow(s)*");
    expect(mrkdwn).toContain("`123456789012`");
    for (const text of [mrkdwn, message.text, followUpLine(details)]) expect(text).not.toContain("**");
    expect(message.text).toContain("3 static credential reference(s) (aws) in 2 of 2 workflow(s)");
  });
});
