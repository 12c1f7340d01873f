/**
 * The periodic summary (`leak-responder report --since 30d`): how many keys leaked, how fast they
 * were contained (median and worst), what the analysis concluded, and who keeps leaking: the
 * repositories and users with two incidents or more in the period are where training or a
 * migration to OIDC pays off first.
 */

import { InvalidInputError } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";
import { printable } from "../forensics/printable-text.js";
import { timeToContainMs } from "../playbook/timeline.js";
import { mdText } from "./markdown-text.js";
import { formatDuration, formatUtc } from "./time-format.js";

export interface SummaryRow {
  id: string;
  createdAt: string;
  status: Incident["status"];
  verdict?: string;
  repository?: string;
  user?: string;
  timeToContainMs?: number;
}

export interface Repeat {
  name: string;
  incidents: string[];
}

export interface IncidentSummary {
  since: string;
  until: string;
  count: number;
  timeToContain: {
    /** Incidents with a containment time (dry runs and failures have none). */
    measured: number;
    medianMs?: number;
    worstMs?: number;
    worstIncident?: string;
  };
  statuses: Record<string, number>;
  verdicts: Record<string, number>;
  repeatRepositories: Repeat[];
  /** `account/user`: the same user name in two accounts is two users. */
  repeatUsers: Repeat[];
  incidents: SummaryRow[];
}

const DURATION = /^(\d{1,6})([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `30d`, `7d`, `12h`, `90m`, or an ISO date: the start of the period. */
export function parseSince(value: string, now: Date): Date {
  const match = DURATION.exec(value.trim());
  if (match?.[1] && match[2]) {
    const unit = match[2] as keyof typeof UNIT_MS;
    return new Date(now.getTime() - Number(match[1]) * UNIT_MS[unit]);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  throw new InvalidInputError(
    `--since must be a period like 30d, 7d or 12h, or an ISO date; got "${printable(value, 40)}"`,
  );
}

function median(sorted: readonly number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle];
  const lower = sorted[middle - 1];
  if (upper === undefined) return undefined;
  return sorted.length % 2 === 1 || lower === undefined ? upper : (lower + upper) / 2;
}

function count(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function repeats(pairs: ReadonlyArray<[string | undefined, string]>): Repeat[] {
  const groups = new Map<string, string[]>();
  for (const [name, id] of pairs) {
    if (!name) continue;
    groups.set(name, [...(groups.get(name) ?? []), id]);
  }
  return [...groups.entries()]
    .filter(([, ids]) => ids.length >= 2)
    .map(([name, ids]) => ({ name, incidents: ids.sort() }))
    .sort((a, b) => b.incidents.length - a.incidents.length || a.name.localeCompare(b.name));
}

export function summarizeIncidents(
  incidents: readonly Incident[],
  since: Date,
  until: Date = new Date(),
): IncidentSummary {
  const inPeriod = incidents
    .filter((incident) => {
      const created = Date.parse(incident.createdAt);
      return !Number.isNaN(created) && created >= since.getTime() && created <= until.getTime();
    })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const rows: SummaryRow[] = inPeriod.map((incident) => {
    const ttc = timeToContainMs(incident);
    const user = incident.location?.userName
      ? `${incident.location.accountId}/${incident.location.userName}`
      : undefined;
    return {
      id: printable(incident.id, 200),
      createdAt: incident.createdAt,
      status: incident.status,
      ...(incident.forensics?.verdict ? { verdict: printable(incident.forensics.verdict, 40) } : {}),
      ...(incident.repository ? { repository: printable(incident.repository, 200) } : {}),
      ...(user ? { user: printable(user, 200) } : {}),
      ...(ttc === undefined ? {} : { timeToContainMs: ttc }),
    };
  });
  const measured = rows.filter((row) => row.timeToContainMs !== undefined);
  const times = measured.map((row) => row.timeToContainMs ?? 0).sort((a, b) => a - b);
  const worst = measured.reduce<SummaryRow | undefined>(
    (max, row) => (max === undefined || (row.timeToContainMs ?? 0) > (max.timeToContainMs ?? 0) ? row : max),
    undefined,
  );
  const medianMs = median(times);
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    count: rows.length,
    timeToContain: {
      measured: measured.length,
      ...(medianMs === undefined ? {} : { medianMs }),
      ...(worst?.timeToContainMs === undefined
        ? {}
        : { worstMs: worst.timeToContainMs, worstIncident: worst.id }),
    },
    statuses: count(rows.map((row) => row.status)),
    verdicts: count(rows.map((row) => row.verdict ?? "not analysed")),
    repeatRepositories: repeats(rows.map((row) => [row.repository, row.id])),
    repeatUsers: repeats(rows.map((row) => [row.user, row.id])),
    incidents: rows,
  };
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length === 0 ? "none" : entries.map(([name, n]) => `${mdText(name)} ${n}`).join(", ");
}

export function renderSummaryMarkdown(summary: IncidentSummary): string {
  const ttc = summary.timeToContain;
  const out = [
    "# Leaked AWS keys: periodic summary",
    "",
    `From ${mdText(formatUtc(summary.since))} to ${mdText(formatUtc(summary.until))}.`,
    "",
    `- Incidents: ${summary.count}`,
    `- Time to contain (alert webhook to key deactivated): ${
      ttc.medianMs === undefined
        ? "no contained incident"
        : `median ${formatDuration(ttc.medianMs)}, worst ${formatDuration(ttc.worstMs ?? 0)} (${mdText(ttc.worstIncident ?? "")}), over ${ttc.measured} contained`
    }`,
    `- Statuses: ${counts(summary.statuses)}`,
    `- Verdicts: ${counts(summary.verdicts)}`,
    "",
    "## Leaked twice or more",
    "",
  ];
  if (summary.repeatRepositories.length === 0 && summary.repeatUsers.length === 0) {
    out.push("No repository or user leaked more than once in this period.", "");
  }
  for (const repeat of summary.repeatRepositories) {
    out.push(
      `- repository ${mdText(repeat.name)}: ${repeat.incidents.length} incidents (${repeat.incidents.map(mdText).join(", ")})`,
    );
  }
  for (const repeat of summary.repeatUsers) {
    out.push(
      `- user ${mdText(repeat.name)}: ${repeat.incidents.length} incidents (${repeat.incidents.map(mdText).join(", ")})`,
    );
  }
  if (summary.repeatRepositories.length + summary.repeatUsers.length > 0) out.push("");
  if (summary.incidents.length > 0) {
    out.push(
      "## Incidents",
      "",
      "| Recorded (UTC) | Incident | Repository | User | Status | Verdict | Time to contain |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      ...summary.incidents.map(
        (row) =>
          `| ${mdText(formatUtc(row.createdAt, { zone: false }))} | ${mdText(row.id)} | ${mdText(row.repository ?? "")} | ${mdText(row.user ?? "")} | ${mdText(row.status)} | ${mdText(row.verdict ?? "")} | ${row.timeToContainMs === undefined ? "" : formatDuration(row.timeToContainMs)} |`,
      ),
      "",
    );
  }
  return out.join("\n");
}
