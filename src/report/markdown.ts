/**
 * The audit report as Markdown: for a ticket, a pull request or a terminal. Every string from the
 * incident or the findings is escaped, so an attacker's user agent cannot become HTML, a link or a
 * broken table in whatever renders it.
 */
import type { ActivityData, ActivityView } from "./activity-buckets.js";
import { mdText } from "./markdown-text.js";
import { planSummaryMarkdown } from "./plan-summary.js";
import type { AuditReport } from "./report-model.js";
import {
  leakPeopleWords,
  leakWhere,
  OUTCOME_WORDS,
  ownerWords,
  STATUS_WORDS,
  safeHttpsUrl,
  sparkline,
  verdictWords,
} from "./report-text.js";
import { formatDuration, formatUtc } from "./time-format.js";

/**
 * Our own identifiers and hashes in a code span (no backtick can close it early). Text an attacker
 * chose goes through mdText instead, so no renderer has to be trusted with it even as code.
 */
function code(value: string): string {
  return `\`${value.replace(/[`\s]+/g, " ")}\``;
}

function link(label: string, url: string | undefined): string {
  const safe = safeHttpsUrl(url);
  return safe
    ? `[${mdText(label)}](${safe.replace(/[()\s]/g, (c) => encodeURIComponent(c))})`
    : mdText(label);
}

function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [];
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    "",
  ];
}

function when(iso: string | undefined): string {
  return iso ? mdText(formatUtc(iso, { zone: false })) : "";
}

function duration(ms: number | undefined): string {
  return ms === undefined ? "" : formatDuration(ms);
}

function markerLine(activity: ActivityData, view: ActivityView): string {
  const from = Date.parse(view.from);
  const slots = new Array<string>(view.counts.length).fill(" ");
  const place = (iso: string | undefined, mark: string) => {
    if (!iso) return;
    const index = Math.floor((Date.parse(iso) - from) / view.bucketMs);
    if (index >= 0 && index < slots.length) slots[index] = slots[index] === " " ? mark : "X";
  };
  place(activity.leakedAt, "L");
  place(activity.containedAt, "C");
  return slots.join("").trimEnd();
}

function activitySection(report: AuditReport): string[] {
  const { activity } = report;
  const out = ["## Activity of the key", ""];
  if (activity.views.length === 0) {
    out.push("No CloudTrail events were available for this incident.", "");
    return out;
  }
  const totals = activity.series
    .map((name, index) => ({ name, count: activity.totals[index] ?? 0 }))
    .filter((entry) => entry.count > 0)
    .map((entry) => `${mdText(entry.name)} ${entry.count}`);
  out.push(
    `${activity.events} events in the snapshot, by ${activity.groupBy === "category" ? "signal category" : "region"}: ${totals.join(", ") || "none"}.${activity.undated > 0 ? ` ${activity.undated} without a readable time.` : ""}`,
    "",
  );
  for (const view of activity.views) {
    out.push(
      `**${mdText(view.title)}**: ${when(view.from)} to ${when(view.to)} UTC, one character per ${formatDuration(view.bucketMs)}, busiest ${view.peak} calls (L: leak, C: key deactivated).`,
      "",
      "```text",
      sparkline(view),
      markerLine(activity, view),
      "```",
      "",
    );
  }
  return out;
}

function findingsSection(report: AuditReport): string[] {
  const findings = report.findings;
  if (!findings) return ["## Findings", "", "No findings are stored for this incident.", ""];
  const out = [
    "## Findings",
    "",
    `**Verdict: ${mdText(verdictWords(findings.verdict))}.** ${mdText(findings.headline)}`,
    "",
    `${findings.totals.events} calls analysed (${findings.totals.succeeded} succeeded, ${findings.totals.denied} denied); after the leak: ${findings.afterLeak.calls} calls, ${findings.afterLeak.succeeded} succeeded, ${findings.afterLeak.fromElsewhere} not from GitHub Actions.${findings.afterContainment ? ` After containment: ${findings.afterContainment.calls} calls, ${findings.afterContainment.succeeded} succeeded (${findings.afterContainment.succeededAfterGrace} after the grace period).` : ""}`,
    "",
  ];
  if (findings.reasons.length > 0) {
    out.push("Why:", "", ...findings.reasons.map((reason, i) => `${i + 1}. ${mdText(reason)}`));
    if (findings.reasonsOmitted > 0)
      out.push(`${findings.reasons.length + 1}. and ${findings.reasonsOmitted} more (findings.json)`);
    out.push("");
  }
  if (findings.notes.length > 0) out.push(...findings.notes.map((note) => `- ${mdText(note)}`), "");
  if (findings.signals.length > 0) {
    out.push("### Signals by category", "");
    out.push(
      ...table(
        ["Category", "Action", "Used the key to", "Succeeded", "Attempted", "Details"],
        findings.signals.flatMap((group) =>
          group.items.map((item) => [
            mdText(group.category),
            code(item.action),
            mdText(item.does),
            String(item.succeeded),
            String(item.attempted),
            mdText(item.details.join("; ")),
          ]),
        ),
      ),
    );
  }
  if (findings.addresses.length > 0) {
    out.push("### Source addresses", "");
    out.push(
      ...table(
        [
          "Address",
          "GitHub Actions",
          "Calls",
          "After leak",
          "Denied",
          "First seen",
          "Last seen",
          "Regions",
          "User agent",
        ],
        findings.addresses.map((a) => [
          mdText(a.address),
          a.githubActions,
          String(a.calls),
          String(a.afterLeak),
          String(a.denied),
          when(a.firstSeen),
          when(a.lastSeen),
          mdText(a.regions.join(", ")),
          mdText(a.userAgent ?? ""),
        ]),
      ),
    );
    if (findings.addressesOmitted > 0)
      out.push(`and ${findings.addressesOmitted} more addresses (findings.json)`, "");
  }
  if (findings.regions.length > 0) {
    out.push("### Regions", "");
    out.push(
      ...table(
        ["Region", "Calls", "After leak", "Denied", "New since the leak"],
        findings.regions.map((r) => [
          mdText(r.region),
          String(r.calls),
          String(r.afterLeak),
          String(r.denied),
          r.newSinceLeak ? "**yes**" : "no",
        ]),
      ),
    );
  }
  if (findings.artifacts.length > 0) {
    out.push("### Created after the leak", "");
    out.push(
      ...table(
        ["Kind", "Name", "When (UTC)", "From"],
        findings.artifacts.map((a) => [
          mdText(a.kind),
          mdText(a.name),
          when(a.eventTime),
          mdText(a.sourceIPAddress ?? ""),
        ]),
      ),
    );
  }
  if (findings.derivedCredentials.length > 0) {
    out.push("### Temporary credentials minted by the key", "");
    out.push(
      ...table(
        ["Access key id", "Via", "Minted (UTC)", "Expires (UTC)", "Role", "Calls"],
        findings.derivedCredentials.map((d) => [
          mdText(d.accessKeyId),
          mdText(d.via),
          when(d.mintedAt),
          when(d.expiration),
          mdText(d.roleArn ?? ""),
          String(d.calls),
        ]),
      ),
    );
  }
  if (findings.rolesAssumed.length > 0) {
    out.push("### Roles assumed", "");
    out.push(
      ...table(
        ["Role", "Times", "After leak"],
        findings.rolesAssumed.map((r) => [mdText(r.roleArn), String(r.times), String(r.afterLeak)]),
      ),
    );
  }
  if (findings.deniedBursts.length > 0) {
    out.push("### Bursts of denied calls", "");
    out.push(
      ...table(
        ["Address", "Start (UTC)", "Seconds", "Denied calls", "Different actions"],
        findings.deniedBursts.map((b) => [
          mdText(b.address),
          when(b.start),
          String(b.durationSeconds),
          String(b.deniedCalls),
          String(b.distinctActions),
        ]),
      ),
    );
  }
  return out;
}

export function renderMarkdown(report: AuditReport): string {
  const { incident, durations } = report;
  const out: string[] = [
    "# Leaked AWS key: audit report",
    "",
    `**Incident** ${code(incident.id)} · **Status** ${mdText(STATUS_WORDS[incident.status] ?? incident.status)} · **Verdict** ${mdText(verdictWords(report.findings?.verdict))}${report.partial ? " (PARTIAL evidence)" : ""}`,
    "",
    `> ${mdText(incident.summary)}`,
    "",
  ];
  if (report.partial) {
    out.push(
      `> **⚠ PARTIAL SNAPSHOT:** ${mdText(report.partial.warning)}`,
      ">",
      ...report.partial.missing.map((line) => `> - ${mdText(line)}`),
      "",
    );
  }
  const facts: string[][] = [];
  if (incident.accessKeyId) {
    facts.push([
      "Key",
      `${code(incident.accessKeyId)}${incident.secretType ? ` (${mdText(incident.secretType)})` : ""}${incident.secretFingerprint ? `, secret fingerprint ${code(incident.secretFingerprint)}` : ""}`,
    ]);
  }
  const owner = ownerWords(report);
  if (owner) facts.push(["Owner", mdText(owner)]);
  const where = leakWhere(report);
  if (where) facts.push(["Leaked in", link(where, incident.leakLocation?.url)]);
  const people = leakPeopleWords(incident.leakLocation?.people, incident.leakLocation?.type);
  if (people) facts.push(["Put there by", mdText(people)]);
  if (incident.alertNumber !== undefined)
    facts.push(["GitHub alert", link(`#${incident.alertNumber}`, incident.alertUrl)]);
  if (incident.githubIssue)
    facts.push(["GitHub issue", link(`#${incident.githubIssue.number}`, incident.githubIssue.url)]);
  facts.push([
    "Time to contain",
    durations.timeToContainMs === undefined
      ? "not contained"
      : `${formatDuration(durations.timeToContainMs)} (alert webhook to key deactivated)`,
  ]);
  if (durations.exposureMs !== undefined)
    facts.push([
      "Exposure",
      `${formatDuration(durations.exposureMs)} (${incident.leakedAtSource === "commit" ? "commit" : "alert"} to key deactivated)`,
    ]);
  if (report.findings) {
    facts.push([
      "Calls after the leak",
      `${report.findings.afterLeak.calls} (${report.findings.afterLeak.fromElsewhere} not from GitHub Actions, ${report.findings.afterLeak.succeeded} succeeded)`,
    ]);
  }
  facts.push(["Mode", incident.mode === "dry-run" ? "dry run" : "enforce"]);
  out.push(...table(["", ""], facts));

  out.push("## Open follow-ups", "");
  if (report.followUps.length === 0) out.push("Nothing is open.", "");
  else out.push(...report.followUps.map((f) => `- [ ] **${f.priority}**: ${mdText(f.text)}`), "");
  if (report.warnings.length > 0) {
    out.push(
      "Warnings recorded during the response:",
      "",
      ...report.warnings.map((w) => `- ${mdText(w)}`),
      "",
    );
  }

  out.push("## Timeline", "");
  out.push(
    ...table(
      ["Milestone", "Time (UTC)", "Since previous", "Since the leak", "Outcome", "Detail"],
      report.milestones.map((m) => [
        mdText(m.label),
        when(m.at),
        duration(m.sincePreviousMs),
        duration(m.sinceLeakMs),
        OUTCOME_WORDS[m.outcome],
        mdText(m.detail ?? ""),
      ]),
    ),
  );

  out.push(...activitySection(report));
  out.push(...findingsSection(report));

  out.push("## Actions taken", "");
  if (report.actions.length === 0) out.push("None recorded.", "");
  else
    out.push(
      ...report.actions.map(
        (a) => `- ${when(a.at)} ${code(a.step)} ${OUTCOME_WORDS[a.outcome]}: ${mdText(a.text)}`,
      ),
      "",
    );

  const { evidence } = report;
  out.push("## Evidence", "");
  if (evidence.window)
    out.push(
      `CloudTrail window: ${when(evidence.window.startTime)} to ${when(evidence.window.endTime)} UTC.`,
      "",
    );
  out.push(
    `${evidence.events ?? "Unknown number of"} events in ${evidence.regions.length} regions${evidence.incompleteRegions.length > 0 ? `; **incomplete in ${mdText(evidence.incompleteRegions.join(", "))}**` : evidence.complete ? "; complete in every region" : ""}.`,
    "",
  );
  const busy = evidence.eventsPerRegion.filter((r) => r.events > 0);
  if (busy.length > 0)
    out.push(`Events per region: ${busy.map((r) => `${mdText(r.region)} ${r.events}`).join(", ")}.`, "");
  out.push(
    ...table(
      ["File", "Bytes", "SHA-256", "Read back"],
      evidence.files.map((f) => [
        mdText(f.name),
        f.bytes === undefined ? "" : String(f.bytes),
        `${code(f.sha256)}${f.manifestSha256 ? ` (manifest says ${code(f.manifestSha256)})` : ""}`,
        f.verified === "match" ? "matches" : f.verified === "MISMATCH" ? "**MISMATCH**" : "not read",
      ]),
    ),
  );
  if (evidence.files.length === 0) out.push("No evidence files are recorded.", "");

  out.push("## OIDC migration plan", "");
  if (report.plan) {
    out.push(...planSummaryMarkdown(report.plan.summary));
    if (report.plan.nothingToMigrate)
      out.push("No workflow uses a static cloud key: nothing to migrate in the repository.", "");
    if (report.plan.roles.length > 0) out.push(`Roles: ${report.plan.roles.map(code).join(", ")}.`, "");
    if (report.plan.files.length > 0) {
      out.push(
        `Files${report.plan.location ? ` (in ${code(report.plan.location)})` : ""}:`,
        "",
        ...report.plan.files.map((f) => `- ${code(f)}`),
      );
      if (report.plan.filesOmitted > 0) out.push(`- and ${report.plan.filesOmitted} more`);
      out.push("");
    }
  } else {
    out.push("No plan is stored with this incident.", "");
  }

  out.push("## Playbook log", "");
  out.push(
    ...table(
      ["Time (UTC)", "Step", "Outcome", "Took", "Detail"],
      report.steps.map((s) => [
        when(s.at),
        code(s.step),
        OUTCOME_WORDS[s.outcome],
        duration(s.durationMs),
        mdText(s.detail),
      ]),
    ),
  );
  if (report.stepsOmitted > 0) out.push(`and ${report.stepsOmitted} more entries (incident.json)`, "");
  if (report.gaps.length > 0)
    out.push("## Gaps in this report", "", ...report.gaps.map((g) => `- ${mdText(g)}`), "");
  out.push(
    "---",
    "",
    `Generated ${when(report.generatedAt)} UTC by leak-responder from the incident record and its evidence. Reading them needs AWS credentials for the incident store.`,
    "",
  );
  return out.join("\n");
}
