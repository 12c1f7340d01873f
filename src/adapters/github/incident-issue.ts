/**
 * The GitHub issue opened in the repository that leaked the key: what happened, what was done, what
 * the key did, and the change that stops it happening again (the plan, with the workflow diffs), as
 * a checklist the team can work through. The key id is shown in full (an identifier, never the
 * secret); raw IPs can be left out. On a public repository (or one whose visibility is unknown) the
 * issue is a public page and says only that a key was contained, when, and where the private report is.
 */
import ipaddr from "ipaddr.js";
import type { Incident } from "../../domain/incident.js";
import type { Findings } from "../../forensics/findings.js";
import { missingLines, partialExplanation } from "../../forensics/partial-snapshot.js";
import { containedAt } from "../../playbook/timeline.js";
import { mdText } from "../../report/markdown-text.js";
import { planSummaryMarkdown } from "../../report/plan-summary.js";
import { leakPeopleWords } from "../../report/report-text.js";
import { formatUtc, utcTimesInText } from "../../report/time-format.js";

export const ISSUE_LABEL = "leak-responder";

/**
 * The checklist items the follow-through can verify and tick (follow-through.ts), in the exact words
 * of the issue: a tick replaces `- [ ] <text>` with `- [x] <text>` and nothing else.
 */
export const CHECKLIST = {
  createProvider: "Create the IAM OIDC provider for `token.actions.githubusercontent.com` (once per account)",
  createRoles: "Create the role(s) from the plan beside the existing user",
  switchWorkflows: "Switch one workflow at a time to the rewritten version",
  deleteSecrets: "Delete the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` repository secrets",
} as const;
const MAX_DIFF_CHARS = 20_000;

export interface IssueContent {
  title: string;
  body: string;
  labels: string[];
}

function fence(text: string, language = ""): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${language}\n${text}\n${ticks}`;
}

/**
 * Inline text from CloudTrail, the alert or configuration: no links, HTML, mentions or refs; a time
 * it quotes is written as the report writes times.
 */
function plainText(text: string): string {
  return utcTimesInText(mdText(text.slice(0, 500)));
}

function titleOf(incident: Incident, key: string): string {
  return `Leaked AWS key ${key} ${incident.status === "failed" ? "NOT contained" : "contained"} (${incident.id})`;
}

/**
 * A public page (issue 11): a key was contained, when, and where the private report is. No account
 * id, address, IAM or GitHub user name, error text, finding, path or plan: each would tell a reader
 * of the repository something about the account behind it. The key id, an identifier that opens the
 * door to `sts:GetAccessKeyInfo`, shows only its last four characters.
 */
function publicIssue(incident: Incident): IssueContent {
  const tail = incident.accessKeyId?.slice(-4);
  const shown = tail && /^[A-Z0-9]{4}$/.test(tail) ? tail : undefined;
  const at = containedAt(incident);
  const lines = [
    incident.status === "failed"
      ? `An AWS access key found in this repository${shown ? ` (key id ending in ${shown})` : ""} could not be confirmed contained.`
      : `An AWS access key found in this repository${shown ? ` (key id ending in ${shown})` : ""} was contained${at ? ` at ${formatUtc(at)}` : ""}: it no longer works.`,
    "",
    `The details are in the private audit report of incident \`${incident.id}\`, stored with the incident under \`incidents/${incident.id}/evidence/\` (\`report-*.md\`, \`.html\`, \`.json\`), for people with access to the responder's AWS account.`,
    "",
    "<sub>Opened by leak-responder. This repository is public (or its visibility is unknown), so this issue names no account, address or person.</sub>",
  ];
  return {
    title: titleOf(incident, shown ? `…${shown}` : "(id withheld)"),
    body: lines.join("\n"),
    labels: [ISSUE_LABEL, "security"],
  };
}

/**
 * Text in the issue with IP addresses replaced (GITHUB_ISSUE_HIDE_IPS): reasons, details and
 * warnings quote them too, not only the address table. Candidates are checked by ipaddr.js, so a time
 * (`09:31:00`) or a version number stays as it is.
 */
function withoutIps(text: string): string {
  return text.replace(/[0-9A-Fa-f]*[:.][0-9A-Fa-f:.]*[0-9A-Fa-f:]/g, (candidate) =>
    ipaddr.IPv4.isValidFourPartDecimal(candidate) ||
    (candidate.includes(":") && ipaddr.IPv6.isValid(candidate))
      ? "[address]"
      : candidate,
  );
}

export function incidentIssue(input: {
  incident: Incident;
  findings?: Findings;
  diffs: Array<{ path: string; diff: string }>;
  hideIps: boolean;
}): IssueContent {
  const { incident, findings, diffs, hideIps } = input;
  const visibility = incident.repositoryVisibility;
  if (visibility !== "private" && visibility !== "internal") return publicIssue(incident);
  const plain = (text: string): string => (hideIps ? withoutIps(plainText(text)) : plainText(text));
  const key = incident.accessKeyId ?? "an AWS access key";
  const partial = incident.forensics?.partial;
  const leak = incident.leakLocation;
  const people = leakPeopleWords(leak?.people, leak?.type);
  const where = leak?.path
    ? `${plain(leak.path)}${leak.startLine ? ` line ${leak.startLine}` : ""}`
    : "this repository";
  const lines: string[] = [
    `GitHub secret scanning found the AWS access key ${key} in ${where}${leak?.url ? ` ([view](${leak.url}))` : ""}.`,
    ...(people ? ["", `Put there by: ${plain(people)}.`] : []),
    ...(partial
      ? [
          "",
          `> ⚠️ **PARTIAL SNAPSHOT:** ${plain(partialExplanation(partial))}`,
          ">",
          ...missingLines(partial).map((line) => `> - ${plain(line)}`),
        ]
      : []),
    "",
    "## What was done",
    "",
  ];
  for (const entry of incident.timeline.filter((e) =>
    [
      "key-deactivated",
      "sessions-revoked",
      "roles-revoked",
      "alert-resolved",
      "snapshot-taken",
      "analyzed",
      "planned",
    ].includes(e.step),
  )) {
    lines.push(`- ${entry.outcome === "done" ? "✅" : "⚠️"} ${formatUtc(entry.at)}: ${plain(entry.detail)}`);
  }
  lines.push("", `Status: **${incident.status}**. ${plain(incident.summary)}`);
  // What could not be done (Slack refusing the message among them): the issue may be the one place
  // the owners read it.
  if (incident.warnings.length > 0) {
    lines.push("", "## Needs a person", "");
    for (const warning of incident.warnings) lines.push(`- ⚠️ ${plain(warning)}`);
  }
  if (findings) {
    lines.push("", "## What the key did", "", `**${findings.verdict}**: ${plain(findings.headline)}`, "");
    for (const reason of findings.reasons.slice(0, 8)) lines.push(`- ${plain(reason)}`);
    if (!hideIps && findings.addresses.length > 0) {
      lines.push("", "| Source address | GitHub Actions | Calls | After the leak |", "|---|---|---|---|");
      for (const a of findings.addresses.slice(0, 15)) {
        lines.push(
          `| ${plain(a.address)} | ${a.githubActions === true ? "yes" : a.githubActions === false ? "no" : "unknown"} | ${a.calls} | ${a.afterLeak} |`,
        );
      }
      if (findings.addresses.length > 15)
        lines.push(`| … and ${findings.addresses.length - 15} more | | | |`);
    }
  }
  if (incident.plan) {
    lines.push(
      "",
      "## The fix: move this repository to GitHub Actions OIDC",
      "",
      ...planSummaryMarkdown(incident.plan.summary),
    );
    if (incident.plan.roles.length > 0)
      lines.push("", `Roles planned: ${incident.plan.roles.map((r) => plain(r)).join(", ")}.`);
    let budget = MAX_DIFF_CHARS;
    for (const { path, diff } of diffs) {
      if (budget <= 0) {
        lines.push("", `(More workflow changes in the plan: \`${path}\`.)`);
        continue;
      }
      const shown =
        diff.length > budget ? `${diff.slice(0, budget)}\n… (truncated; the full diff is in the plan)` : diff;
      budget -= shown.length;
      lines.push(
        "",
        `<details><summary><code>${plain(path)}</code></summary>`,
        "",
        fence(shown, "diff"),
        "",
        "</details>",
      );
    }
    lines.push(
      "",
      `The full plan (trust and permission policies, CloudFormation and Terraform) is stored with the incident at \`${incident.plan.location}\` (AWS credentials needed).`,
    );
  }
  lines.push(
    "",
    "## Checklist",
    "",
    `- [ ] ${CHECKLIST.createProvider}`,
    `- [ ] ${CHECKLIST.createRoles}`,
    "- [ ] Prove a role on a test branch with the plan's smoke-test workflow",
    `- [ ] ${CHECKLIST.switchWorkflows}`,
    `- [ ] ${CHECKLIST.deleteSecrets}`,
    `- [ ] After a week green: deactivate the user's remaining keys${incident.location?.userName ? ` (${plain(incident.location.userName)})` : ""}`,
    "- [ ] After another week: delete the user",
    "- [ ] Remove the key from the repository's history if it is still there, and check other secrets in the same file",
    "",
    `<sub>Opened by leak-responder for incident \`${incident.id}\`. The leaked key was deactivated, never deleted.</sub>`,
  );
  return {
    title: titleOf(incident, key),
    body: lines.join("\n"),
    labels: [ISSUE_LABEL, "security"],
  };
}
