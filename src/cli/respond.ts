/**
 * `leak-responder respond --key AKIA... [--dry-run] [--json]`: the same containment for a key leaked
 * somewhere GitHub cannot see (a log, a ticket, a chat). Uses the responder's configuration from
 * the environment (AWS credentials of the responder, MANAGED_ACCOUNT_IDS, SLACK_WEBHOOK_URL...).
 */

import { parseArgs } from "node:util";
import { DEFAULT_INCIDENT_DIR } from "../adapters/incident-stores.js";
import { loadRespondConfig } from "../config.js";
import { isAccessKeyId, maskAccessKeyId } from "../domain/access-key.js";
import { InvalidInputError } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";
import { printable } from "../forensics/printable-text.js";
import { createLogger } from "../logger.js";
import { respondToKey } from "../playbook/respond.js";
import { timeToContainMs } from "../playbook/timeline.js";
import { createPlaybookDeps } from "../responder.js";

const HELP = `usage: leak-responder respond --key ACCESS_KEY_ID [--dry-run] [--json]

Deactivates the key in whichever managed account owns it, revokes the sessions it minted, records
an incident and notifies. Configuration comes from the environment (see the README).
  --key       the leaked access key id (AKIA...); never pass the secret
  --dry-run   say what would be done, change nothing
  --json      print the incident as JSON`;

/** Summaries, details and warnings quote AWS/GitHub errors and CloudTrail: no escape reaches the terminal. */
function terminalText(text: string): string {
  return printable(text, 2_000);
}

export function printIncident(incident: Incident): void {
  console.log(`${incident.status.toUpperCase()}: ${terminalText(incident.summary)}`);
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
    const log = createLogger("respond-cli");
    const deps = createPlaybookDeps(config, log, env);
    if (!values.json) console.log(`Responding to ${maskAccessKeyId(key)} (${config.mode})...`);
    const { incident } = await respondToKey(key, deps, { requestedBy: process.env.USER ?? "the CLI" });
    if (values.json) console.log(JSON.stringify(incident, null, 2));
    else printIncident(incident);
    return incident.status === "failed" || incident.status === "escalated" ? 1 : 0;
  },
};
