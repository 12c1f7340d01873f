/**
 * `leak-responder demo [--json]`: the whole 2 AM story on the embedded sandbox. A CI user's key
 * leaked in a repository and already minted a session; GitHub sends the signed alert webhook; the
 * intake queues it; the playbook contains the key in the member account; the demo then checks what
 * a person would check: the key's status, whether the minted session still works, the alert.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { alertPayload, deliverWebhook } from "../../sandbox/github-webhook.js";
import type { DemoWorldOptions } from "../../sandbox/scenario.js";
import type { Incident } from "../domain/incident.js";
import { MemoryLog } from "../logger.js";
import { PLAN_PREFIX } from "../playbook/prevent.js";
import { timeToContainMs } from "../playbook/timeline.js";
import {
  type KeptDemoIncident,
  keepIncidentOfStack,
  type LocalIncidentTarget,
  localIncidentTarget,
  printKeptIncident,
} from "./keep-demo-incident.js";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "./local-stack.js";

export interface DemoSummary {
  incidentId: string;
  repository: string;
  accessKeyId: string;
  account: string;
  user: string;
  /** Read back from the sandbox's IAM after the run. */
  keyStatus: string;
  /** A real call with the session the key minted before the leak was noticed is now denied. */
  sessionsRevoked: boolean;
  alertResolved: boolean;
  status: string;
  msWebhookToDeactivated: number | null;
  webhookStatus: number;
  slackMessages: number;
  /** Forensics (step 5-6): what the snapshot covered and what the analysis concluded. */
  regions: string[];
  /** The leaked key and the temporary keys it minted, all looked up. */
  accessKeyIds: string[];
  eventCount: number;
  incompleteRegions: string[];
  /** SHA-256 of the evidence manifest (it lists the SHA-256 of every event file). */
  evidenceSha256: string | null;
  rolesRevoked: string[];
  verdict: string | null;
  signalCounts: Record<string, number>;
  /** Step 7: the OIDC plan's files, stored under planLocation. */
  planLocation: string | null;
  planFiles: string[];
  /** Step 8: the issue opened in the repository. */
  githubIssue: string | null;
  /** Step 8: the audit report as stored beside the evidence. */
  reportFiles: string[];
  /** Every result written to disk for a person to open (report, plan, Slack messages, issue body). */
  artifacts: string[];
  /** The incident as kept in the local store `leak-responder report` reads; null when not asked. */
  localIncident: KeptDemoIncident | null;
  timeline: Array<{ step: string; outcome: string; atMs: number; detail: string }>;
}

/** Does the session minted with the leaked key still work? (A call it was allowed to make before.) */
async function sessionStillWorks(
  endpoint: string,
  bucket: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
) {
  const s3 = new S3Client({ endpoint, region: "us-east-1", credentials, maxAttempts: 1 });
  try {
    await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
    return true;
  } catch (error: unknown) {
    if (error instanceof Error && error.name === "AccessDenied") return false;
    throw error;
  } finally {
    s3.destroy();
  }
}

function timelineOf(incident: Incident): DemoSummary["timeline"] {
  const start = Date.parse(incident.timeline[0]?.at ?? incident.createdAt);
  return incident.timeline.map((entry) => ({
    step: entry.step,
    outcome: entry.outcome,
    atMs: Date.parse(entry.at) - start,
    detail: entry.detail,
  }));
}

const DEFAULT_ARTIFACT_DIR = join(".leak-responder", "demo");

/** The words a person sees in a Slack message: the fallback text and every block's text. */
function slackText(payload: Record<string, unknown>): string {
  const lines: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value && typeof value === "object") {
      for (const [field, inner] of Object.entries(value)) {
        if (field === "text" && typeof inner === "string") lines.push(inner);
        else visit(inner);
      }
    }
  };
  visit(payload);
  return `${lines.join("\n\n")}\n`;
}

/**
 * Writes every result out of the sandbox into one folder per incident (the sandbox ends with the
 * demo): the audit report, the OIDC plan's files, each Slack message as text and JSON, the issue body.
 */
async function saveArtifacts(stack: LocalStack, incident: Incident, root: string): Promise<string[]> {
  const dir = join(root, incident.id);
  const saved: string[] = [];
  const save = async (relative: string, body: string | Buffer) => {
    const path = join(dir, relative);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    saved.push(path);
  };
  const evidence = stack.deps.investigation?.evidence;
  for (const file of evidence ? (incident.report ?? []) : []) {
    const body = await evidence?.get(incident.id, file.name);
    if (body) await save(join("report", file.name), body);
  }
  const planStore = stack.deps.prevention?.evidence;
  for (const file of planStore ? (incident.plan?.files ?? []) : []) {
    const body = await planStore?.get(incident.id, `${PLAN_PREFIX}/${file}`);
    if (body) await save(join("plan", file), body);
  }
  let n = 0;
  for (const message of stack.sandbox.state.slackMessages) {
    n++;
    await save(join("slack", `message-${n}.json`), `${JSON.stringify(message.payload, null, 2)}\n`);
    await save(join("slack", `message-${n}.txt`), slackText(message.payload));
  }
  const issueNumber = incident.githubIssue?.number;
  const issue = stack.sandbox.state
    .repo(stack.world.repository)
    ?.issues.find((i) => i.number === issueNumber);
  if (issue) await save("github-issue.md", `# ${issue.title}\n\n${issue.body}\n`);
  return saved;
}

export interface DemoOptions {
  /** Configuration on top of the demo's (RESPONDER_MODE=dry-run, PROTECTED_USERS=..., say). */
  env?: Record<string, string>;
  /** Deliver the same alert this many more times (GitHub redeliveries, a reopened alert). */
  redeliveries?: number;
  /** Where the results (report, plan, Slack messages, issue) are written, one folder per incident. */
  reportDir?: string;
  /** Also keep the incident in a local incident store, for `report` afterwards. */
  keepIncident?: LocalIncidentTarget;
  port?: number;
  /** Tests plant their own secret in the alert and read every log line. */
  world?: DemoWorldOptions;
  log?: MemoryLog;
  /** Client timing the tests shorten (see LocalStackOptions). */
  responder?: LocalStackOptions["responder"];
  /** Called with the running stack before the webhook is sent (tests inject faults here). */
  beforeDelivery?: (stack: LocalStack) => void | Promise<void>;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const log = options.log ?? new MemoryLog();
  const stack = await startLocalStack({
    log,
    port: options.port ?? 0,
    ...(options.world ? { world: options.world } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.responder ? { responder: options.responder } : {}),
  });
  try {
    const { sandbox, world } = stack;
    const repo = sandbox.state.repo(world.repository);
    if (!repo) throw new Error("demo world has no repository");
    const sessionWorkedBefore = await sessionStillWorks(sandbox.url, world.bucket, world.mintedSession);
    await options.beforeDelivery?.(stack);

    const delivery = await deliverWebhook(
      stack.server.webhookUrl,
      world.webhookSecret,
      "secret_scanning_alert",
      alertPayload(repo, world.leaked.alert.number, "created"),
    );
    // GitHub redelivers (and an alert can be reopened): the same alert again, new delivery ids.
    for (let i = 0; i < (options.redeliveries ?? 0); i++) {
      await deliverWebhook(
        stack.server.webhookUrl,
        world.webhookSecret,
        "secret_scanning_alert",
        alertPayload(repo, world.leaked.alert.number, i % 2 === 0 ? "created" : "reopened"),
      );
    }
    await stack.server.queue.drain();
    // The first result is the delivery that did the work; later ones found it done.
    const result = stack.results.find((r) => !r.duplicate) ?? stack.results.at(-1);
    if (!result) {
      const dead = stack.server.queue.deadLetters.at(-1);
      throw new Error(
        `the alert was not handled (webhook answered ${delivery.status}${dead ? `; ${dead.error}` : ""})`,
      );
    }
    const { incident } = result;
    const sessionWorksAfter = await sessionStillWorks(sandbox.url, world.bucket, world.mintedSession);
    return {
      incidentId: incident.id,
      repository: world.repository,
      accessKeyId: world.leaked.key.accessKeyId,
      account: incident.location?.accountId ?? "unknown",
      user: incident.location?.userName ?? "unknown",
      keyStatus: world.leaked.key.status,
      sessionsRevoked: sessionWorkedBefore && !sessionWorksAfter,
      alertResolved: world.leaked.alert.state === "resolved" && world.leaked.alert.resolution === "revoked",
      status: incident.status,
      msWebhookToDeactivated: timeToContainMs(incident) ?? null,
      webhookStatus: delivery.status,
      slackMessages: sandbox.state.slackMessages.length,
      regions: incident.forensics?.regions ?? [],
      accessKeyIds: incident.forensics?.accessKeyIds ?? [],
      eventCount: incident.forensics?.eventCount ?? 0,
      incompleteRegions: incident.forensics?.incompleteRegions ?? [],
      evidenceSha256: incident.forensics?.manifest?.sha256 ?? null,
      rolesRevoked: incident.forensics?.rolesRevoked ?? [],
      verdict: incident.forensics?.verdict ?? null,
      signalCounts: incident.forensics?.signalCounts ?? {},
      planLocation: incident.plan ? `s3://${world.bucket}/${incident.plan.location}` : null,
      planFiles: incident.plan?.files ?? [],
      githubIssue: incident.githubIssue?.url ?? null,
      reportFiles: (incident.report ?? []).map((f) => `s3://${world.bucket}/${f.key}`),
      artifacts: await saveArtifacts(stack, incident, options.reportDir ?? DEFAULT_ARTIFACT_DIR),
      localIncident:
        options.keepIncident === undefined
          ? null
          : await keepIncidentOfStack(stack, incident.id, options.keepIncident),
      timeline: timelineOf(incident),
    };
  } finally {
    await stack.close();
  }
}

function print(summary: DemoSummary): void {
  const ok = (value: boolean) => (value ? "yes" : "NO");
  console.log(
    `leak-responder demo: a CI key leaked in ${summary.repository}, found by GitHub secret scanning\n`,
  );
  console.log(`Webhook answered ${summary.webhookStatus}; the playbook ran:`);
  for (const entry of summary.timeline) {
    console.log(
      `  +${String(entry.atMs).padStart(5)} ms  ${entry.outcome.padEnd(7)} ${entry.step.padEnd(20)} ${entry.detail}`,
    );
  }
  console.log("");
  console.log(`Status:               ${summary.status}`);
  console.log(`Key:                  ${summary.accessKeyId} of ${summary.user} in ${summary.account}`);
  console.log(`Key status (IAM):     ${summary.keyStatus}`);
  console.log(`Minted session dead:  ${ok(summary.sessionsRevoked)}`);
  console.log(`GitHub alert closed:  ${ok(summary.alertResolved)}`);
  console.log(`Slack messages:       ${summary.slackMessages}`);
  console.log(`Webhook -> key dead:  ${summary.msWebhookToDeactivated ?? "n/a"} ms`);
  console.log("");
  console.log(
    `CloudTrail snapshot:  ${summary.eventCount} events, ${summary.regions.length} regions${summary.incompleteRegions.length ? ` (INCOMPLETE: ${summary.incompleteRegions.join(", ")})` : ""}`,
  );
  console.log(`Evidence manifest:    sha256 ${summary.evidenceSha256 ?? "not written"}`);
  console.log(`Roles revoked:        ${summary.rolesRevoked.join(", ") || "none"}`);
  console.log(`Verdict:              ${summary.verdict ?? "n/a"}`);
  const signals = Object.entries(summary.signalCounts).map(([category, n]) => `${category} ${n}`);
  console.log(`Signals:              ${signals.join(", ") || "none"}`);
  console.log(`GitHub issue:         ${summary.githubIssue ?? "none"}`);
  console.log(`OIDC plan:            ${summary.planFiles.length} files at ${summary.planLocation ?? "n/a"}`);
  console.log("");
  console.log(
    `Results on disk (${summary.artifacts.length} files; the audit report's .html opens in a browser):`,
  );
  for (const path of summary.artifacts) console.log(`  ${path}`);
  printKeptIncident(summary.localIncident);
}

export const demoCommand = {
  summary: "run the whole story on the embedded local sandbox",
  async run(argv: string[]): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        json: { type: "boolean", default: false },
        out: { type: "string", default: DEFAULT_ARTIFACT_DIR },
        help: { type: "boolean", default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(
        `usage: leak-responder demo [--json] [--out DIR]\n\nRuns the whole story on the embedded sandbox; nothing leaves this machine.\nEvery result (report, OIDC plan, Slack messages, GitHub issue) is written to DIR/<incident id>/ (default ${DEFAULT_ARTIFACT_DIR}).`,
      );
      return 0;
    }
    // Read before the demo points this process at the sandbox (it clears INCIDENT_DIR).
    const summary = await runDemo({ reportDir: values.out, keepIncident: localIncidentTarget(process.env) });
    if (values.json) console.log(JSON.stringify(summary, null, 2));
    else print(summary);
    return summary.status === "contained" ? 0 : 1;
  },
};
