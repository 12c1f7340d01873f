/**
 * The Slack wording of an incident (style.md: wording is decided at the edge). One glance must say:
 * is the key dead, where was it, what was done and how fast, and what a person must do now.
 * Block Kit within Slack's limits (facts.md), with a plain-text fallback.
 */
import { maskAccessKeyId } from "../../domain/access-key.js";
import type { Incident } from "../../domain/incident.js";
import { timeToContainMs } from "../../playbook/timeline.js";
import type { NotificationKind } from "../../ports.js";
import { type Blocks, escapeMrkdwn, fitMessage } from "./slack-limits.js";

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
  const last4 = incident.accessKeyId?.slice(-4) ?? "XXXX";
  const user = incident.location?.userName ?? "<user>";
  const account = incident.location?.accountId ?? "<account>";
  // The key id stays masked in Slack; the command finds it by its last four characters.
  const keyId = `$(aws iam list-access-keys --user-name ${user} --query "AccessKeyMetadata[?ends_with(AccessKeyId,'${last4}')].AccessKeyId" --output text)`;
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

export function incidentMessage(
  incident: Incident,
  kind: NotificationKind,
  owners: Readonly<Record<string, string>> = {},
): SlackMessage {
  const key = incident.accessKeyId ? maskAccessKeyId(incident.accessKeyId) : "unknown key";
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
  const fields = [
    `*Severity*\n${SEVERITY[kind]}`,
    `*Key*\n\`${key}\``,
    `*Source*\n${where}`,
    `*Leaked in*\n${leak?.url ? `<${leak.url}|${leakText}>` : leakText}`,
    `*Account*\n${incident.location?.accountId ?? "unknown"}${incident.location?.viaMemberRole ? " (member)" : ""}`,
    `*User*\n${escapeMrkdwn(incident.location?.userName ?? "unknown")}`,
    `*Status*\n${incident.status}`,
    `*Time to contain*\n${ttc === undefined ? "n/a" : `${(ttc / 1000).toFixed(1)} s from webhook`}`,
  ];
  const done = incident.timeline
    .filter((e) => e.outcome === "done" || e.outcome === "would-do" || e.outcome === "failed")
    .filter((e) =>
      ["key-deactivated", "sessions-revoked", "quarantine-checked", "alert-resolved"].includes(e.step),
    )
    .map(
      (e) =>
        `${e.outcome === "failed" ? ":x:" : e.outcome === "would-do" ? ":grey_question:" : ":heavy_check_mark:"} ${escapeMrkdwn(e.detail)}`,
    );
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
  const todo = whatToDoNow(incident, kind);
  if (todo) blocks.push({ type: "section", text: { type: "mrkdwn", text: todo } });
  if (incident.warnings.length > 0 && kind !== "partial") {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Warnings*\n${incident.warnings.map((w) => `• ${escapeMrkdwn(w)}`).join("\n")}`,
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
