/**
 * `leak-responder selftest --url URL [--dry-run|--live]`: after a deploy, proves the whole path with
 * the operator's canary key (SELFTEST_CANARY_KEY_ID on the respond function): a signed
 * `secret_scanning_alert` delivery to the intake, the queue, the playbook locating (dry run) or
 * containing (live) the canary, the incident recorded. It then reads the incident from the
 * incident store and prints each step with its outcome and time.
 *
 * The delivery names a synthetic repository (src/domain/selftest.ts) and a fresh alert number; the
 * respond side answers it with the configured canary key only, so this command cannot aim
 * containment at any other key, and GitHub is never asked about it.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Webhooks } from "@octokit/webhooks";
import { withSsmSecrets } from "../adapters/aws/ssm-secrets.js";
import { createStores, storeFromEnv } from "../adapters/incident-stores.js";
import { unreachable, unreachableWords } from "../adapters/network-errors.js";
import type { Env } from "../config.js";
import { incidentIdFor } from "../domain/alert-job.js";
import { ConfigError, errorMessage, InvalidInputError, ResponderError } from "../domain/errors.js";
import { type Incident, stepDone, type TimelineEntry } from "../domain/incident.js";
import { type SelftestMode, selftestRepository } from "../domain/selftest.js";
import { printable } from "../forensics/printable-text.js";
import type { IncidentStore } from "../ports.js";
import { requireAwsCredentials } from "./aws-credentials.js";

const HELP = `usage: leak-responder selftest --url INTAKE_URL [--dry-run | --live] [--timeout SECONDS]

Sends a signed secret_scanning_alert for a synthetic selftest alert to the intake (INTAKE_URL is
<HttpApiUrl>/webhooks/github), then follows the incident and prints each step with its outcome.
The respond function answers it with its SELFTEST_CANARY_KEY_ID, never another key, and never
calls GitHub for it.
  --dry-run   (default) locate the canary key and say what would be done; nothing changes
  --live      deactivate the canary key and revoke its sessions, as for a real leak
  --timeout   seconds to wait for the incident (default 180)
Environment: GITHUB_WEBHOOK_SECRET (or GITHUB_WEBHOOK_SECRET_SSM_PARAMETER), and INCIDENT_BUCKET
(the stack's bucket; AWS credentials that may read it) or INCIDENT_DIR for a local run.
Exit 0 when the canary was contained (live) or located (dry run), 1 otherwise.`;

const POLL_MS = 1_000;

class UsageError extends InvalidInputError {}

/** The delivery, shaped as GitHub's `secret_scanning_alert` (only what the intake reads matters). */
export function selftestDelivery(
  mode: SelftestMode,
  alertNumber: number,
  now: Date,
): Record<string, unknown> {
  const repository = selftestRepository(mode);
  const [owner = "", name = ""] = repository.split("/");
  return {
    action: "created",
    alert: {
      number: alertNumber,
      created_at: now.toISOString(),
      secret_type: "aws_access_key_id",
      secret_type_display_name: "leak-responder selftest canary key",
      validity: "unknown",
    },
    repository: {
      name,
      full_name: repository,
      private: true,
      visibility: "private",
      owner: { login: owner },
    },
    sender: { login: "leak-responder-selftest" },
  };
}

/** A fresh alert number per run (one incident per alert): the millisecond it was sent. */
function alertNumberFor(now: Date): number {
  return now.getTime();
}

function line(entry: TimelineEntry, start: number): string {
  const offset = `+${Date.parse(entry.at) - start} ms`.padStart(10);
  return `  ${entry.at} ${offset}  ${entry.outcome.padEnd(8)} ${entry.step.padEnd(20)} ${printable(entry.detail, 500)}`;
}

/**
 * The playbook is done with the incident: a dry run's record is written once, at the end; a live
 * run's lease is released when its last step is recorded (or it has given up).
 */
function finished(incident: Incident): boolean {
  return incident.mode === "dry-run" || incident.lease === undefined;
}

/** Exit 0 only for what the selftest set out to prove. */
function selftestPassed(incident: Incident, mode: SelftestMode): boolean {
  if (mode === "dry-run") return incident.status === "dry-run" && stepDone(incident, "key-located");
  return stepDone(incident, "key-deactivated") && incident.containment?.keyStatusAfter === "Inactive";
}

async function follow(
  incidents: IncidentStore,
  id: string,
  deadline: number,
  print: (text: string) => void,
): Promise<Incident | undefined> {
  let shown = 0;
  let start: number | undefined;
  let last: Incident | undefined;
  while (Date.now() < deadline) {
    const stored = await incidents.get(id).catch((error: unknown) => {
      throw new ResponderError(`reading incident ${id}: ${errorMessage(error)}`, { cause: error });
    });
    if (stored) {
      last = stored.incident;
      start ??= Date.parse(last.timeline[0]?.at ?? last.createdAt);
      for (const entry of last.timeline.slice(shown)) print(line(entry, start));
      shown = last.timeline.length;
      if (finished(last)) return last;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return last;
}

async function run(argv: string[], env: Env = process.env): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      live: { type: "boolean", default: false },
      timeout: { type: "string", default: "180" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.live && values["dry-run"]) throw new UsageError("--dry-run or --live, not both");
  const mode: SelftestMode = values.live ? "live" : "dry-run";
  if (!values.url) throw new UsageError("--url is required: <HttpApiUrl>/webhooks/github");
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url is not a URL: "${printable(values.url, 100)}"`);
  }
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new UsageError(`--timeout must be a number of seconds, got "${printable(values.timeout, 20)}"`);

  // Asked once, before anything is sent: a selftest that cannot read its incident proves nothing.
  if (env.INCIDENT_BUCKET?.trim() || env.GITHUB_WEBHOOK_SECRET_SSM_PARAMETER?.trim())
    await requireAwsCredentials(env);
  // The webhook secret only: the selftest has no use for (nor the right to) the other secrets.
  const resolved = await withSsmSecrets(env, undefined, ["GITHUB_WEBHOOK_SECRET"]);
  const secret = resolved.GITHUB_WEBHOOK_SECRET?.trim();
  if (!secret)
    throw new ConfigError(
      "GITHUB_WEBHOOK_SECRET (or GITHUB_WEBHOOK_SECRET_SSM_PARAMETER) is not set: the intake refuses an unsigned delivery",
    );
  if (!env.INCIDENT_BUCKET?.trim() && !env.INCIDENT_DIR?.trim())
    throw new ConfigError(
      "INCIDENT_BUCKET (the stack's bucket) is not set: the selftest reads its incident there",
    );
  const stores = createStores(storeFromEnv(env), env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1");

  const now = new Date();
  const alertNumber = alertNumberFor(now);
  const repository = selftestRepository(mode);
  const id = incidentIdFor(repository, alertNumber);
  const deliveryId = randomUUID();
  const body = JSON.stringify(selftestDelivery(mode, alertNumber, now));
  console.log(`leak-responder selftest (${mode}): alert #${alertNumber} of ${repository}, incident ${id}`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "leak-responder-selftest",
        "x-github-event": "secret_scanning_alert",
        "x-github-delivery": deliveryId,
        // Signed as GitHub signs, by the library the intake verifies with.
        "x-hub-signature-256": await new Webhooks({ secret }).sign(body),
      },
      body,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error: unknown) {
    const network = unreachable(error, url.host);
    const why = network
      ? unreachableWords(network)
      : `${url.origin} could not be reached: ${errorMessage(error)}`;
    console.log(`  FAILED   delivery             ${why}`);
    return 1;
  }
  const answer = printable(await response.text(), 200);
  if (response.status !== 202) {
    console.log(`  FAILED   delivery             the intake answered ${response.status}: ${answer}`);
    if (response.status === 401) console.log("  (the webhook secret here is not the intake's)");
    return 1;
  }
  console.log(
    `  ${new Date().toISOString()}  done     delivery             the intake answered 202 (delivery ${deliveryId})`,
  );

  const incident = await follow(stores.incidents, id, Date.now() + timeoutSeconds * 1000, (text) =>
    console.log(text),
  );
  if (!incident) {
    console.log(
      `FAILED: no incident ${id} in ${stores.where} after ${timeoutSeconds} s: the respond function did not run it (its logs, the alert queue and the DLQ say why)`,
    );
    return 1;
  }
  if (!finished(incident)) console.log(`  (still running after ${timeoutSeconds} s; the outcome so far:)`);
  const passed = selftestPassed(incident, mode);
  const status = `${passed ? "PASSED" : "FAILED"}: ${incident.status}: ${printable(incident.summary, 2_000)}`;
  console.log(status);
  for (const warning of incident.warnings) console.log(`  warning: ${printable(warning, 2_000)}`);
  if (passed && mode === "live")
    console.log(
      `The canary ${incident.accessKeyId} is now Inactive. Reactivate it for the next selftest: aws iam update-access-key --user-name ${incident.location?.userName ?? "USER"} --access-key-id ${incident.accessKeyId} --status Active`,
    );
  return passed ? 0 : 1;
}

export const selftestCommand = {
  summary: "after a deploy: a signed synthetic alert for the canary key, dry run first, each step reported",
  run: (argv: string[]) => run(argv),
};
