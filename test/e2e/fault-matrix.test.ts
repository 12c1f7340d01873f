/**
 * The fault matrix: every external call on the containment path and after it, failing the way the
 * real services fail on a bad night (a hang past the client's timeout, a 5xx, throttling, a
 * permanent AccessDenied), through the whole demo story (signed webhook, intake, in-process queue
 * with redelivery, playbook, sandbox over real HTTP). Each cell is one demo run with its own planted
 * secret. A transient fault must end contained with one incident, one resolution, the key Inactive
 * and every step done once. A permanent denial on containment must end in the loudest Slack message
 * the system sends; after containment it must leave containment standing, the step recorded as
 * failed with a warning, and the failure told somewhere a person reads: never silence, never a
 * second incident, never an undone containment.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { FaultKind, FaultRule } from "../../sandbox/faults.js";
import { CLIENT_CLOSED_REQUEST } from "../../sandbox/server.js";
import { type DemoSummary, runDemo } from "../../src/cli/demo.js";
import type { LocalStack } from "../../src/cli/local-stack.js";
import type { Incident, StepName } from "../../src/domain/incident.js";
import { MemoryLog } from "../../src/logger.js";
import { findPlanted, recordQueued, sandboxOutputs } from "../support/secret-hygiene.js";

type Phase = "containment" | "after";

interface Row {
  service: string;
  operation: string;
  phase: Phase;
  /** The timeline steps this call serves: they end done once it works again, failed when it is denied. */
  steps: StepName[];
  /** After containment, denied for good: what the incident's warning says (a fragment). */
  warning?: RegExp;
  /** Denied for good, the steps left failed (default: `steps`). */
  deniedSteps?: StepName[];
}

const ROWS: Row[] = [
  // The App's installation token: the first call of all, before the alert can be read.
  { service: "github", operation: "createInstallationToken", phase: "containment", steps: ["alert-fetched"] },
  { service: "github", operation: "getAlert", phase: "containment", steps: ["alert-fetched"] },
  { service: "sts", operation: "GetAccessKeyInfo", phase: "containment", steps: ["key-located"] },
  { service: "sts", operation: "AssumeRole", phase: "containment", steps: ["key-located"] },
  { service: "iam", operation: "GetAccessKeyLastUsed", phase: "containment", steps: ["key-located"] },
  { service: "iam", operation: "UpdateAccessKey", phase: "containment", steps: ["key-deactivated"] },
  { service: "iam", operation: "PutUserPolicy", phase: "containment", steps: ["sessions-revoked"] },
  {
    service: "github",
    operation: "updateAlert",
    phase: "after",
    steps: ["alert-resolved"],
    warning: /GitHub alert was not resolved/,
  },
  {
    service: "slack",
    operation: "postWebhook",
    phase: "after",
    steps: ["notified", "followed-up"],
    warning: /NOT told in Slack/,
  },
  {
    service: "s3",
    operation: "PutObject",
    phase: "after",
    steps: ["incident-recorded", "evidence-stored"],
    warning: /could not be recorded/,
  },
  {
    service: "s3",
    operation: "GetObject",
    phase: "after",
    steps: ["evidence-stored", "report-written"],
    warning: /Forensics did not complete/,
  },
  {
    service: "cloudtrail",
    operation: "LookupEvents",
    phase: "after",
    steps: ["snapshot-taken"],
    warning: /CloudTrail history is incomplete/,
    // The snapshot is taken and stored as far as it goes, and says where it is INCOMPLETE; what
    // must not happen is a verdict that clears the key over a history nobody could read.
    deniedSteps: [],
  },
  {
    service: "github",
    operation: "listIssues",
    phase: "after",
    steps: ["issue-opened"],
    warning: /No issue could be opened/,
  },
  {
    service: "github",
    operation: "createIssue",
    phase: "after",
    steps: ["issue-opened"],
    warning: /No issue could be opened/,
  },
];

/** Steps a complete run of the demo ends with, each done exactly once. */
const FULL_STORY: StepName[] = [
  "alert-fetched",
  "key-located",
  "key-deactivated",
  "sessions-revoked",
  "alert-resolved",
  "incident-recorded",
  "notified",
  "snapshot-taken",
  "evidence-stored",
  "analyzed",
  "planned",
  "issue-opened",
  "report-written",
  "followed-up",
];

const TRANSIENT: Array<Exclude<FaultKind, "access-denied">> = ["timeout", "server-error", "throttle"];

/**
 * Post-containment calls failing more often than the client's own retries absorb (Octokit 1+3,
 * @slack/webhook 1+3, the AWS SDK 5 attempts): only the queue's redelivery can finish the step.
 */
const OUTLASTS: Record<string, number> = { updateAlert: 5, postWebhook: 5, PutObject: 6 };

/**
 * The responder's configuration for the matrix: a short call timeout (the sandbox holds a hung call
 * 30 s, many times longer), a day of history before the leak (the whole attack is in it; the
 * snapshot's 2 requests a second make every extra page cost time) and GitHub's and Slack's retry
 * delays shortened, so a cell takes seconds; the retry counts, the queue and the rest are production's.
 */
const CALL_TIMEOUT_MS = 1_000;
const MATRIX_ENV = { CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS), LOOKBACK_DAYS: "1" };
const RETRY_TIMING = { githubRetryBaseMs: 50, slackRetryMinMs: 50 };

const reportDir = mkdtempSync(join(tmpdir(), "fault-matrix-"));

interface Observed {
  summary?: DemoSummary;
  error?: string;
  /** The incident as finally stored in the sandbox bucket (after every redelivery). */
  incident?: Incident;
  /** The incident as the playbook last returned it (the only record when S3 refuses every write). */
  result?: Incident;
  incidents: number;
  resolveCount: number;
  keyStatus: string;
  slack: string[];
  /** The issues opened in the repository (title and body). */
  issues: string[];
  /** Every report object the responder stored. */
  reports: string[];
  log: MemoryLog;
  /** Calls to the faulted operation that failed (an error answer, or a hang the client gave up on). */
  faultedCalls: number;
  /** Of those, hangs the client abandoned at its own timeout (the sandbox records them as 499). */
  abandonedCalls: number;
  deliveries: number;
  deadLettered: number;
  /** From the first faulted call to the first Slack message Slack accepted, ms. */
  slackAfterFaultMs?: number;
  /** Where the cell's planted secret turned up (empty: nowhere). */
  leaks: string[];
  ms: number;
}

async function runCell(rules: FaultRule[], target?: { service: string; operation: string }) {
  const started = Date.now();
  // Secret hygiene (issue 7): every cell plants its own secret half and looks for it everywhere.
  const planted = `PLANTED${randomBytes(16).toString("hex")}`;
  const log = new MemoryLog();
  const queued: string[] = [];
  let stack: LocalStack | undefined;
  let summary: DemoSummary | undefined;
  let error: string | undefined;
  try {
    summary = await runDemo({
      env: MATRIX_ENV,
      responder: RETRY_TIMING,
      reportDir,
      log,
      world: { alertSecret: (key) => `${key.accessKeyId}\n${planted}` },
      beforeDelivery: (running) => {
        stack = running;
        recordQueued(running.server.queue, queued);
        for (const rule of rules) running.sandbox.faults.inject(rule);
      },
    });
  } catch (e: unknown) {
    error = e instanceof Error ? e.message : String(e);
  }
  if (!stack) throw new Error(`the demo did not start: ${error ?? "no stack"}`);
  const { sandbox, world, server } = stack;
  const objects = sandbox.state.buckets.get(world.bucket) ?? new Map();
  const incidentKeys = [...objects.keys()].filter((key) => /^incidents\/[^/]+\/incident\.json$/.test(key));
  const stored = incidentKeys[0] ? objects.get(incidentKeys[0]) : undefined;
  const calls = sandbox.state.calls;
  const faulted = (c: (typeof calls)[number]) =>
    target !== undefined &&
    c.service === target.service &&
    c.operation === target.operation &&
    c.status >= 400;
  // Measured where it matters: bookkeeping after containment (GitHub's resolve) failing.
  const firstFault = target?.operation === "updateAlert" ? calls.find(faulted) : undefined;
  const firstSlack = calls.find((c) => c.service === "slack" && c.status < 300);
  const deadLetters = server.queue.deadLetters;
  const result = stack.results.find((r) => !r.duplicate)?.incident ?? stack.results.at(-1)?.incident;
  const outputs = sandboxOutputs(sandbox.state);
  const leaks = findPlanted(planted, {
    log: [log.text()],
    queue: [...queued, ...deadLetters.map((d) => `${JSON.stringify(d.job)} ${d.error}`)],
    sandbox: outputs,
    summary: [JSON.stringify(summary ?? {}), error ?? ""],
  });
  const repo = sandbox.state.repo(world.repository);
  return {
    ...(firstFault && firstSlack ? { slackAfterFaultMs: firstSlack.startedAt - firstFault.startedAt } : {}),
    ...(summary ? { summary } : {}),
    ...(error ? { error } : {}),
    ...(stored ? { incident: JSON.parse(stored.body.toString("utf8")) as Incident } : {}),
    ...(result ? { result } : {}),
    incidents: incidentKeys.length,
    resolveCount: world.leaked.alert.resolveCount,
    keyStatus: world.leaked.key.status,
    slack: sandbox.state.slackMessages.map((m) => m.raw),
    issues: (repo?.issues ?? []).map((i) => `${i.title}\n${i.body}`),
    reports: [...objects.entries()]
      .filter(([key]) => /\/evidence\/report-[^/]+\.(md|html|json)$/.test(key))
      .map(([, object]) => object.body.toString("utf8")),
    log,
    faultedCalls: calls.filter(faulted).length,
    abandonedCalls: calls.filter((c) => faulted(c) && c.status === CLIENT_CLOSED_REQUEST).length,
    deliveries: server.queue.counts.received,
    deadLettered: server.queue.counts.deadLettered,
    leaks,
    ms: Date.now() - started,
  } satisfies Observed;
}

/** The incident as the system of record holds it; the playbook's own copy when S3 refused it. */
function record(o: Observed): Incident | undefined {
  return o.incident ?? o.result;
}

function doneCount(incident: Incident | undefined, step: StepName): number {
  return incident?.timeline.filter((e) => e.step === step && e.outcome === "done").length ?? 0;
}

/** The steps whose last word on the timeline is not "done" (failed and never finished). */
function unfinished(incident: Incident | undefined, steps: readonly StepName[]): string[] {
  return steps.filter((step) => {
    const last = incident?.timeline.filter((e) => e.step === step).at(-1);
    return last?.outcome !== "done";
  });
}

function describeOutcome(o: Observed): string {
  const status = record(o)?.status ?? (o.error ? "no result" : "none");
  const loud = o.slack.some((raw) => raw.includes("ACTION NEEDED")) ? " LOUD" : "";
  const warned = record(o)?.warnings.length ? `, ${record(o)?.warnings.length} warning(s)` : "";
  const slackDelay =
    o.slackAfterFaultMs === undefined ? "" : `, 1st Slack +${o.slackAfterFaultMs} ms after fault`;
  return `${status}${loud}${warned}${slackDelay}, key ${o.keyStatus}, inc ${o.incidents}, resolved x${o.resolveCount}, slack ${o.slack.length}, deliveries ${o.deliveries}${o.deadLettered ? `, DLQ ${o.deadLettered}` : ""}, ${(o.ms / 1000).toFixed(1)} s`;
}

const table: Array<{ row: string; column: string; outcome: string; verdict: string }> = [];

function tableRow(row: string, column: string, observed: Observed, problems: string[]): void {
  table.push({
    row,
    column,
    outcome: describeOutcome(observed),
    verdict: problems.length === 0 ? "ok" : `DEFECT: ${problems.join("; ")}`,
  });
}

/**
 * Checks every cell shares: one incident, the alert resolved at most once, each step done at most
 * once, the planted secret nowhere.
 */
function invariants(o: Observed, incidents = 1): string[] {
  const problems: string[] = [];
  if (o.incidents !== incidents) problems.push(`${o.incidents} incident objects (want ${incidents})`);
  if (o.resolveCount > 1) problems.push(`alert resolved ${o.resolveCount} times`);
  for (const step of FULL_STORY) {
    const n = doneCount(record(o), step);
    if (n > 1) problems.push(`${step} recorded done ${n} times`);
  }
  if (o.leaks.length > 0) problems.push(`planted secret found in ${o.leaks.join(", ")}`);
  return problems;
}

/**
 * A step that failed and was then finished by a retry must not leave its failure on the record: the
 * incident (and the audit report built from it) would tell the auditor the opposite of what happened.
 */
function staleWarnings(o: Observed): string[] {
  return (record(o)?.warnings ?? []).map((w) => `stale warning on a contained incident: "${w.slice(0, 90)}"`);
}

/**
 * design.md, step 4: the first Slack message goes out "at once". Resolving the GitHub alert is
 * bookkeeping; its retries must not hold back the message the owners are waiting for.
 */
const SLACK_AT_ONCE_MS = 2_000;

function slackHeldBack(row: Row, o: Observed): string[] {
  if (row.operation !== "updateAlert" || o.slackAfterFaultMs === undefined) return [];
  return o.slackAfterFaultMs > SLACK_AT_ONCE_MS
    ? [`first Slack message held back ${o.slackAfterFaultMs} ms behind GitHub's retries`]
    : [];
}

/** A transient fault, or one the queue's redelivery outlasts: the whole story, as if nothing failed. */
function completed(row: Row, o: Observed, kind: FaultKind, times: number): string[] {
  const problems = invariants(o);
  if (o.faultedCalls < times) problems.push(`only ${o.faultedCalls} faulted call(s): the fault never bit`);
  // A hang must end at the client's own timeout, not when the sandbox finally answers.
  if (kind === "timeout" && o.abandonedCalls < times)
    problems.push(`${times - o.abandonedCalls} hung call(s) not abandoned at the client's timeout`);
  if (o.incident?.status !== "contained") problems.push(`status ${o.incident?.status ?? o.error}`);
  if (o.keyStatus !== "Inactive") problems.push(`key ${o.keyStatus}`);
  if (o.resolveCount !== 1) problems.push(`alert resolved ${o.resolveCount} times (want 1)`);
  const missing = unfinished(o.incident, FULL_STORY);
  if (missing.length) problems.push(`unfinished: ${missing.join(", ")}`);
  if (o.deadLettered > 0) problems.push("dead-lettered");
  problems.push(...staleWarnings(o), ...slackHeldBack(row, o));
  if (baseline && o.slack.length !== baseline.slack.length)
    problems.push(`${o.slack.length} Slack messages (baseline ${baseline.slack.length})`);
  if (row.operation === "LookupEvents" && baseline) {
    const forensics = o.incident?.forensics;
    if (forensics?.incompleteRegions.length)
      problems.push(`incomplete: ${forensics.incompleteRegions.join(",")}`);
    if (forensics?.eventCount !== baseline.incident?.forensics?.eventCount)
      problems.push(`${forensics?.eventCount} events (baseline ${baseline.incident?.forensics?.eventCount})`);
  }
  return problems;
}

/** Containment denied for good: the loudest message, nothing claimed that did not happen. */
function deniedContainment(row: Row, o: Observed): string[] {
  const problems = invariants(o);
  if (o.faultedCalls < 1) problems.push("the fault never bit");
  const loud = o.slack.filter((raw) => raw.includes("ACTION NEEDED"));
  if (loud.length === 0) problems.push("no ACTION NEEDED message in Slack (silence)");
  if (o.deadLettered > 0) problems.push("dead-lettered: a permanent denial was retried to the DLQ");
  if (row.operation === "PutUserPolicy") {
    // The key is dead, but the sessions it minted live on for up to 36 hours: a person must
    // revoke them now, so this must not read as a plain success.
    if (o.keyStatus !== "Inactive")
      problems.push(`key ${o.keyStatus} (deactivation does not need PutUserPolicy)`);
    if (o.incident?.status === "contained")
      problems.push("status contained although sessions were not revoked");
  } else {
    if (o.incident?.status !== "failed")
      problems.push(`status ${o.incident?.status ?? o.error} (want failed)`);
    if (o.keyStatus !== "Active") problems.push(`key ${o.keyStatus}`);
    if (o.resolveCount !== 0) problems.push(`alert resolved ${o.resolveCount} times although not contained`);
    if (o.incident?.failure === undefined) problems.push("no failure recorded on the incident");
  }
  return problems;
}

/**
 * A call after containment denied for good: containment stands, the step is recorded as failed with
 * a warning, and a person hears of it (Slack, or where Slack itself refuses: the log's ERROR line,
 * the GitHub issue and the audit report). Nothing is retried into the dead-letter queue.
 */
function deniedAfter(row: Row, o: Observed): string[] {
  // S3 refusing every write leaves no incident object at all; one is the most there may be.
  const problems = invariants(o, row.service === "s3" && row.operation === "PutObject" ? 0 : 1);
  const incident = record(o);
  if (o.faultedCalls < 1) problems.push("the fault never bit");
  if (o.keyStatus !== "Inactive") problems.push(`key ${o.keyStatus}: containment undone or never done`);
  if (incident?.status !== "contained" && incident?.status !== "contained-with-warnings")
    problems.push(`status ${incident?.status ?? o.error} (want contained)`);
  if (o.deadLettered > 0) problems.push("dead-lettered: a permanent denial was retried to the DLQ");
  const denied = row.deniedSteps ?? row.steps;
  const standing = unfinished(incident, denied);
  if (standing.length < denied.length) problems.push(`${denied.join(", ")} recorded done although denied`);
  const verdict = incident?.forensics?.verdict;
  if (verdict === "no-use-since-leak" || verdict === "expected-use-only") {
    if (incident?.forensics?.incompleteRegions.length)
      problems.push(`verdict ${verdict} over an incomplete history (a false all-clear)`);
  }
  const warning = incident?.warnings.find((w) => row.warning?.test(w));
  if (!warning) problems.push(`no warning matching ${row.warning} on the incident`);
  if (row.service === "slack") {
    const errors = o.log.lines.filter(
      (l) => l.level === "ERROR" && /notification|Slack/i.test(JSON.stringify(l)),
    );
    if (errors.length === 0) problems.push("no ERROR log line about Slack");
    if (warning && !o.issues.some((text) => text.includes(warning.slice(0, 40))))
      problems.push("the GitHub issue does not say Slack refused");
    if (warning && !o.reports.some((text) => text.includes(warning.slice(0, 40))))
      problems.push("the audit report does not say Slack refused");
  } else if (!o.slack.some((raw) => row.warning?.test(raw))) {
    problems.push("no Slack message tells the owners");
  }
  if (row.service === "s3" && row.operation === "PutObject") {
    if (!o.slack.some((raw) => raw.includes("ACTION NEEDED"))) problems.push("no ACTION NEEDED in Slack");
    if (o.resolveCount !== 0) problems.push("alert resolved although nothing could be recorded");
  } else if (row.operation !== "updateAlert" && o.resolveCount !== 1) {
    problems.push(`alert resolved ${o.resolveCount} times (want 1)`);
  }
  return problems;
}

let baseline: Observed | undefined;

describe("fault matrix: every external call, failing, through the whole demo story", () => {
  afterAll(() => {
    const width = (key: "row" | "column" | "outcome") => Math.max(...table.map((t) => t[key].length), 6);
    const lines = table.map(
      (t) =>
        `${t.row.padEnd(width("row"))} | ${t.column.padEnd(width("column"))} | ${t.outcome.padEnd(width("outcome"))} | ${t.verdict}`,
    );
    console.log(
      [
        "Fault matrix (row x fault -> outcome):",
        `${"row".padEnd(width("row"))} | ${"fault".padEnd(width("column"))} | ${"outcome".padEnd(width("outcome"))} | verdict`,
        ...lines,
      ].join("\n"),
    );
  });

  it("baseline: no fault, the full story once", { timeout: 60_000 }, async () => {
    baseline = await runCell([]);
    const problems = invariants(baseline);
    const missing = unfinished(baseline.incident, FULL_STORY);
    if (missing.length) problems.push(`unfinished: ${missing.join(", ")}`);
    tableRow("(none)", "none", baseline, problems);
    expect(baseline.incident?.status).toBe("contained");
    expect(baseline.keyStatus).toBe("Inactive");
    expect(baseline.resolveCount).toBe(1);
    expect(problems).toEqual([]);
  });

  describe.each(ROWS)("$service $operation", (row) => {
    const name = `${row.service} ${row.operation}`;

    for (const kind of TRANSIENT) {
      it(`${kind} x2 -> contained, one incident, one resolution, key Inactive`, {
        timeout: 120_000,
      }, async () => {
        const o = await runCell([{ ...row, kind, times: 2 }], row);
        const problems = completed(row, o, kind, 2);
        tableRow(name, `${kind} x2`, o, problems);
        expect(problems, problems.join("; ")).toEqual([]);
      });
    }

    const times = OUTLASTS[row.operation];
    if (row.phase === "after" && times !== undefined) {
      it(`server-error x${times} (outlasts the client's retries) -> the queue's redelivery finishes ${row.steps.join(", ")}`, {
        timeout: 180_000,
      }, async () => {
        const o = await runCell([{ ...row, kind: "server-error", times }], row);
        const problems = completed(row, o, "server-error", times);
        tableRow(name, `server-error x${times}`, o, problems);
        expect(problems, problems.join("; ")).toEqual([]);
      });
    }

    const expectation =
      row.phase === "containment"
        ? "not contained (or sessions live), and a loud ACTION NEEDED in Slack"
        : "containment stands, the step failed with a warning, and a person is told";
    it(`access-denied (permanent) -> ${expectation}`, { timeout: 120_000 }, async () => {
      const o = await runCell([{ ...row, kind: "access-denied" }], row);
      const problems = row.phase === "containment" ? deniedContainment(row, o) : deniedAfter(row, o);
      tableRow(name, "access-denied", o, problems);
      expect(problems, problems.join("; ")).toEqual([]);
    });
  });
});
