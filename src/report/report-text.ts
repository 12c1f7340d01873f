/**
 * Wording shared by the Markdown and HTML renderings, so both say the same thing the same way.
 */
import type { LeakPerson } from "../domain/incident.js";
import type { ActivityView } from "./activity-buckets.js";
import type { AuditReport, Milestone } from "./report-model.js";

export const STATUS_WORDS: Readonly<Record<AuditReport["incident"]["status"], string>> = {
  contained: "Contained",
  "contained-with-warnings": "Contained, with warnings",
  escalated: "ESCALATED: a person must act",
  "not-ours": "Not in a managed account",
  "dry-run": "Dry run: nothing changed",
  failed: "FAILED: not contained",
};

export const VERDICT_WORDS: Readonly<Record<string, string>> = {
  "no-use-since-leak": "No use since the leak",
  "expected-use-only": "Expected use only",
  suspicious: "Suspicious",
  compromised: "Compromised",
};

export const OUTCOME_WORDS: Readonly<Record<Milestone["outcome"], string>> = {
  done: "done",
  failed: "FAILED",
  skipped: "skipped",
  "would-do": "would do (dry run)",
  partial: "PARTIAL",
  "not-recorded": "not recorded",
};

export function verdictWords(verdict: string | undefined): string {
  if (verdict === undefined) return "Not analysed";
  return VERDICT_WORDS[verdict] ?? verdict;
}

/** Only links a person can trust to be what they say: https, nothing else (no javascript:, no data:). */
export function safeHttpsUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

export function leakWhere(report: AuditReport): string | undefined {
  const { repository, leakLocation } = report.incident;
  if (!repository && !leakLocation) return undefined;
  const place = leakLocation?.path
    ? `${leakLocation.path}${leakLocation.startLine === undefined ? "" : ` line ${leakLocation.startLine}`}`
    : undefined;
  const commit = leakLocation?.commitSha ? `commit ${leakLocation.commitSha.slice(0, 12)}` : undefined;
  // A comment, issue or pull request has no path or commit: its kind is all there is to say where.
  const kind =
    leakLocation?.type && leakLocation.type !== "commit" && leakLocation.type !== "unknown"
      ? leakLocation.type.replace(/_/g, " ")
      : undefined;
  return [repository, kind, place, commit].filter(Boolean).join(", ");
}

/**
 * `commit author octo-dev (Octo Dev), committer web-flow (GitHub)`: who put the key where it was found
 * (the private issue says it the same way). Undefined when nobody is known.
 */
export function leakPeopleWords(
  people: ReadonlyArray<LeakPerson> | undefined,
  locationType: string | undefined,
): string | undefined {
  if (!people?.length) return undefined;
  return people
    .map((person) => {
      const role = person.role === "author" && locationType === "commit" ? "commit author" : person.role;
      const name = person.name && person.name !== person.login ? `(${person.name})` : undefined;
      return [role, person.login ?? (name ? undefined : "unknown"), name].filter(Boolean).join(" ");
    })
    .join(", ");
}

export function ownerWords(report: AuditReport): string | undefined {
  const { userName, accountId, viaMemberRole } = report.incident;
  if (!userName && !accountId) return undefined;
  return `${userName ? `IAM user ${userName}` : "unknown user"}${accountId ? ` in account ${accountId}` : ""}${viaMemberRole ? " (reached through the member-account role)" : ""}`;
}

/** A character per bucket: the shape of the activity where no SVG can be shown (Markdown, a terminal). */
export function sparkline(view: ActivityView): string {
  const levels = "▁▂▃▄▅▆▇█";
  return view.counts
    .map((row) => {
      const total = row.reduce((sum, n) => sum + n, 0);
      if (total === 0) return "·";
      const level = Math.ceil((total / Math.max(view.peak, 1)) * levels.length) - 1;
      return levels[Math.min(Math.max(level, 0), levels.length - 1)] ?? "█";
    })
    .join("");
}
