/**
 * `leak-responder respond --key AKIA... [--dry-run] [--json]`: the same containment for a key leaked
 * somewhere GitHub cannot see (a log, a ticket, a chat). Uses the responder's configuration from
 * the environment (AWS credentials of the responder, MANAGED_ACCOUNT_IDS, SLACK_WEBHOOK_URL...).
 */

import { parseArgs } from "node:util";
import { DEFAULT_INCIDENT_DIR } from "../adapters/incident-stores.js";
import { loadRespondConfig } from "../config.js";
import { isAccessKeyId } from "../domain/access-key.js";
import { InvalidInputError } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";
import { printable } from "../forensics/printable-text.js";
import { respondToKey } from "../playbook/respond.js";
import { timeToContainMs } from "../playbook/timeline.js";
import { createPlaybookDeps } from "../responder.js";
import { requireAwsCredentials } from "./aws-credentials.js";
import { terminalLog } from "./terminal-log.js";

const HELP = `usage: leak-responder respond --key ACCESS_KEY_ID [--dry-run] [--json]

Deactivates the key in whichever managed account owns it, revokes the sessions it minted, records
an incident and notifies. Configuration comes from the environment (see the README).
It acts with your AWS credentials (AWS_PROFILE after \`aws sso login\`, or AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY); a key in a member account needs a role there that you may assume
(MEMBER_ROLE_NAME, MEMBER_ROLE_EXTERNAL_ID: see the README's CLI section).
  --key       the leaked access key id (AKIA...); never pass the secret
  --dry-run   say what would be done, change nothing
  --json      print the incident as JSON`;

/** Summaries, details and warnings quote AWS/GitHub errors and CloudTrail: no escape reaches the terminal. */
function terminalText(text: string): string {
  return printable(text, 2_000);
}

/**
 * A dry run's summary already says what would be done ("Dry run: would deactivate..."): a status
 * word in capitals before it (FAILED, ESCALATED) would read as if something had happened.
 */
function headline(incident: Incident): string {
  const summary = terminalText(incident.summary);
  if (incident.mode !== "dry-run") return `${incident.status.toUpperCase()}: ${summary}`;
  return summary.startsWith("Dry run") ? summary : `Dry run: ${summary}`;
}

/**
 * Exit 1 when a person must act: the key is not contained, or a protected user's key is live. A dry
 * run changes nothing by design, so only a dry run that could not tell what it would do fails.
 */
function exitCodeFor(incident: Incident): number {
  if (incident.mode === "dry-run") return incident.status === "failed" ? 1 : 0;
  return incident.status === "failed" || incident.status === "escalated" ? 1 : 0;
}

export function printIncident(incident: Incident): void {
  console.log(headline(incident));
  for (const entry of incident.timeline) {
    const duration = entry.durationMs === undefined ? "" : ` (${entry.durationMs} ms)`;
    console.log(
      `  ${entry.at}  ${entry.outcome.padEnd(8)} ${entry.step.padEnd(20)} ${terminalText(entry.detail)}${duration}`,
    );
  }
  for (const warning of incident.warnings) console.log(`  warning: ${terminalText(warning)}`);
  const ttc = timeToContainMs(incident);
  if (ttc !== undefined) console.log(`  time to contain: ${ttc} ms`);
}

export const respondCommand = {
  summary: "contain a key leaked somewhere GitHub cannot see",
  async run(argv: string[]): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        key: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const key = values.key?.trim() ?? "";
    if (!isAccessKeyId(key)) {
      throw new InvalidInputError(
        "--key must be an AWS access key id (AKIA or ASIA followed by 16 characters)",
      );
    }
    const env: Record<string, string | undefined> = { ...process.env };
    if (values["dry-run"]) env.RESPONDER_MODE = "dry-run";
    if (!env.INCIDENT_BUCKET && !env.INCIDENT_DIR) env.INCIDENT_DIR = DEFAULT_INCIDENT_DIR;
    const config = loadRespondConfig(env, { github: "optional" });
    await requireAwsCredentials(env);
    // stdout holds the result alone (the incident's JSON with --json); progress and the log go to stderr.
    const log = terminalLog("respond", { level: env.LOG_LEVEL });
    const deps = createPlaybookDeps(config, log, env);
    console.error(`Responding to ${key} (${config.mode})...`);
    const { incident } = await respondToKey(key, deps, { requestedBy: process.env.USER ?? "the CLI" });
    if (values.json) console.log(JSON.stringify(incident, null, 2));
    else printIncident(incident);
    return exitCodeFor(incident);
  },
};
