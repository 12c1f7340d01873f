/**
 * The audit report as one self-contained HTML page: inline CSS, inline SVG charts, no script, no
 * font, no image, nothing fetched (a Content-Security-Policy says so, so even a mistake here could
 * not load anything or run anything). It reads calmly on screen and prints cleanly. Every string
 * that did not come from this file is escaped: user agents, addresses and names are the attacker's.
 */
import { activityChartSvg } from "./activity-chart.js";
import { escapeHtml as e } from "./html-escape.js";
import { planSummaryHtml } from "./plan-summary.js";
import type { AuditReport, ReportFollowUp } from "./report-model.js";
import {
  leakPeopleWords,
  leakWhere,
  OUTCOME_WORDS,
  ownerWords,
  STATUS_WORDS,
  safeHttpsUrl,
  verdictWords,
} from "./report-text.js";
import { formatDuration, formatStep, formatUtc } from "./time-format.js";

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { --ink: #1f2933; --muted: #52606d; --line: #dde3ea; --soft: #f6f8fa; --ok: #1e8449; --bad: #c0392b; --warn: #a86500; --info: #2b6cb0; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1060px; margin: 0 auto; padding: 28px 32px 56px; }
header.masthead { border-bottom: 3px solid var(--ink); padding-bottom: 18px; margin-bottom: 22px; }
.eyebrow { margin: 0; color: var(--muted); font-size: 12.5px; letter-spacing: .06em; text-transform: uppercase; }
h1 { font-size: 25px; line-height: 1.25; margin: 6px 0 10px; }
h2 { font-size: 18px; margin: 38px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14.5px; margin: 24px 0 8px; }
p { margin: 8px 0; }
.summary { font-size: 16px; margin: 10px 0 12px; max-width: 60em; }
.badges { display: flex; flex-wrap: wrap; gap: 8px; }
.badge { display: inline-block; padding: 3px 10px; border-radius: 999px; font-size: 12.5px; font-weight: 600; border: 1px solid currentColor; }
.tone-ok { color: var(--ok); background: #eaf6ee; }
.tone-bad { color: var(--bad); background: #fbeceb; }
.tone-warn { color: var(--warn); background: #fdf3e1; }
.tone-info { color: var(--info); background: #ebf2fa; }
.tone-quiet { color: var(--muted); background: var(--soft); }
.cards { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; margin: 18px 0 8px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--soft); }
.card .value { display: block; font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { display: block; color: var(--muted); font-size: 12.5px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 16px 0 0; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0 10px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 600; color: var(--muted); background: var(--soft); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time, td.nowrap { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.nowrap code { overflow-wrap: normal; }
.agent { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
tr.missing td { color: var(--muted); font-style: italic; }
tr.milestone td:first-child { min-width: 11em; }
tr.failed td { color: var(--bad); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
ul.follow-ups { list-style: none; padding: 0; margin: 8px 0; }
ul.follow-ups li { display: flex; gap: 10px; align-items: baseline; padding: 7px 0; border-bottom: 1px solid var(--line); }
.pill { flex: none; width: 4.2em; text-align: center; font-size: 11.5px; font-weight: 700; text-transform: uppercase; border-radius: 4px; padding: 1px 0; }
.verdict { border-left: 5px solid currentColor; padding: 10px 14px; margin: 8px 0 14px; border-radius: 0 6px 6px 0; }
.verdict p { color: var(--ink); margin: 4px 0 0; }
figure { margin: 12px 0 22px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; }
svg.activity-chart { display: block; max-width: 100%; height: auto; }
svg .axis { fill: #52606d; font-size: 11px; }
svg .axis-title { fill: #52606d; font-size: 11px; }
svg .legend { fill: #1f2933; font-size: 12px; }
svg .marker-label { font-size: 11.5px; font-weight: 600; }
svg .empty { fill: #7b8794; font-size: 14px; }
.plan-summary { background: var(--soft); border-left: 4px solid var(--info); padding: 10px 14px; border-radius: 0 6px 6px 0; }
.muted { color: var(--muted); }
footer { margin-top: 44px; padding-top: 12px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12.5px; }
a { color: var(--info); }
@media (max-width: 760px) { main { padding: 18px; } .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
@media print {
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  table, figure, .card, li { break-inside: avoid; }
  .card, th { background: none; }
  a { color: inherit; text-decoration: none; }
}
`;

type Tone = "ok" | "bad" | "warn" | "info" | "quiet";

const STATUS_TONE: Readonly<Record<AuditReport["incident"]["status"], Tone>> = {
  contained: "ok",
  "contained-with-warnings": "warn",
  escalated: "bad",
  failed: "bad",
  "not-ours": "quiet",
  "dry-run": "info",
};

function verdictTone(verdict: string | undefined): Tone {
  if (verdict === "compromised") return "bad";
  if (verdict === "suspicious") return "warn";
  if (verdict === "expected-use-only" || verdict === "no-use-since-leak") return "ok";
  return "quiet";
}

const PRIORITY_TONE: Readonly<Record<ReportFollowUp["priority"], Tone>> = {
  now: "bad",
  soon: "warn",
  later: "info",
};

function time(iso: string | undefined): string {
  return iso ? `<span class="time">${e(formatUtc(iso, { zone: false }))}</span>` : "";
}

function duration(ms: number | undefined): string {
  return ms === undefined ? "" : e(formatDuration(ms));
}

function code(value: string): string {
  return `<code>${e(value)}</code>`;
}

function link(label: string, url: string | undefined): string {
  const safe = safeHttpsUrl(url);
  return safe ? `<a href="${e(safe)}" rel="noopener noreferrer">${e(label)}</a>` : e(label);
}

interface Column<T> {
  head: string;
  cell: (row: T) => string;
  num?: boolean;
  className?: string;
}

function table<T>(rows: readonly T[], columns: Array<Column<T>>, rowAttributes?: (row: T) => string): string {
  if (rows.length === 0) return "";
  const head = columns.map((c) => `<th${c.num ? ' class="num"' : ""}>${e(c.head)}</th>`).join("");
  const body = rows
    .map((row) => {
      const cells = columns
        .map((c) => {
          const classes = [c.num ? "num" : "", c.className ?? ""].filter(Boolean).join(" ");
          return `<td${classes ? ` class="${classes}"` : ""}>${c.cell(row)}</td>`;
        })
        .join("");
      return `<tr${rowAttributes ? ` ${rowAttributes(row)}` : ""}>${cells}</tr>`;
    })
    .join("\n");
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** The start of a user agent (the tool and version), the rest on hover: rows stay readable. */
function userAgent(value: string | undefined): string {
  if (!value) return "";
  const short = value.length > 70 ? `${value.slice(0, 69)}…` : value;
  return `<span class="agent" title="${e(value)}">${e(short)}</span>`;
}

function card(value: string, label: string): string {
  return `<div class="card"><span class="value">${e(value)}</span><span class="label">${e(label)}</span></div>`;
}

function header(report: AuditReport): string {
  const { incident, durations, findings } = report;
  const key = incident.accessKeyId ? `Leaked AWS key ${incident.accessKeyId}` : "Leaked AWS key";
  const facts: Array<[string, string]> = [];
  facts.push(["Incident", code(incident.id)]);
  if (incident.accessKeyId) {
    facts.push([
      "Key",
      `${code(incident.accessKeyId)}${incident.secretType ? ` ${e(incident.secretType)}` : ""}${incident.secretFingerprint ? `, secret fingerprint ${code(incident.secretFingerprint)}` : ""}`,
    ]);
  }
  const owner = ownerWords(report);
  if (owner) facts.push(["Owner", e(owner)]);
  const where = leakWhere(report);
  if (where) facts.push(["Leaked in", link(where, incident.leakLocation?.url)]);
  const people = leakPeopleWords(incident.leakLocation?.people, incident.leakLocation?.type);
  if (people) facts.push(["Put there by", e(people)]);
  if (incident.alertNumber !== undefined)
    facts.push(["GitHub alert", link(`#${incident.alertNumber}`, incident.alertUrl)]);
  if (incident.githubIssue)
    facts.push(["GitHub issue", link(`#${incident.githubIssue.number}`, incident.githubIssue.url)]);
  facts.push(["Mode", incident.mode === "dry-run" ? "dry run (nothing changed)" : "enforce"]);
  facts.push(["Recorded", `${time(incident.createdAt)} UTC, last updated ${time(incident.updatedAt)} UTC`]);

  const cards = [
    card(
      durations.timeToContainMs === undefined ? "not contained" : formatDuration(durations.timeToContainMs),
      "time to contain (alert webhook to key deactivated)",
    ),
    card(
      durations.exposureMs === undefined ? "unknown" : formatDuration(durations.exposureMs),
      `exposure (${incident.leakedAtSource === "commit" ? "commit" : "alert"} to key deactivated)`,
    ),
    card(
      findings ? String(findings.afterLeak.calls) : "n/a",
      findings
        ? `calls after the leak, ${findings.afterLeak.fromElsewhere} not from GitHub Actions`
        : "calls after the leak (not analysed)",
    ),
    card(
      report.evidence.events === undefined ? "n/a" : String(report.evidence.events),
      `events preserved, ${report.evidence.regions.length} regions${report.evidence.incompleteRegions.length > 0 ? " (INCOMPLETE)" : ""}`,
    ),
  ];
  return `<header class="masthead">
<p class="eyebrow">leak-responder · post-incident audit report</p>
<h1>${e(key)}${incident.repository ? ` in ${e(incident.repository)}` : ""}</h1>
<div class="badges"><span class="badge tone-${STATUS_TONE[incident.status] ?? "quiet"}" data-status="${e(incident.status)}">${e(STATUS_WORDS[incident.status] ?? incident.status)}</span><span class="badge tone-${verdictTone(findings?.verdict)}">Verdict: ${e(verdictWords(findings?.verdict))}${report.partial ? " (PARTIAL evidence)" : ""}</span></div>
<p class="summary">${e(incident.summary)}</p>${partialBox(report)}
<div class="cards">${cards.join("")}</div>
<dl class="facts">${facts.map(([term, value]) => `<dt>${e(term)}</dt><dd>${value}</dd>`).join("")}</dl>
</header>`;
}

/** A snapshot given up before it finished, said where nobody reads past it. */
function partialBox(report: AuditReport): string {
  if (!report.partial) return "";
  const missing = report.partial.missing.map((line) => `<li>${e(line)}</li>`).join("");
  return `<div class="verdict tone-warn" id="partial-snapshot" role="alert"><strong>PARTIAL SNAPSHOT</strong><p>${e(report.partial.warning)}</p>${missing ? `<ul>${missing}</ul>` : ""}</div>`;
}

function followUpsSection(report: AuditReport): string {
  const items = report.followUps
    .map(
      (f) =>
        `<li class="follow-up" data-priority="${f.priority}"><span class="pill tone-${PRIORITY_TONE[f.priority]}">${e(f.priority)}</span><span>${e(f.text)}</span></li>`,
    )
    .join("\n");
  const warnings =
    report.warnings.length > 0
      ? `<h3>Warnings recorded during the response</h3><ul>${report.warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>`
      : "";
  return `<section id="follow-ups"><h2>Open follow-ups</h2>${items ? `<ul class="follow-ups">${items}</ul>` : "<p>Nothing is open.</p>"}${warnings}</section>`;
}

function timelineSection(report: AuditReport): string {
  const rows = table(
    report.milestones,
    [
      { head: "Milestone", cell: (m) => e(m.label) },
      { head: "Time (UTC)", cell: (m) => time(m.at), className: "time" },
      { head: "Since previous", cell: (m) => duration(m.sincePreviousMs), num: true },
      { head: "Since the leak", cell: (m) => duration(m.sinceLeakMs), num: true },
      { head: "Outcome", cell: (m) => e(OUTCOME_WORDS[m.outcome]) },
      { head: "Detail", cell: (m) => e(m.detail ?? "") },
    ],
    (m) =>
      `class="milestone${m.at === undefined ? " missing" : ""}${m.outcome === "failed" ? " failed" : ""}" data-milestone="${e(m.id)}"`,
  );
  return `<section id="timeline"><h2>Timeline</h2>${rows}</section>`;
}

function activitySection(report: AuditReport): string {
  const { activity } = report;
  if (activity.views.length === 0) {
    return `<section id="activity"><h2>Activity of the key</h2><p>No CloudTrail events were available for this incident.</p></section>`;
  }
  const figures = activity.views
    .map(
      (view) =>
        `<figure data-view="${e(view.id)}">${activityChartSvg(activity, view)}<figcaption>${e(view.title)}: ${view.total} calls from ${e(formatUtc(view.from))} to ${e(formatUtc(view.to))}, one bar per ${e(formatStep(view.bucketMs))}.</figcaption></figure>`,
    )
    .join("\n");
  const undated =
    activity.undated > 0
      ? `<p class="muted">${activity.undated} events had no readable time and are not drawn.</p>`
      : "";
  return `<section id="activity"><h2>Activity of the key</h2><p>${activity.events} events in the snapshot, coloured by ${activity.groupBy === "category" ? "what the call does (signal category)" : "region"}.</p>${figures}${undated}</section>`;
}

function findingsSection(report: AuditReport): string {
  const findings = report.findings;
  if (!findings)
    return `<section id="findings"><h2>Findings</h2><p>No findings are stored for this incident.</p></section>`;
  const parts: string[] = [
    `<div class="verdict tone-${verdictTone(findings.verdict)}"><strong>Verdict: ${e(verdictWords(findings.verdict))}</strong><p>${e(findings.headline)}</p></div>`,
    `<p>${findings.totals.events} calls analysed (${findings.totals.succeeded} succeeded, ${findings.totals.denied} denied). After the leak: ${findings.afterLeak.calls} calls, ${findings.afterLeak.succeeded} succeeded, ${findings.afterLeak.fromElsewhere} not from GitHub Actions${findings.afterLeak.firstAt ? `, from ${time(findings.afterLeak.firstAt)} to ${time(findings.afterLeak.lastAt)} UTC` : ""}.${findings.afterContainment ? ` After containment: ${findings.afterContainment.calls} calls, ${findings.afterContainment.denied} denied, ${findings.afterContainment.succeeded} succeeded (${findings.afterContainment.succeededAfterGrace} after the grace period).` : ""}</p>`,
  ];
  if (findings.reasons.length > 0) {
    parts.push(
      `<h3>Why</h3><ol class="reasons">${findings.reasons.map((r) => `<li>${e(r)}</li>`).join("")}${findings.reasonsOmitted > 0 ? `<li class="muted">and ${findings.reasonsOmitted} more (findings.json)</li>` : ""}</ol>`,
    );
  }
  if (findings.notes.length > 0)
    parts.push(`<ul class="notes muted">${findings.notes.map((n) => `<li>${e(n)}</li>`).join("")}</ul>`);
  const signalRows = findings.signals.flatMap((group) =>
    group.items.map((item) => ({ category: group.category, ...item })),
  );
  if (signalRows.length > 0) {
    parts.push(
      "<h3>Signals by category</h3>",
      table(signalRows, [
        { head: "Category", cell: (s) => e(s.category) },
        { head: "Action", cell: (s) => code(s.action), className: "nowrap" },
        { head: "Used the key to", cell: (s) => e(s.does) },
        { head: "Succeeded", cell: (s) => String(s.succeeded), num: true },
        { head: "Attempted", cell: (s) => String(s.attempted), num: true },
        { head: "Details", cell: (s) => e(s.details.join("; ")) },
      ]),
    );
  }
  if (findings.addresses.length > 0) {
    parts.push(
      "<h3>Source addresses</h3>",
      table(findings.addresses, [
        { head: "Address", cell: (a) => code(a.address), className: "nowrap" },
        {
          head: "GitHub Actions",
          cell: (a) => (a.githubActions === "no" ? "<strong>no</strong>" : e(a.githubActions)),
        },
        { head: "Calls", cell: (a) => String(a.calls), num: true },
        { head: "After leak", cell: (a) => String(a.afterLeak), num: true },
        { head: "Denied", cell: (a) => String(a.denied), num: true },
        {
          head: "Seen (UTC)",
          cell: (a) => `${time(a.firstSeen)} to<br>${time(a.lastSeen)}`,
          className: "time",
        },
        { head: "Regions", cell: (a) => e(a.regions.join(", ")) },
        { head: "User agent", cell: (a) => userAgent(a.userAgent) },
      ]),
    );
    if (findings.addressesOmitted > 0)
      parts.push(`<p class="muted">and ${findings.addressesOmitted} more addresses (findings.json)</p>`);
  }
  if (findings.regions.length > 0) {
    parts.push(
      "<h3>Regions</h3>",
      table(findings.regions, [
        { head: "Region", cell: (r) => e(r.region) },
        { head: "Calls", cell: (r) => String(r.calls), num: true },
        { head: "After leak", cell: (r) => String(r.afterLeak), num: true },
        { head: "Denied", cell: (r) => String(r.denied), num: true },
        { head: "New since the leak", cell: (r) => (r.newSinceLeak ? "<strong>yes</strong>" : "no") },
      ]),
    );
  }
  if (findings.artifacts.length > 0) {
    parts.push(
      "<h3>Created after the leak</h3>",
      table(findings.artifacts, [
        { head: "Kind", cell: (a) => e(a.kind) },
        { head: "Name", cell: (a) => e(a.name) },
        { head: "When (UTC)", cell: (a) => time(a.eventTime), className: "time" },
        { head: "From", cell: (a) => e(a.sourceIPAddress ?? "") },
      ]),
    );
  }
  if (findings.derivedCredentials.length > 0) {
    parts.push(
      "<h3>Temporary credentials minted by the key</h3>",
      table(findings.derivedCredentials, [
        { head: "Access key id", cell: (d) => code(d.accessKeyId), className: "nowrap" },
        { head: "Via", cell: (d) => e(d.via) },
        { head: "Minted (UTC)", cell: (d) => time(d.mintedAt), className: "time" },
        { head: "Expires (UTC)", cell: (d) => time(d.expiration), className: "time" },
        { head: "Role", cell: (d) => e(d.roleArn ?? "") },
        { head: "Calls", cell: (d) => String(d.calls), num: true },
      ]),
    );
  }
  if (findings.rolesAssumed.length > 0) {
    parts.push(
      "<h3>Roles assumed</h3>",
      table(findings.rolesAssumed, [
        { head: "Role", cell: (r) => e(r.roleArn) },
        { head: "Times", cell: (r) => String(r.times), num: true },
        { head: "After leak", cell: (r) => String(r.afterLeak), num: true },
      ]),
    );
  }
  if (findings.deniedBursts.length > 0) {
    parts.push(
      "<h3>Bursts of denied calls</h3>",
      table(findings.deniedBursts, [
        { head: "Address", cell: (b) => code(b.address), className: "nowrap" },
        { head: "Start (UTC)", cell: (b) => time(b.start), className: "time" },
        { head: "Seconds", cell: (b) => String(b.durationSeconds), num: true },
        { head: "Denied calls", cell: (b) => String(b.deniedCalls), num: true },
        { head: "Different actions", cell: (b) => String(b.distinctActions), num: true },
      ]),
    );
  }
  return `<section id="findings"><h2>Findings</h2>${parts.join("\n")}</section>`;
}

function actionsSection(report: AuditReport): string {
  const rows = table(report.actions, [
    { head: "Time (UTC)", cell: (a) => time(a.at), className: "time" },
    { head: "Step", cell: (a) => code(a.step), className: "nowrap" },
    { head: "Outcome", cell: (a) => e(OUTCOME_WORDS[a.outcome]) },
    { head: "What was done", cell: (a) => e(a.text) },
  ]);
  return `<section id="actions"><h2>Actions taken</h2>${rows || "<p>None recorded.</p>"}</section>`;
}

function evidenceSection(report: AuditReport): string {
  const { evidence } = report;
  const parts: string[] = [];
  if (evidence.window) {
    parts.push(
      `<p>CloudTrail window: ${time(evidence.window.startTime)} to ${time(evidence.window.endTime)} UTC.</p>`,
    );
  }
  parts.push(
    `<p>${evidence.events === undefined ? "An unknown number of" : evidence.events} events in ${evidence.regions.length} regions${evidence.incompleteRegions.length > 0 ? `; <strong>incomplete in ${e(evidence.incompleteRegions.join(", "))}</strong>` : evidence.complete ? "; complete in every region" : ""}.</p>`,
  );
  const busy = evidence.eventsPerRegion.filter((r) => r.events > 0);
  if (busy.length > 0)
    parts.push(
      `<p class="muted">Events per region: ${e(busy.map((r) => `${r.region} ${r.events}`).join(", "))}.</p>`,
    );
  const files = table(evidence.files, [
    {
      head: "File",
      cell: (f) => `${e(f.name)}${f.key ? `<br><span class="muted mono">${e(f.key)}</span>` : ""}`,
    },
    { head: "Bytes", cell: (f) => (f.bytes === undefined ? "" : String(f.bytes)), num: true },
    {
      head: "SHA-256",
      cell: (f) =>
        `${code(f.sha256)}${f.manifestSha256 ? `<br><strong>manifest says</strong> ${code(f.manifestSha256)}` : ""}`,
    },
    {
      head: "Read back",
      cell: (f) =>
        f.verified === "match"
          ? "matches"
          : f.verified === "MISMATCH"
            ? "<strong>MISMATCH</strong>"
            : "not read",
    },
  ]);
  parts.push(files || "<p>No evidence files are recorded.</p>");
  return `<section id="evidence"><h2>Evidence</h2>${parts.join("\n")}</section>`;
}

function planSection(report: AuditReport): string {
  const plan = report.plan;
  if (!plan)
    return `<section id="plan"><h2>OIDC migration plan</h2><p>No plan is stored with this incident.</p></section>`;
  const nothing = plan.nothingToMigrate
    ? "<p>No workflow uses a static cloud key: nothing to migrate in the repository.</p>"
    : "";
  const roles = plan.roles.length > 0 ? `<p>Roles: ${plan.roles.map(code).join(", ")}.</p>` : "";
  const files =
    plan.files.length > 0
      ? `<h3>Files${plan.location ? ` <span class="muted">in ${code(plan.location)}</span>` : ""}</h3><ul>${plan.files.map((f) => `<li>${code(f)}</li>`).join("")}${plan.filesOmitted > 0 ? `<li class="muted">and ${plan.filesOmitted} more</li>` : ""}</ul>`
      : "";
  return `<section id="plan"><h2>OIDC migration plan</h2><div class="plan-summary">${planSummaryHtml(plan.summary)}</div>${nothing}${roles}${files}</section>`;
}

function logSection(report: AuditReport): string {
  const rows = table(
    report.steps,
    [
      { head: "Time (UTC)", cell: (s) => time(s.at), className: "time" },
      { head: "Step", cell: (s) => code(s.step), className: "nowrap" },
      { head: "Outcome", cell: (s) => e(OUTCOME_WORDS[s.outcome]) },
      { head: "Took", cell: (s) => duration(s.durationMs), num: true },
      { head: "Detail", cell: (s) => e(s.detail) },
    ],
    (s) => (s.outcome === "failed" ? 'class="failed"' : ""),
  );
  const more =
    report.stepsOmitted > 0
      ? `<p class="muted">and ${report.stepsOmitted} more entries (incident.json)</p>`
      : "";
  return `<section id="log"><h2>Playbook log</h2>${rows}${more}</section>`;
}

export function renderHtml(report: AuditReport): string {
  const gaps =
    report.gaps.length > 0
      ? `<section id="gaps"><h2>Gaps in this report</h2><ul>${report.gaps.map((g) => `<li>${e(g)}</li>`).join("")}</ul></section>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`Audit report: ${report.incident.id}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(report)}
${followUpsSection(report)}
${timelineSection(report)}
${activitySection(report)}
${findingsSection(report)}
${actionsSection(report)}
${evidenceSection(report)}
${planSection(report)}
${logSection(report)}
${gaps}
<footer>Generated ${e(formatUtc(report.generatedAt))} by leak-responder from the incident record and its evidence. The report is stored beside the evidence; reading either needs AWS credentials for the incident store.</footer>
</main>
</body>
</html>
`;
}
