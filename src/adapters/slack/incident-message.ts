/**
 * The Slack wording of an incident (style.md: wording is decided at the edge). One glance must say:
 * is the key dead, where was it, what was done and how fast, and what a person must do now.
 * Block Kit within Slack's limits (facts.md), with a plain-text fallback.
 */
import type { Incident } from "../../domain/incident.js";
import { timeToContainMs } from "../../playbook/timeline.js";
import type { NotificationKind } from "../../ports.js";
import { type Blocks, clip, escapeMrkdwn, fitMessage, MAX_SECTION_TEXT } from "./slack-limits.js";

const SEVERITY: Record<NotificationKind, string> = {
  contained: "High (contained)",
  partial: "CRITICAL: finish by hand now",
  failed: "CRITICAL: act now",
  escalated: "CRITICAL: act now",
  "not-ours": "Medium",
  "dry-run": "Info (dry run)",
};

const HEADLINE: Record<NotificationKind, string> = {
  contained: ":white_check_mark: Leaked AWS key contained",
  partial: ":rotating_light: ACTION NEEDED: leaked AWS key deactivated, but not everything could be done",
  failed: ":rotating_light: ACTION NEEDED: leaked AWS key NOT contained",
  escalated: ":rotating_light: ACTION NEEDED: leaked AWS key left active (escalated)",
  "not-ours": ":warning: Leaked AWS key from an account we do not manage",
  "dry-run": ":test_tube: Dry run: leaked AWS key found, nothing changed",
};

function whatToDoNow(incident: Incident, kind: NotificationKind): string | undefined {
  const user = incident.location?.userName ?? "<user>";
  const account = incident.location?.accountId ?? "<account>";
  const keyId = incident.accessKeyId ?? "<access key id>";
  switch (kind) {
    case "partial":
      return [
        "*Finish this now, by hand:* the key is deactivated, but these did not happen:",
        ...incident.warnings.map((w) => `• ${escapeMrkdwn(w)}`),
      ].join("\n");
    case "failed":
      return [
        "*Do this now, by hand:*",
        `1. In account ${account}: \`aws iam update-access-key --user-name ${user} --status Inactive --access-key-id ${keyId}\``,
        `2. Revoke its sessions: IAM console > Users > ${user} > Revoke active sessions.`,
        "3. Then fix the cause below so the responder can act next time.",
      ].join("\n");
    case "escalated":
      return "*A person must decide now:* deactivate the key by hand if it is not needed right now, and revoke its sessions.";
    case "not-ours":
      return `*Next:* tell the owner of account ${account}; if unknown, report it to AWS Trust & Safety.`;
    default:
      return undefined;
  }
}

export interface SlackMessage {
  text: string;
  blocks: Blocks;
}

/** Owners to mention, from the configured mapping (repository or user -> Slack handle or group). */
export function ownerMentions(incident: Incident, owners: Readonly<Record<string, string>>): string[] {
  const keys = [incident.repository, incident.location?.userName].filter((k): k is string => Boolean(k));
  return [
    ...new Set(keys.map((k) => owners[k] ?? owners[k.toLowerCase()]).filter((m): m is string => Boolean(m))),
  ];
}

/** What both the full message and the compact detail say about an incident, worded once. */
function incidentFacts(incident: Incident, kind: NotificationKind) {
  const key = incident.accessKeyId ?? "unknown key";
  const where = incident.repository
    ? incident.alertUrl
      ? `<${incident.alertUrl}|${escapeMrkdwn(incident.repository)} alert #${incident.alertNumber}>`
      : `${escapeMrkdwn(incident.repository)} alert #${incident.alertNumber}`
    : "reported by hand";
  const ttc = timeToContainMs(incident);
  const leak = incident.leakLocation;
  const leakText = leak?.path
    ? `${escapeMrkdwn(leak.path)}${leak.startLine ? `:${leak.startLine}` : ""}`
    : "see the alert";
  const done = incident.timeline
    .filter((e) => e.outcome === "done" || e.outcome === "would-do" || e.outcome === "failed")
    .filter((e) =>
      ["key-deactivated", "sessions-revoked", "quarantine-checked", "alert-resolved"].includes(e.step),
    )
    .map(
      (e) =>
        `${e.outcome === "failed" ? ":x:" : e.outcome === "would-do" ? ":grey_question:" : ":heavy_check_mark:"} ${escapeMrkdwn(e.detail)}`,
    );
  return {
    key,
    where,
    leakedIn: leak?.url ? `<${leak.url}|${leakText}>` : leakText,
    account: `${incident.location?.accountId ?? "unknown"}${incident.location?.viaMemberRole ? " (member)" : ""}`,
    user: escapeMrkdwn(incident.location?.userName ?? "unknown"),
    timeToContain: ttc === undefined ? "n/a" : `${(ttc / 1000).toFixed(1)} s from webhook`,
    done,
    todo: whatToDoNow(incident, kind),
    warnings: incident.warnings.length > 0 && kind !== "partial" ? incident.warnings : [],
  };
}

/** The kinds a person must act on now: never quiet, whatever message they end up in. */
export function needsPerson(kind: NotificationKind): boolean {
  return kind === "failed" || kind === "escalated" || kind === "partial";
}

export function incidentMessage(
  incident: Incident,
  kind: NotificationKind,
  owners: Readonly<Record<string, string>> = {},
): SlackMessage {
  const facts = incidentFacts(incident, kind);
  const fields = [
    `*Severity*\n${SEVERITY[kind]}`,
    `*Key*\n\`${facts.key}\``,
    `*Source*\n${facts.where}`,
    `*Leaked in*\n${facts.leakedIn}`,
    `*Account*\n${facts.account}`,
    `*User*\n${facts.user}`,
    `*Status*\n${incident.status}`,
    `*Time to contain*\n${facts.timeToContain}`,
  ];
  const done = facts.done;
  const blocks: Blocks = [
    {
      type: "header",
      text: { type: "plain_text", text: HEADLINE[kind].replace(/:[a-z_]+: /, "").slice(0, 150) },
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: `${HEADLINE[kind]}\n${escapeMrkdwn(incident.summary)}` },
    },
    { type: "section", fields: fields.map((text) => ({ type: "mrkdwn" as const, text })) },
  ];
  if (done.length > 0) blocks.push({ type: "section", text: { type: "mrkdwn", text: done.join("\n") } });
  const todo = facts.todo;
  if (todo) blocks.push({ type: "section", text: { type: "mrkdwn", text: todo } });
  if (facts.warnings.length > 0) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Warnings*\n${facts.warnings.map((w) => `• ${escapeMrkdwn(w)}`).join("\n")}`,
      },
    });
  }
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `Incident \`${incident.id}\` · ${kind === "contained" || kind === "partial" ? "still running: the CloudTrail snapshot in every region, the findings and the OIDC plan; a follow-up comes when they are done" : "see the incident record"}`,
      },
    ],
  });
  const mentions = ownerMentions(incident, owners);
  if (mentions.length > 0) {
    blocks.splice(2, 0, { type: "section", text: { type: "mrkdwn", text: `Owners: ${mentions.join(" ")}` } });
  }
  return fitMessage({ text: `${HEADLINE[kind].replace(/:[a-z_]+: /, "")}: ${incident.summary}`, blocks });
}

/**
 * The incident's full message in one section, for a thread reply that carries several incidents
 * (a burst): the same facts, what to do now for the ones a person must act on, owners mentioned.
 * The incident id and the key id come first, so clipping never loses them.
 */
export function incidentDetail(
  incident: Incident,
  kind: NotificationKind,
  owners: Readonly<Record<string, string>> = {},
): string {
  const facts = incidentFacts(incident, kind);
  const mentions = ownerMentions(incident, owners);
  // A plain "contained" says nothing its steps do not; every other status says why in its summary.
  const lines = [
    `*\`${incident.id}\`* \`${facts.key}\` · ${needsPerson(kind) ? `${HEADLINE[kind]}` : SEVERITY[kind]}`,
    ...(incident.status === "contained" ? [] : [escapeMrkdwn(incident.summary)]),
    `${facts.where} · leaked in ${facts.leakedIn} · account ${facts.account} · user ${facts.user} · *${incident.status}* · time to contain ${facts.timeToContain}`,
    ...(facts.done.length > 0 ? [facts.done.join(" · ")] : []),
    ...(facts.todo ? [facts.todo] : []),
    ...(facts.warnings.length > 0 ? [`*Warnings*: ${facts.warnings.map(escapeMrkdwn).join(" · ")}`] : []),
    ...(mentions.length > 0 ? [`Owners: ${mentions.join(" ")}`] : []),
  ];
  return clip(lines.join("\n"), MAX_SECTION_TEXT);
}
