/**
 * A crash between any two steps resumes without repeating what must not repeat (issue 7). The
 * sandbox runs here, so its world (IAM, the S3 bucket, GitHub, Slack) outlives the responder; the
 * responder runs one delivery of the queued alert job in a child process (test/support/
 * respond-child.ts), as one Lambda invocation would. For each crash point the sandbox answers the
 * n-th matching call, then holds every later request (sandbox/freeze.ts); the child is killed with
 * SIGKILL before it can make another, and the same job is delivered again in a fresh child, as SQS
 * would after the visibility timeout, until it completes. The crash points are taken from a clean
 * run's call log: after every call that changes something, and at least one between every two
 * steps of the incident's timeline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import buildConfig from "../../esbuild.config.cjs";
import { alertPayload, signature } from "../../sandbox/github-webhook.js";
import { startSandbox } from "../../sandbox/index.js";
import { type DemoWorld, demoAppKeyPair, demoEnv, seedDemoWorld } from "../../sandbox/scenario.js";
import type { Sandbox } from "../../sandbox/server.js";
import type { CallRecord } from "../../sandbox/state.js";
import { loadIntakeConfig } from "../../src/config.js";
import type { AlertJob } from "../../src/domain/alert-job.js";
import type { Incident } from "../../src/domain/incident.js";
import { REVOKE_OLDER_SESSIONS_POLICY_NAME } from "../../src/domain/revoke-sessions-policy.js";
import { handleWebhook } from "../../src/intake/intake.js";
import { MemoryLog } from "../../src/logger.js";

const root = join(import.meta.dirname, "..", "..");
const childBundle = join(root, ".build", `respond-child-${process.pid}.mjs`);
/** serverless.yml: the queue's VisibilityTimeout (1800 s), plus a minute: the dead run's lease is old. */
const REDELIVERY_OFFSET_MS = 31 * 60_000;
/** Worlds run side by side: the time goes into CloudTrail's 2 requests/second, not the CPU. */
const CONCURRENCY = 3;
const MAX_REDELIVERIES = 4;

/** Calls whose effect outlives the process: a crash right after each is a crash point. */
const CHANGES: Record<string, readonly string[]> = {
  iam: ["UpdateAccessKey", "PutUserPolicy", "PutRolePolicy"],
  s3: ["PutObject"],
  github: ["updateAlert", "createIssue"],
  slack: ["chat.postMessage", "postWebhook"],
};
/** One GitHub App key for every world: RSA key generation would stall every sandbox in this process. */
let appKeyPair: ReturnType<typeof demoAppKeyPair> | undefined;

interface TestWorld {
  sandbox: Sandbox;
  world: DemoWorld;
  env: Record<string, string>;
  job: AlertJob;
}

/** A fresh sandbox and demo world, and the job the intake queues for its signed alert webhook. */
async function newWorld(slack: "bot" | "webhook"): Promise<TestWorld> {
  const sandbox = await startSandbox();
  appKeyPair ??= demoAppKeyPair();
  const world = seedDemoWorld(sandbox, { appKeyPair });
  const token = `test-bot-${randomBytes(8).toString("hex")}`;
  sandbox.state.slackBotTokens.add(token);
  const env = demoEnv(sandbox, world, {
    // Only the regions that hold the key's history, and a day before the leak: a short snapshot.
    SNAPSHOT_REGIONS: world.history.regions.join(","),
    LOOKBACK_DAYS: "1",
    ...(slack === "bot"
      ? { SLACK_BOT_TOKEN: token, SLACK_CHANNEL: "C0SECURITY", SLACK_API_URL: `${sandbox.url}/slack/api` }
      : {}),
  });
  const repo = sandbox.state.repos.get(world.repository);
  if (!repo) throw new Error("demo world has no repository");
  const body = Buffer.from(JSON.stringify(alertPayload(repo, world.leaked.alert.number)));
  let job: AlertJob | undefined;
  const response = await handleWebhook(
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "secret_scanning_alert",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": signature(world.webhookSecret, body),
      },
      body,
    },
    {
      config: loadIntakeConfig(env),
      queue: {
        send: async (queued) => {
          job = queued;
          return { messageId: randomUUID() };
        },
      },
      log: new MemoryLog(),
      clock: { now: () => new Date() },
    },
  );
  if (response.status !== 202 || !job) throw new Error(`intake did not queue the alert: ${response.body}`);
  return { sandbox, world, env, job };
}

interface ChildRun {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** One delivery of the job in a process of its own. */
function deliver(w: TestWorld, options: { offsetMs?: number; job?: AlertJob } = {}): ChildRun {
  const child = spawn(process.execPath, [childBundle], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      ...w.env,
      RESPOND_JOB: JSON.stringify(options.job ?? w.job),
      RESPOND_CLOCK_OFFSET_MS: String(options.offsetMs ?? 0),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>(
    (resolve) => child.on("exit", (code, signal) => resolve({ code, signal, output })),
  );
  return { child, exited };
}

/** Redeliveries of the same job (SQS after the visibility timeout) until one completes. */
async function redeliverUntilDone(w: TestWorld): Promise<{ deliveries: number; outputs: string[] }> {
  const outputs: string[] = [];
  for (let n = 1; n <= MAX_REDELIVERIES; n++) {
    const run = await deliver(w, { offsetMs: REDELIVERY_OFFSET_MS }).exited;
    outputs.push(run.output.trim());
    if (run.code === 0) return { deliveries: n, outputs };
  }
  throw new Error(`no redelivery completed: ${outputs.join(" | ")}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function objectsOf(w: TestWorld): Map<string, { body: Buffer }> {
  return w.sandbox.state.buckets.get(w.world.bucket) ?? new Map();
}

function incidentOf(w: TestWorld): Incident | undefined {
  const stored = objectsOf(w).get(`incidents/${w.job.incidentId}/incident.json`);
  return stored ? (JSON.parse(stored.body.toString("utf8")) as Incident) : undefined;
}

/** The notices Slack received for the incident, by the metadata they carry (bot token). */
function noticesOf(w: TestWorld, kind: string): number {
  return w.sandbox.state.slackMessages.filter((m) => {
    const payload = (m.payload.metadata as { event_payload?: { incident_id?: string; kind?: string } })
      ?.event_payload;
    return payload?.incident_id === w.job.incidentId && payload.kind === kind;
  }).length;
}

const FIRST_MESSAGE = "Leaked AWS key contained";
const FOLLOW_UP = "Forensics and plan";
const REPEAT_NOTE = "may repeat an earlier message";

function textsOf(w: TestWorld, marker: string): string[] {
  return w.sandbox.state.slackMessages.map((m) => m.raw).filter((raw) => raw.includes(marker));
}

interface Expected {
  doneSteps: string[];
  slackMessages: number;
  warnings: string[];
  /** The evidence: how many events the snapshot stored, in how many parts. */
  eventCount: number | undefined;
  parts: number | undefined;
}

/** What a person would check after the crash: everything done, and once. Returns what is wrong. */
function problems(w: TestWorld, expected: Expected): string[] {
  const wrong: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) wrong.push(what);
  };
  const incidentObjects = [...objectsOf(w).keys()].filter((k) => k.endsWith("/incident.json"));
  check(incidentObjects.length === 1, `${incidentObjects.length} incident objects`);
  const incident = incidentOf(w);
  if (!incident) return [...wrong, "no incident"];
  const { world, sandbox } = w;
  check(world.leaked.key.status === "Inactive", `key ${world.leaked.key.status}`);
  const user = sandbox.state.user(world.leaked.accountId, world.leaked.userName);
  check(user.inlinePolicies.has(REVOKE_OLDER_SESSIONS_POLICY_NAME), "no sessions-revoked policy on the user");
  const role = sandbox.state.account(world.leaked.accountId).roles.get(world.history.assumedRoleName);
  check(Boolean(role?.inlinePolicies.has(REVOKE_OLDER_SESSIONS_POLICY_NAME)), "assumed role not revoked");
  check(world.leaked.alert.state === "resolved", `alert ${world.leaked.alert.state}`);
  check(world.leaked.alert.resolveCount === 1, `alert resolved ${world.leaked.alert.resolveCount} times`);
  check(incident.status === "contained", `status ${incident.status}`);
  for (const step of expected.doneSteps) {
    const done = incident.timeline.filter((e) => e.step === step && e.outcome === "done").length;
    check(done === 1, `${step} done ${done} times`);
  }
  const failed = incident.timeline.filter((e) => e.outcome === "failed").map((e) => e.step);
  check(failed.length === 0, `failed steps: ${failed.join(", ")}`);
  check(noticesOf(w, "contained") === 1, `${noticesOf(w, "contained")} first messages`);
  check(noticesOf(w, "follow-up") === 1, `${noticesOf(w, "follow-up")} follow-ups`);
  const messages = sandbox.state.slackMessages.length;
  check(messages === expected.slackMessages, `${messages} Slack messages`);
  check(textsOf(w, REPEAT_NOTE).length === 0, "a message marked as a possible repeat");
  const issues = sandbox.state.repos.get(world.repository)?.issues ?? [];
  check(issues.length === 1, `${issues.length} GitHub issues`);
  const reportFiles = incident.report ?? [];
  check(reportFiles.length === 3, `${reportFiles.length} report files recorded`);
  for (const file of reportFiles) check(objectsOf(w).has(file.key), `report ${file.name} not stored`);
  check(
    JSON.stringify(incident.warnings) === JSON.stringify(expected.warnings),
    `warnings ${JSON.stringify(incident.warnings)}`,
  );
  check(incident.lease === undefined, "lease still held");
  const forensics = incident.forensics;
  check(
    forensics?.eventCount === expected.eventCount && forensics?.parts.length === expected.parts,
    `evidence: ${forensics?.eventCount} events in ${forensics?.parts.length} part(s)`,
  );
  return wrong;
}

/** Report files in the bucket (a crash between writing them and recording them leaves a spare set). */
function reportObjects(w: TestWorld): number {
  return [...objectsOf(w).keys()].filter((k) => /\/report-[^/]+$/.test(k)).length;
}

interface CrashPoint {
  service: string;
  operation: string;
  nth: number;
  label: string;
}

interface Row {
  point: string;
  /** The last step the incident had recorded when the process died ("none": not created yet). */
  atKill: string;
  heldAtKill: number;
  redeliveries: number;
  spareReports: number;
  outcome: string;
}

const rows: Row[] = [];
let expected: Expected;
const crashPoints: CrashPoint[] = [];

function describeWrite(key: string, before: string | undefined, after: string): string {
  const name = key.replace(/^incidents\/[^/]+\//, "");
  if (!name.endsWith("incident.json")) return name;
  const old = before ? (JSON.parse(before) as Incident) : undefined;
  const now = JSON.parse(after) as Incident;
  const seen = new Set(old?.timeline.map((e) => `${e.step}@${e.at}`) ?? []);
  const steps = now.timeline.filter((e) => !seen.has(`${e.step}@${e.at}`)).map((e) => e.step);
  if (!old) return "incident.json created";
  if (steps.length > 0) return `incident.json +${[...new Set(steps)].join(" +")}`;
  const fields = Object.keys(now).filter(
    (k) =>
      k !== "updatedAt" &&
      JSON.stringify(now[k as keyof Incident]) !== JSON.stringify(old[k as keyof Incident]),
  );
  const gone = Object.keys(old).filter((k) => !(k in now));
  return `incident.json (${[...fields, ...gone.map((k) => `-${k}`)].join(", ")})`;
}

/** The clean run: its call log, labelled, gives the crash points; its outcome is what each must match. */
async function baseline(): Promise<void> {
  const w = await newWorld("bot");
  try {
    const labels = new Map<CallRecord, string>();
    const bodies = new Map<string, string>();
    const record = w.sandbox.state.recordCall.bind(w.sandbox.state);
    // Which object each PutObject wrote: the bucket is compared as each call is logged.
    w.sandbox.state.recordCall = (call: CallRecord) => {
      if (call.service === "s3" && call.operation === "PutObject") {
        for (const [key, object] of objectsOf(w)) {
          const text = object.body.toString("latin1");
          if (bodies.get(key) !== text) {
            labels.set(call, describeWrite(key, bodies.get(key), text));
            bodies.set(key, text);
          }
        }
      }
      record(call);
    };
    const run = await deliver(w).exited;
    if (run.code !== 0) throw new Error(`the clean run failed: ${run.output}`);
    const incident = incidentOf(w);
    if (!incident) throw new Error("the clean run recorded no incident");
    expected = {
      doneSteps: [...new Set(incident.timeline.filter((e) => e.outcome === "done").map((e) => e.step))],
      slackMessages: w.sandbox.state.slackMessages.length,
      warnings: incident.warnings,
      eventCount: incident.forensics?.eventCount,
      parts: incident.forensics?.parts.length,
    };
    if (!expected.eventCount) throw new Error("the clean run stored no CloudTrail events");
    const baselineProblems = problems(w, expected);
    if (baselineProblems.length > 0) throw new Error(`the clean run: ${baselineProblems.join("; ")}`);

    const counts = new Map<string, number>();
    const calls = w.sandbox.state.calls;
    calls.forEach((call, index) => {
      const id = `${call.service} ${call.operation}`;
      const nth = (counts.get(id) ?? 0) + 1;
      counts.set(id, nth);
      if (!CHANGES[call.service]?.includes(call.operation)) return;
      const label = labels.get(call) ?? "";
      // Every incident.json write is a crash point (each records a step: they are the boundaries
      // between steps). Evidence files come in runs (the snapshot part, the manifest, the findings,
      // 17 plan files, 3 report files) and are recorded by the incident.json write that follows:
      // the last of each run is the crash point that leaves them all written and none recorded.
      const puts = calls.filter((c) => c.operation === "PutObject");
      const next = puts[puts.indexOf(call) + 1];
      if (
        label &&
        !label.startsWith("incident.json") &&
        !(labels.get(next as CallRecord) ?? "").startsWith("incident.json")
      )
        return;
      crashPoints.push({
        service: call.service,
        operation: call.operation,
        nth,
        label: `${String(index + 1).padStart(3)} ${id} #${nth}${label ? ` ${label}` : ""}`,
      });
    });
  } finally {
    await w.sandbox.stop();
  }
}

interface Crash {
  /** The incident as stored when the process died. */
  atKill: Incident | undefined;
  /** Requests the sandbox held unanswered when the process was killed. */
  held: number;
}

/**
 * Runs one delivery until the sandbox has answered the matching call, then kills it with SIGKILL
 * before it can make another (sandbox/freeze.ts); undefined when the run ended before that call.
 */
async function crashAfter(
  w: TestWorld,
  match: { service: string; operation: string; nth: number },
): Promise<Crash | undefined> {
  const freeze = w.sandbox.freezeAfter(match);
  const run = deliver(w);
  try {
    const reached = await Promise.race([freeze.reached.then(() => true), run.exited.then(() => false)]);
    if (!reached) return undefined;
    // Killed once it has read the answer and asked for more, or after a moment if it asks nothing.
    await Promise.race([freeze.firstHeld, run.exited, sleep(500)]);
    const held = freeze.held;
    run.child.kill("SIGKILL");
    await run.exited;
    return { atKill: incidentOf(w), held };
  } finally {
    freeze.release();
  }
}

function lastStep(incident: Incident | undefined): string {
  if (!incident) return "none";
  const last = incident.timeline.at(-1)?.step ?? "none";
  return incident.lease ? last : `${last}, lease released`;
}

/** Crash after the point, redeliver the job until done, check what a person would check. */
async function crashAndResume(point: CrashPoint): Promise<Row> {
  const w = await newWorld("bot");
  try {
    const crash = await crashAfter(w, point);
    if (!crash) {
      return {
        point: point.label,
        atKill: "-",
        heldAtKill: 0,
        redeliveries: 0,
        spareReports: 0,
        outcome: "FAILED: never reached",
      };
    }
    const { deliveries } = await redeliverUntilDone(w);
    const wrong = problems(w, expected);
    return {
      point: point.label,
      atKill: lastStep(crash.atKill),
      heldAtKill: crash.held,
      redeliveries: deliveries,
      spareReports: reportObjects(w) - (incidentOf(w)?.report?.length ?? 0),
      outcome: wrong.length === 0 ? "ok" : `FAILED: ${wrong.join("; ")}`,
    };
  } finally {
    await w.sandbox.stop();
  }
}

beforeAll(async () => {
  await build({
    ...buildConfig.esbuildOptions,
    // The bundle runs here, on Node 20, and is thrown away: no source map.
    target: "node20",
    sourcemap: false,
    entryPoints: [join(root, "test/support/respond-child.ts")],
    outfile: childBundle,
  });
  await baseline();
}, 120_000);

afterAll(() => {
  rmSync(childBundle, { force: true });
  if (rows.length === 0) return;
  const header = [
    "crash after call (n-th of its kind, what it wrote)",
    "recorded at the kill",
    "held",
    "redeliveries",
    "spare report files",
    "outcome",
  ];
  const table = [
    header,
    ...rows.map((r) => [
      r.point,
      r.atKill,
      String(r.heldAtKill),
      String(r.redeliveries),
      String(r.spareReports),
      r.outcome,
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...table.map((cells) => (cells[i] ?? "").length)));
  const lines = table.map((cells) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join(" | ")
      .trimEnd(),
  );
  console.log(
    `Crash points: SIGKILL once the sandbox answered the call, then the same job redelivered (clock +31 min) until done\n${lines.join("\n")}`,
  );
});

describe("a crash between any two steps resumes without repeating side effects", () => {
  it("every crash point: one incident, key inactive, sessions revoked, alert resolved once, every step done once, one first message, one follow-up, one issue, the report", async () => {
    expect(crashPoints.length).toBeGreaterThan(15);
    const queue = [...crashPoints];
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      for (let point = queue.shift(); point; point = queue.shift()) rows.push(await crashAndResume(point));
    });
    await Promise.all(workers);
    rows.sort((a, b) => Number.parseInt(a.point, 10) - Number.parseInt(b.point, 10));
    expect(rows.filter((r) => r.outcome !== "ok").map((r) => `${r.point}: ${r.outcome}`)).toEqual([]);
    // The kills really fell mid-run: all but the last left the incident unfinished (its lease held).
    const finished = rows.filter((r) => r.atKill.endsWith("lease released")).map((r) => r.point);
    expect(finished).toEqual([rows.at(-1)?.point]);
    // About a minute on 2 cores; the bound is for a machine busy with other work.
  }, 300_000);
});

describe.concurrent("the messages a crash could repeat", () => {
  it("an incoming webhook cannot be read back: the first message is sent again, saying plainly it may repeat the earlier one", async () => {
    const w = await newWorld("webhook");
    try {
      const crash = await crashAfter(w, { service: "slack", operation: "postWebhook", nth: 1 });
      expect(crash?.atKill?.timeline.some((e) => e.step === "notified")).toBe(false);
      await redeliverUntilDone(w);
      const firsts = textsOf(w, FIRST_MESSAGE);
      expect(firsts).toHaveLength(2);
      expect(firsts[0]).not.toContain(REPEAT_NOTE);
      expect(firsts[1]).toContain(REPEAT_NOTE);
      // The follow-up was never sent before the crash: it goes once, unmarked.
      const followUps = textsOf(w, FOLLOW_UP);
      expect(followUps).toHaveLength(1);
      expect(followUps[0]).not.toContain(REPEAT_NOTE);
      const notified = incidentOf(w)?.timeline.filter((e) => e.step === "notified" && e.outcome === "done");
      expect(notified?.map((e) => e.detail)).toEqual([expect.stringContaining("possible repeat")]);
    } finally {
      await w.sandbox.stop();
    }
  }, 120_000);

  it("a bot token without history access cannot tell: the first message is sent again, marked, rather than not at all", async () => {
    const w = await newWorld("bot");
    try {
      await crashAfter(w, { service: "slack", operation: "chat.postMessage", nth: 1 });
      // Slack refuses the read-back (as for a token without channels:history).
      w.sandbox.faults.inject({
        service: "slack",
        operation: "conversations.history",
        kind: "access-denied",
      });
      await redeliverUntilDone(w);
      expect(noticesOf(w, "contained")).toBe(2);
      const firsts = textsOf(w, FIRST_MESSAGE);
      expect(firsts[1]).toContain(REPEAT_NOTE);
      expect(noticesOf(w, "follow-up")).toBe(1);
      expect(w.world.leaked.alert.resolveCount).toBe(1);
    } finally {
      await w.sandbox.stop();
    }
  }, 120_000);

  it("a GitHub redelivery while the dead run's lease is live only records itself; SQS's redelivery after the visibility timeout finishes, once", async () => {
    const w = await newWorld("bot");
    try {
      await crashAfter(w, { service: "slack", operation: "chat.postMessage", nth: 1 });
      // A new delivery id, minutes after the crash: the lease (15 minutes) still names the dead run.
      const other = { ...w.job, deliveryId: randomUUID() };
      const early = await deliver(w, { job: other }).exited;
      expect(early.code).toBe(0);
      expect(early.output).toContain('"duplicate":true');
      const noted = incidentOf(w);
      expect(noted?.deliveryIds).toEqual([w.job.deliveryId, other.deliveryId]);
      expect(noted?.timeline.some((e) => e.step === "notified")).toBe(false);
      expect(w.sandbox.state.slackMessages).toHaveLength(1);
      await redeliverUntilDone(w);
      expect(problems(w, expected)).toEqual([]);
    } finally {
      await w.sandbox.stop();
    }
  }, 120_000);
});
