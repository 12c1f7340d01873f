/**
 * The second Slack message, once forensics and the plan are done: is anyone else using the key, what
 * did they do, where, and what do we change so it cannot happen again. A thread reply with a bot
 * token, a second message with a webhook.
 */
import type { Findings } from "../../forensics/findings.js";
import { missingLines, missingRegions, partialExplanation } from "../../forensics/partial-snapshot.js";
import type { FollowUp } from "../../ports.js";
import { type Inline, parsePlanSummary, planSummaryText } from "../../report/plan-summary.js";
import { ownerMentions, type SlackMessage } from "./incident-message.js";
import {
  type Blocks,
  clip,
  escapeMrkdwn,
  fitMessage,
  listWithCount,
  MAX_LINE_CHARS,
} from "./slack-limits.js";

const VERDICT: Record<string, string> = {
  compromised: ":rotating_light: *Compromised*",
  suspicious: ":warning: *Suspicious*",
  "expected-use-only": ":large_green_circle: *Expected use only*",
  "no-use-since-leak": ":large_green_circle: *No use since the leak*",
};

const SHOWN_SIGNALS = 6;
/** Five warnings of this size stay inside a section's 3000 characters (facts.md: Slack). */
const WARNING_CHARS = 500;
const SHOWN_ADDRESSES = 8;
const SHOWN_MISSING = 8;
/** facts.md (Slack): a section's text is at most 3000 characters. */
const SECTION_CHARS = 3000;

function signalLines(findings: Findings): string[] {
  const lines: string[] = [];
  for (const [category, signals] of Object.entries(findings.signals)) {
    for (const signal of signals) {
      if (signal.succeeded + signal.attempted === 0) continue;
      const outcome =
        signal.succeeded > 0 ? `${signal.succeeded} succeeded` : `${signal.attempted} attempted`;
      lines.push(`• *${category}*: ${escapeMrkdwn(signal.does)} (\`${signal.action}\`, ${outcome})`);
    }
  }
  return lines;
}

function addressLines(findings: Findings): string[] {
  return findings.addresses.map((a) => {
    const who =
      a.githubActions === true
        ? "GitHub Actions"
        : a.githubActions === "unknown"
          ? "unknown (no runner list)"
          : "*not GitHub*";
    return `• \`${escapeMrkdwn(a.address)}\`: ${who}, ${a.calls} calls (${a.afterLeak} after the leak), ${a.regions.length} region(s)`;
  });
}

/** Slack's own formatting for the plan's Markdown (`*bold*`, not `**bold**`), every text escaped. */
function planSummaryMrkdwn(markdown: string): string {
  const inline = (parts: readonly Inline[]) =>
    parts
      .map(({ kind, text }) =>
        kind === "strong"
          ? `*${escapeMrkdwn(text)}*`
          : kind === "code"
            ? `\`${escapeMrkdwn(text.replace(/`/g, "'"))}\``
            : escapeMrkdwn(text),
      )
      .join("");
  return parsePlanSummary(markdown)
    .flatMap((block) =>
      block.kind === "heading"
        ? [`*${inline(block.inline)}*`]
        : block.kind === "paragraph"
          ? [inline(block.inline)]
          : block.kind === "list"
            ? block.items.map((item) => `• ${inline(item)}`)
            : block.rows.map((row) => `• ${row.map(inline).join(" · ")}`),
    )
    .join("\n");
}

export function followUpMessage(
  details: FollowUp,
  owners: Readonly<Record<string, string>> = {},
): SlackMessage {
  const { incident, findings, plan, reportLocation } = details;
  const key = incident.accessKeyId ?? "the key";
  const forensics = incident.forensics;
  const blocks: Blocks = [
    { type: "header", text: { type: "plain_text", text: `Forensics and plan: ${key}` } },
  ];
  // Above the verdict: whatever the verdict says, it covers only what was read.
  const partial = forensics?.partial;
  if (partial) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(
          `:warning: *PARTIAL SNAPSHOT*: ${escapeMrkdwn(partialExplanation(partial))}\n${listWithCount(
            missingLines(partial).map((line) => `• ${escapeMrkdwn(line)}`),
            SHOWN_MISSING,
            "\n",
          )}`,
          SECTION_CHARS,
        ),
      },
    });
  }
  const verdict = findings
    ? (VERDICT[findings.verdict] ?? findings.verdict)
    : "*No findings* (the snapshot did not complete)";
  const headline = findings ? escapeMrkdwn(findings.headline) : "";
  blocks.push({ type: "section", text: { type: "mrkdwn", text: `${verdict}\n${headline}` } });
  if (findings && findings.reasons.length > 0) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Why*\n${listWithCount(
          findings.reasons.map((r) => `• ${escapeMrkdwn(r)}`),
          5,
          "\n",
        )}`,
      },
    });
  }
  if (findings) {
    const signals = signalLines(findings);
    if (signals.length > 0) {
      blocks.push({
        type: "section",
        text: { type: "mrkdwn", text: `*Top signals*\n${listWithCount(signals, SHOWN_SIGNALS, "\n")}` },
      });
    }
    const addresses = addressLines(findings);
    const omitted =
      findings.addressesOmitted > 0 ? `\n(${findings.addressesOmitted} more addresses in the report)` : "";
    if (addresses.length > 0) {
      blocks.push({
        type: "section",
        text: {
          type: "mrkdwn",
          text: `*Source IPs*\n${listWithCount(addresses, SHOWN_ADDRESSES, "\n")}${omitted}`,
        },
      });
    }
  }
  if (forensics) {
    const incomplete = forensics.incompleteRegions.length
      ? `\n:warning: INCOMPLETE in ${forensics.incompleteRegions.join(", ")}: check those regions by hand.`
      : "";
    const used = findings?.regions.filter((r) => r.calls > 0).map((r) => `${r.region} (${r.calls})`) ?? [];
    blocks.push({
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Events*\n${forensics.eventCount} in ${forensics.regions.length} regions` },
        {
          type: "mrkdwn",
          text: `*Keys followed*\n${forensics.accessKeyIds.length} (minted sessions included)`,
        },
        { type: "mrkdwn", text: `*Regions used*\n${listWithCount(used, 6) || "none"}` },
        {
          type: "mrkdwn",
          text: `*Roles revoked*\n${listWithCount(forensics.rolesRevoked, 4) || "none needed"}`,
        },
      ],
    });
    if (incomplete) blocks.push({ type: "section", text: { type: "mrkdwn", text: incomplete.trim() } });
  }
  if (plan) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*OIDC migration plan*\n${planSummaryMrkdwn(plan.summary)}\nFiles (${plan.files.length}): ${listWithCount(
          plan.files.map((f) => `\`${escapeMrkdwn(f)}\``),
          6,
        )}${plan.location ? `\nWhere: \`${escapeMrkdwn(plan.location)}\`` : ""}`,
      },
    });
  }
  // What failed after the first message (the alert left open, no issue, Slack itself refusing the
  // first message): a person must hear it here, not only in the report.
  if (incident.warnings.length > 0) {
    const warnings = incident.warnings.map((w) => `• ${escapeMrkdwn(clip(w, WARNING_CHARS))}`);
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: `:warning: *Needs a person*\n${listWithCount(warnings, 5, "\n")}` },
    });
  }
  const mentions = ownerMentions(incident, owners);
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `Incident \`${incident.id}\`${reportLocation ? ` · report: \`${escapeMrkdwn(reportLocation)}\` (needs AWS credentials)` : ""}${mentions.length ? ` · ${mentions.join(" ")}` : ""}`,
      },
    ],
  });
  const text = `${key}: ${partial ? "PARTIAL snapshot: " : ""}${findings ? `${findings.verdict}: ${findings.headline}` : "forensics incomplete"}${plan ? ` Plan: ${oneLine(planSummaryText(plan.summary))}` : ""}`;
  return fitMessage({ text, blocks });
}

/**
 * Forensics a person should look at: someone else used the key, or nobody can tell (no findings,
 * regions left unread). Such follow-ups are never buried in a batch: listed first, counted.
 */
export function followUpNeedsLook(details: FollowUp): boolean {
  const verdict = details.findings?.verdict;
  return (
    verdict === undefined ||
    verdict === "compromised" ||
    verdict === "suspicious" ||
    (details.incident.forensics?.incompleteRegions.length ?? 0) > 0
  );
}

const LINE_PLAN_CHARS = 300;

/** A line in a list stays one line: Markdown paragraphs collapse to spaces. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * One follow-up in a line, for a batch when many are ready at once: the verdict, the headline, the
 * size of the history, unread regions, the plan in brief and where the report is. The incident id
 * and the key id come first, so clipping never loses them.
 */
export function followUpLine(details: FollowUp): string {
  const { incident, findings, plan, reportLocation } = details;
  const key = incident.accessKeyId ?? "the key";
  const forensics = incident.forensics;
  const parts = [
    findings
      ? `${VERDICT[findings.verdict] ?? findings.verdict}: ${escapeMrkdwn(oneLine(findings.headline))}`
      : "*No findings* (the snapshot did not complete)",
  ];
  if (forensics?.partial) {
    parts.unshift(`:warning: *PARTIAL snapshot* (not read: ${missingRegions(forensics.partial).join(", ")})`);
  }
  if (forensics) {
    parts.push(`${forensics.eventCount} events in ${forensics.regions.length} regions`);
    if (forensics.incompleteRegions.length > 0)
      parts.push(`:warning: INCOMPLETE in ${forensics.incompleteRegions.join(", ")}: check by hand`);
    if (forensics.rolesRevoked.length > 0)
      parts.push(`roles revoked: ${listWithCount(forensics.rolesRevoked.map(escapeMrkdwn), 3)}`);
  }
  if (plan)
    parts.push(`plan: ${clip(escapeMrkdwn(oneLine(planSummaryText(plan.summary))), LINE_PLAN_CHARS)}`);
  if (reportLocation) parts.push(`report: \`${escapeMrkdwn(reportLocation)}\``);
  return clip(`• \`${incident.id}\` \`${key}\`: ${parts.join(" · ")}`, MAX_LINE_CHARS);
}
