/**
 * `leak-responder storm`: a whole organisation's keys leaking at once, on the embedded sandbox. Each
 * alert is delivered 1-3 times (GitHub redelivers) in random order through the local intake and
 * queue, with IAM's and Slack's rate limits on and CloudTrail's 2 requests/second per region. It
 * reports what a person asks after such a night: was every key contained, how fast, was anything
 * lost or done twice, and how much did the services push back.
 */
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { alertPayload, deliverWebhook } from "../../sandbox/github-webhook.js";
import { SLACK_POSTING_LIMIT } from "../../sandbox/state.js";
import { type StormAlert, type StormOptions, type StormWorld, seedStorm } from "../../sandbox/storm.js";
import { incidentIdFor } from "../domain/alert-job.js";
import { errorMessage, InvalidInputError } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";
import { type Log, MemoryLog } from "../logger.js";
import { entryOf } from "../playbook/timeline.js";
import { type LocalStack, startLocalStack } from "./local-stack.js";
import { startStagedStack } from "./staged-stack.js";

export interface StormRunOptions extends StormOptions {
  /** Deliveries are spread over this long (default 10 s; the issue's storm: within a minute). */
  spreadMs?: number;
  /** Most deliveries per alert, each alert getting 1..this many (default 3). */
  maxDeliveries?: number;
  /** Alerts handled at once (default: all of them, as Lambda scales out per message). */
  concurrency?: number;
  /**
   * Run the deployed topology (staged-stack.ts) with this many worker processes per queue, instead
   * of one process running the whole playbook: the rate limits must then hold across processes.
   */
  workers?: number;
  /** IAM's rate limit per account in the sandbox (default 20/s, bursts of 40). */
  iamRate?: { perSecond: number; burst: number };
  /** Latency the sandbox adds to every call, as real services have (default 0). */
  latencyMs?: number;
  log?: Log;
  /** Called with the running stack once the storm is seeded, before any delivery (tests inspect). */
  onStart?: (stack: StormStack, storm: StormWorld) => void;
  /** Progress for a person watching a long run: a line now and then (the CLI writes them to stderr). */
  onProgress?: (line: string) => void;
  /** The deployed topology: how long to wait for the queues to empty (default 30 minutes). */
  drainTimeoutMs?: number;
  /** How often onProgress hears how far the storm is (default 2 s). */
  progressEveryMs?: number;
}

/** What the storm needs of either stack: one process (local-stack.ts) or the deployed stages. */
export interface StormStack {
  sandbox: LocalStack["sandbox"];
  world: LocalStack["world"];
  server: LocalStack["server"];
  /** Worker processes per queue; 0 when one process runs the whole playbook. */
  workers: number;
  /** Waits for the queues to empty; what was still queued when it gave up (0: all done). */
  drained(): Promise<number>;
  deadLettered(): number;
  close(): Promise<void>;
}

async function startStormStack(options: StormRunOptions, log: Log, seed: SeedStorm): Promise<StormStack> {
  if (options.workers !== undefined) {
    const staged = await startStagedStack({ log, workers: options.workers, seed });
    return {
      ...staged,
      workers: options.workers,
      drained: () => staged.drained({ timeoutMs: options.drainTimeoutMs ?? 1_800_000 }),
    };
  }
  const local = await startLocalStack({
    log,
    concurrency: options.concurrency ?? (options.alerts ?? 500) * (options.maxDeliveries ?? 3),
    seed,
  });
  return {
    ...local,
    workers: 0,
    drained: async () => {
      await local.server.queue.drain();
      return local.server.queue.counts.waiting;
    },
    deadLettered: () => local.server.queue.counts.deadLettered,
  };
}

type SeedStorm = NonNullable<Parameters<typeof startLocalStack>[0]["seed"]>;

export interface StormReport {
  /** Worker processes per queue (storm --workers); 0: one process ran the whole playbook. */
  workers: number;
  /** Messages still queued when the storm stopped waiting (should be 0). */
  leftInQueues: number;
  alerts: number;
  accounts: number;
  repositories: number;
  deliveries: number;
  /** Deliveries the intake did not answer 202 (should be 0). */
  deliveriesRefused: number;
  wallMs: number;
  contained: number;
  keysInactive: number;
  incidents: number;
  /** Alerts with no incident, or with more than one (should both be 0). */
  alertsWithoutIncident: number;
  alertsWithDuplicateIncidents: number;
  /**
   * Alerts resolved by more than one PATCH. Resolving is idempotent: a second PATCH is the client's
   * retry of a call whose answer was lost (a timeout), never a second decision; see callsAbandoned.
   */
  alertsResolvedTwice: number;
  /** Calls the responder gave up waiting for (its call timeout) and retried, by operation. */
  callsAbandoned: Record<string, number>;
  deadLettered: number;
  /** Webhook sent (first delivery of the alert) to key deactivated, over contained incidents. */
  timeToContainMs: { median: number; p95: number; worst: number };
  /** Incidents with no step left failed and the follow-up sent (the story told to the end). */
  completed: number;
  /** Steps whose last word was not "done", with how many incidents ended that way. */
  unfinishedSteps: Record<string, number>;
  incompleteSnapshots: number;
  lookupEventsCalls: number;
  lookupEventsThrottled: number;
  /** The most LookupEvents the sandbox admitted for one account and region within any second. */
  lookupEventsPeakPerSecond: number;
  iamCalls: number;
  iamThrottled: number;
  slackMessages: number;
  slackThreadReplies: number;
  /** The most messages Slack received for one channel within any second. */
  slackPeakPerSecond: number;
  /** Messages Slack refused with 429 under its posting limit (retried after Retry-After). */
  slackRateLimited: number;
  githubIssues: number;
  /** Incidents with more than one issue in their repository (should be 0). */
  incidentsWithDuplicateIssues: number;
}

interface Delivery {
  alert: StormAlert;
  action: "created" | "reopened";
}

export async function runStorm(options: StormRunOptions = {}): Promise<StormReport> {
  const log = options.log ?? new MemoryLog();
  let storm: StormWorld | undefined;
  const botToken = `storm-bot-${randomBytes(12).toString("hex")}`;
  let ticker: NodeJS.Timeout | undefined;
  const stack = await startStormStack(options, log, (sandbox, world) => {
    storm = seedStorm(sandbox, world, options);
    sandbox.state.slackBotTokens.add(botToken);
    return {
      MANAGED_ACCOUNT_IDS: storm.accountIds.filter((id) => id !== world.homeAccountId).join(","),
      // A bot token: the digest's details go in its thread (facts.md: webhooks have no threads).
      SLACK_BOT_TOKEN: botToken,
      SLACK_CHANNEL: "C0SECURITY",
      SLACK_API_URL: `${sandbox.url}/slack/api`,
    };
  });
  try {
    if (!storm) throw new Error("the storm was not seeded");
    const { sandbox, world, server } = stack;
    sandbox.state.iamRateLimit = options.iamRate ?? { perSecond: 20, burst: 40 };
    sandbox.state.slackRateLimit = SLACK_POSTING_LIMIT;
    if (options.latencyMs) sandbox.faults.setLatency(options.latencyMs);
    options.onStart?.(stack, storm);

    const deliveries = shuffle(
      storm.alerts.flatMap((alert) =>
        Array.from(
          { length: randomInt(1, (options.maxDeliveries ?? 3) + 1) },
          (_, i): Delivery => ({ alert, action: i === 0 ? "created" : "reopened" }),
        ),
      ),
    );
    const firstSent = new Map<string, number>();
    const started = Date.now();
    const spreadMs = options.spreadMs ?? 10_000;
    let refused = 0;
    let sent = 0;
    const progress = options.onProgress;
    progress?.(
      `storm: ${storm.alerts.length} alerts in ${storm.accountIds.length} accounts, ${deliveries.length} deliveries over ${spreadMs / 1000} s`,
    );
    ticker = progress
      ? setInterval(
          () =>
            progress(
              `storm: ${sent}/${deliveries.length} deliveries sent, ${keysInactive(stack, storm)} keys contained`,
            ),
          options.progressEveryMs ?? 2_000,
        )
      : undefined;
    await Promise.all(
      deliveries.map(async (delivery, i) => {
        const due = started + (spreadMs * i) / deliveries.length;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const repo = sandbox.state.repo(delivery.alert.repository);
        if (!repo) throw new Error(`no repository ${delivery.alert.repository}`);
        const id = incidentIdFor(delivery.alert.repository, delivery.alert.number);
        const answer = await deliverWebhook(
          server.webhookUrl,
          world.webhookSecret,
          "secret_scanning_alert",
          alertPayload(repo, delivery.alert.number, delivery.action),
          randomUUID(),
        ).catch((error: unknown) => {
          // GitHub does not redeliver a delivery that failed: it is refused, and the report says so.
          progress?.(`storm: a delivery failed: ${errorMessage(error)}`);
          return undefined;
        });
        sent += 1;
        if (!answer) {
          refused += 1;
          return;
        }
        if (answer.status !== 202) refused += 1;
        firstSent.set(id, Math.min(firstSent.get(id) ?? answer.sentAt, answer.sentAt));
      }),
    );
    const leftInQueues = await stack.drained();
    const wallMs = Date.now() - started;
    clearInterval(ticker);
    progress?.(`storm: queues drained after ${wallMs} ms (${keysInactive(stack, storm)} keys contained)`);
    return measure(stack, storm, { deliveries: deliveries.length, refused, firstSent, wallMs, leftInQueues });
  } finally {
    clearInterval(ticker);
    await stack.close();
  }
}

function keysInactive(stack: StormStack, storm: StormWorld | undefined): number {
  return (storm?.alerts ?? []).filter(
    (alert) => stack.sandbox.state.findAccessKey(alert.accessKeyId)?.key.status === "Inactive",
  ).length;
}

function measure(
  stack: StormStack,
  storm: StormWorld,
  run: {
    deliveries: number;
    refused: number;
    firstSent: Map<string, number>;
    wallMs: number;
    leftInQueues: number;
  },
): StormReport {
  const { sandbox, world } = stack;
  const state = sandbox.state;
  const objects = state.buckets.get(world.bucket) ?? new Map();
  const incidentsById = new Map<string, Incident>();
  for (const [key, object] of objects) {
    const match = /^incidents\/([^/]+)\/incident\.json$/.exec(key);
    if (!match?.[1]) continue;
    incidentsById.set(match[1], JSON.parse(object.body.toString("utf8")) as Incident);
  }

  const times: number[] = [];
  let contained = 0;
  let keysInactive = 0;
  let withoutIncident = 0;
  let resolvedTwice = 0;
  let completed = 0;
  let incompleteSnapshots = 0;
  const unfinishedSteps: Record<string, number> = {};
  for (const alert of storm.alerts) {
    const id = incidentIdFor(alert.repository, alert.number);
    const incident = incidentsById.get(id);
    const key = state.findAccessKey(alert.accessKeyId)?.key;
    if (key?.status === "Inactive") keysInactive += 1;
    const githubAlert = state.repo(alert.repository)?.alerts.get(alert.number);
    if ((githubAlert?.resolveCount ?? 0) > 1) resolvedTwice += 1;
    if (!incident) {
      withoutIncident += 1;
      continue;
    }
    if (incident.status === "contained") contained += 1;
    const deactivated = entryOf(incident, "key-deactivated");
    const sentAt = run.firstSent.get(id);
    if (deactivated && sentAt !== undefined) times.push(Date.parse(deactivated.at) - sentAt);
    const lastWord = new Map(incident.timeline.map((entry) => [entry.step, entry.outcome]));
    for (const [step, outcome] of lastWord)
      if (outcome !== "done")
        unfinishedSteps[`${step}:${outcome}`] = (unfinishedSteps[`${step}:${outcome}`] ?? 0) + 1;
    if (![...lastWord.values()].includes("failed") && lastWord.get("followed-up") === "done") completed += 1;
    if (incident.forensics?.incompleteRegions.length) incompleteSnapshots += 1;
  }

  const issueTitles = storm.repositories.flatMap(
    (name) => state.repo(name)?.issues.map((i) => i.title) ?? [],
  );
  const lookups = state.calls.filter((c) => c.service === "cloudtrail" && c.operation === "LookupEvents");
  const slack = state.slackMessages;
  return {
    workers: stack.workers,
    leftInQueues: run.leftInQueues,
    alerts: storm.alerts.length,
    accounts: storm.accountIds.length,
    repositories: storm.repositories.length,
    deliveries: run.deliveries,
    deliveriesRefused: run.refused,
    wallMs: run.wallMs,
    contained,
    keysInactive,
    incidents: incidentsById.size,
    alertsWithoutIncident: withoutIncident,
    // Ids derive from the alert, so a second incident for one alert would sit under another id (a
    // manual `key__…` one, say): count the leaked keys that more than one incident object names.
    alertsWithDuplicateIncidents: [
      ...countBy([...incidentsById.values()].flatMap((i) => (i.accessKeyId ? [i.accessKeyId] : []))).values(),
    ].filter((n) => n > 1).length,
    alertsResolvedTwice: resolvedTwice,
    callsAbandoned: Object.fromEntries(
      countBy(state.calls.filter((c) => c.status === 499).map((c) => `${c.service} ${c.operation}`)),
    ),
    deadLettered: stack.deadLettered(),
    timeToContainMs: percentiles(times),
    completed,
    unfinishedSteps,
    incompleteSnapshots,
    lookupEventsCalls: lookups.length,
    lookupEventsThrottled: state.trailThrottleCount(),
    lookupEventsPeakPerSecond: Math.max(0, ...[...state.trailLookups.values()].map(peakPerSecond)),
    iamCalls: state.calls.filter((c) => c.service === "iam").length,
    iamThrottled: state.iamThrottles,
    slackMessages: slack.length,
    slackThreadReplies: slack.filter((m) => m.threadTs !== undefined).length,
    slackPeakPerSecond: peakPerSecond(slack.map((m) => m.receivedAt.getTime())),
    slackRateLimited: state.slackRefusals.length,
    githubIssues: issueTitles.length,
    incidentsWithDuplicateIssues: [
      ...countBy(issueTitles.map((title) => /\(([^()]+)\)$/.exec(title)?.[1] ?? title)).values(),
    ].filter((n) => n > 1).length,
  };
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** The most timestamps within any one-second window. */
function peakPerSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while ((sorted[to] ?? 0) - (sorted[from] ?? 0) >= 1_000) from += 1;
    peak = Math.max(peak, to - from + 1);
  }
  return peak;
}

function percentiles(values: number[]): StormReport["timeToContainMs"] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { median: at(0.5), p95: at(0.95), worst: sorted.at(-1) ?? 0 };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export const stormCommand = {
  summary: "a storm of leaked keys on the embedded sandbox, with figures",
  async run(argv: string[]): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        alerts: { type: "string", default: "500" },
        accounts: { type: "string", default: "5" },
        workers: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(
        "usage: leak-responder storm [--alerts 500] [--accounts 5] [--workers N] [--json]\n\nDelivers that many alerts (1-3 times each, in random order) to the local intake on the embedded sandbox, with IAM, CloudTrail and Slack rate limits on, and reports time to contain, peak LookupEvents per account and region per second, peak Slack posts per second, and what was lost or repeated. Nothing leaves this machine.\n\n--workers N runs the deployed topology instead of one process: the containment, investigation and notification functions, N worker processes each, connected by the sandbox's SQS queues (FIFO for investigation and notification).",
      );
      return 0;
    }
    const alerts = Number(values.alerts);
    const accounts = Number(values.accounts);
    if (!Number.isInteger(alerts) || alerts < 1 || alerts > 5_000)
      throw new InvalidInputError("--alerts must be a whole number from 1 to 5000");
    if (!Number.isInteger(accounts) || accounts < 2 || accounts > 50)
      throw new InvalidInputError("--accounts must be a whole number from 2 to 50");
    const workers = values.workers === undefined ? undefined : Number(values.workers);
    if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 16))
      throw new InvalidInputError("--workers must be a whole number from 1 to 16");
    // Progress on stderr: a storm runs for a while, and stdout stays the report alone (--json).
    const report = await runStorm({
      alerts,
      accounts,
      ...(workers === undefined ? {} : { workers }),
      onProgress: (line) => console.error(line),
    });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else
      for (const [name, value] of Object.entries(report))
        console.log(`${name.padEnd(30)} ${JSON.stringify(value)}`);
    const whole =
      report.contained === report.alerts &&
      report.alertsWithoutIncident === 0 &&
      report.alertsWithDuplicateIncidents === 0 &&
      report.leftInQueues === 0;
    return whole ? 0 : 1;
  },
};
