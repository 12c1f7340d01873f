/**
 * The deployed topology on one machine (issue 13): the embedded sandbox seeded with the demo's world,
 * its SQS holding the stack's queues (the alert queue, the investigation and notification FIFO
 * queues, each with its dead-letter queue, as serverless.yml declares them), the intake on a local
 * HTTP server queueing to the alert queue, and the three functions' Lambda handlers fed by their
 * queues: in this process, or as N independent worker processes per queue (`storm --workers N`),
 * which share nothing but the queues and the sandbox, as Lambda's concurrent invocations do.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { setPriority } from "node:os";
import { pathToFileURL } from "node:url";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startSandbox } from "../../sandbox/index.js";
import { type DemoWorld, type DemoWorldOptions, demoEnv, seedDemoWorld } from "../../sandbox/scenario.js";
import type { Sandbox } from "../../sandbox/server.js";
import { buildPath, bundleTs } from "../../scripts/run-ts.mjs";
import { SqsJobQueue } from "../adapters/aws/sqs-queue.js";
import { MemoryJobQueue } from "../adapters/local/memory-queue.js";
import { loadIntakeConfig } from "../config.js";
import type { Log } from "../logger.js";
import { useSandboxEnv } from "./local-stack.js";
import { type LocalServer, startLocalServer } from "./serve.js";
import { runStageWorker, STAGE_FUNCTIONS, type StageFunction } from "./worker.js";

/** Deliveries before a message is dead-lettered: serverless.yml's maxReceiveCount on every queue. */
const MAX_RECEIVE_COUNT = 5;

export interface StagedQueues {
  alert: string;
  investigation: string;
  notification: string;
  deadLetter: Record<StageFunction, string>;
}

export interface StagedStack {
  sandbox: Sandbox;
  world: DemoWorld;
  server: LocalServer;
  queues: StagedQueues;
  /** The configuration every function runs with (the sandbox's endpoints and the queue URLs). */
  env: Record<string, string>;
  /**
   * Resolves once every queue is empty and stays so (nothing waiting, nothing in flight), with 0; or
   * at the timeout, with how many messages are still in the queues.
   */
  drained(options?: { quietMs?: number; timeoutMs?: number }): Promise<number>;
  /** Messages in the three dead-letter queues. */
  deadLettered(): number;
  close(): Promise<void>;
}

export interface StagedStackOptions {
  log: Log;
  /** Worker processes per queue; 0 runs each function's poller in this process. */
  workers: number;
  world?: DemoWorldOptions;
  env?: Record<string, string>;
  seed?: (sandbox: Sandbox, world: DemoWorld) => Record<string, string>;
  /** Shorter function timeouts than serverless.yml's, for in-process workers (a test of runs cut short). */
  functionTimeoutSeconds?: Partial<Record<StageFunction, number>>;
}

async function createQueues(sqs: SQSClient): Promise<StagedQueues> {
  const create = async (name: string, attributes: Record<string, string>) => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
      .QueueUrl;
    if (!url) throw new Error(`the sandbox created no queue ${name}`);
    return url;
  };
  const arnOf = (url: string) => {
    const [, , , account, name] = url.split("/");
    return `arn:aws:sqs:us-east-1:${account}:${name}`;
  };
  const fifo = { FifoQueue: "true" };
  const deadLetter = {
    contain: await create("leak-responder-alerts-dlq", {}),
    investigate: await create("leak-responder-investigation-dlq.fifo", fifo),
    notify: await create("leak-responder-notification-dlq.fifo", fifo),
  };
  const redrive = (name: StageFunction) => ({
    // The function's timeout, the least Lambda allows: a message comes back only once the invocation
    // holding it is surely over, so no two processes ever hold one group.
    VisibilityTimeout: String(STAGE_FUNCTIONS[name].timeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: arnOf(deadLetter[name]),
      maxReceiveCount: MAX_RECEIVE_COUNT,
    }),
  });
  return {
    alert: await create("leak-responder-alerts", redrive("contain")),
    investigation: await create("leak-responder-investigation.fifo", { ...fifo, ...redrive("investigate") }),
    notification: await create("leak-responder-notification.fifo", { ...fifo, ...redrive("notify") }),
    deadLetter,
  };
}

/** The CLI, built once for the worker processes (each imports it and runs `worker`). */
async function buildWorkerBundle(): Promise<string> {
  const outfile = buildPath(`worker-${process.pid}-${randomUUID().slice(0, 8)}.mjs`);
  await bundleTs("src/cli/main.ts", outfile);
  return outfile;
}

/**
 * The workers run at a lower priority than this process: here the sandbox and the intake stand in
 * for AWS and API Gateway, which do not share two cores with the functions, and a starved intake
 * would refuse GitHub's deliveries (seen with 24 workers: connections timed out). Containment runs
 * ahead of the later stages, as it would on Lambda, where they do not share a CPU either (with all
 * at one priority, 500 keys took a median 51 s to contain, the investigations taking the CPU).
 */
const WORKER_NICENESS: Record<StageFunction, number> = { contain: 5, investigate: 10, notify: 10 };

function spawnWorker(bundle: string, name: StageFunction, env: Record<string, string>, accountId: string) {
  const code = `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.exitCode = await m.main(["worker", "--function", ${JSON.stringify(name)}, "--account", ${JSON.stringify(accountId)}]);`;
  const child = spawn(process.execPath, ["--input-type=module", "--enable-source-maps", "-e", code], {
    env: { ...process.env, ...env, LOG_LEVEL: "ERROR" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (child.pid !== undefined) {
    try {
      setPriority(child.pid, WORKER_NICENESS[name]);
    } catch {
      // Not allowed here (some containers): the workers then compete with the intake as equals.
    }
  }
  return child;
}

export async function startStagedStack(options: StagedStackOptions): Promise<StagedStack> {
  const sandbox = await startSandbox();
  const children: ChildProcess[] = [];
  const controller = new AbortController();
  const pollers: Promise<void>[] = [];
  let bundle: string | undefined;
  let server: LocalServer | undefined;
  try {
    const world = seedDemoWorld(sandbox, options.world);
    const seeded = options.seed?.(sandbox, world) ?? {};
    const base = demoEnv(sandbox, world, { ...seeded, ...options.env });
    const sqs = new SQSClient({
      region: "us-east-1",
      endpoint: sandbox.url,
      credentials: {
        accessKeyId: world.responder.accessKeyId,
        secretAccessKey: world.responder.secretAccessKey,
        sessionToken: world.responder.sessionToken,
      },
    });
    const queues = await createQueues(sqs);
    const env: Record<string, string> = {
      ...base,
      ALERT_QUEUE_URL: queues.alert,
      INVESTIGATION_QUEUE_URL: queues.investigation,
      NOTIFICATION_QUEUE_URL: queues.notification,
      // Where investigate and notify move a message that can never succeed, as serverless.yml wires them.
      INVESTIGATION_DEAD_LETTER_QUEUE_URL: queues.deadLetter.investigate,
      NOTIFICATION_DEAD_LETTER_QUEUE_URL: queues.deadLetter.notify,
      MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
    };
    useSandboxEnv(env);

    const alertQueue = new SqsJobQueue(sqs, queues.alert);
    // The intake as `serve` runs it, queueing each verified delivery to the stack's alert queue.
    server = await startLocalServer({
      config: loadIntakeConfig(env),
      port: 0,
      log: options.log,
      queue: new MemoryJobQueue({ maxReceiveCount: MAX_RECEIVE_COUNT, log: options.log }),
      onJob: async (job) => {
        await alertQueue.send(job);
      },
    });

    const names = Object.keys(STAGE_FUNCTIONS) as StageFunction[];
    if (options.workers > 0) {
      bundle = await buildWorkerBundle();
      for (const name of names) {
        for (let i = 0; i < options.workers; i++) {
          const child = spawnWorker(bundle, name, env, world.homeAccountId);
          let errors = "";
          child.stderr?.on("data", (chunk: Buffer) => {
            errors = `${errors}${chunk.toString("utf8")}`.slice(-4_000);
          });
          child.on("exit", (code, signal) => {
            if (code !== 0 && signal !== "SIGTERM")
              options.log.error("a worker process stopped", { function: name, code, signal, errors });
          });
          children.push(child);
        }
      }
    } else {
      for (const name of names) {
        pollers.push(
          runStageWorker(name, {
            env: process.env,
            signal: controller.signal,
            log: options.log,
            accountId: world.homeAccountId,
            ...(options.functionTimeoutSeconds?.[name] === undefined
              ? {}
              : { functionTimeoutSeconds: options.functionTimeoutSeconds[name] }),
          }),
        );
      }
    }

    const started = server;
    const stageQueueUrls = [queues.alert, queues.investigation, queues.notification];
    const waiting = () =>
      [...sandbox.state.queues.values()]
        .filter((q) => stageQueueUrls.includes(q.url))
        .reduce((sum, q) => sum + q.messages.length, 0);
    return {
      sandbox,
      world,
      server: started,
      queues,
      env,
      async drained({ quietMs = 2_000, timeoutMs = 600_000 } = {}) {
        const deadline = Date.now() + timeoutMs;
        let quietSince: number | undefined;
        for (;;) {
          await started.queue.drain();
          const empty = waiting() === 0;
          if (!empty) quietSince = undefined;
          else quietSince ??= Date.now();
          if (quietSince !== undefined && Date.now() - quietSince >= quietMs) return 0;
          if (Date.now() > deadline) return waiting();
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      deadLettered() {
        const urls = Object.values(queues.deadLetter);
        return [...sandbox.state.queues.values()]
          .filter((q) => urls.includes(q.url))
          .reduce((sum, q) => sum + q.messages.length, 0);
      },
      async close() {
        controller.abort();
        for (const child of children) child.kill("SIGTERM");
        await Promise.all([
          ...pollers.map((p) => p.catch(() => undefined)),
          ...children.map(
            (child) =>
              new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r()))),
          ),
        ]);
        if (bundle) await rm(bundle, { force: true });
        await started.close();
        sqs.destroy();
        await sandbox.stop();
      },
    };
  } catch (error: unknown) {
    controller.abort();
    for (const child of children) child.kill("SIGTERM");
    if (bundle) await rm(bundle, { force: true });
    await server?.close();
    await sandbox.stop();
    throw error;
  }
}
