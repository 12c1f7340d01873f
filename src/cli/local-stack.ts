/**
 * The whole responder on one machine: the embedded sandbox seeded with the demo's world, this
 * process's environment pointed at it, the intake on a local HTTP server, and the in-process queue
 * driving the respond playbook. `leak-responder demo` and `serve --sandbox` both run on this.
 */
import { startSandbox } from "../../sandbox/index.js";
import { type DemoWorld, type DemoWorldOptions, demoEnv, seedDemoWorld } from "../../sandbox/scenario.js";
import type { Sandbox } from "../../sandbox/server.js";
import { MemoryJobQueue } from "../adapters/local/memory-queue.js";
import { loadIntakeConfig, loadRespondConfig } from "../config.js";
import type { Log } from "../logger.js";
import { type PlaybookDeps, type RespondResult, respondToAlert } from "../playbook/respond.js";
import { createPlaybookDeps, type ResponderOverrides } from "../responder.js";
import { type LocalServer, startLocalServer } from "./serve.js";

export interface LocalStack {
  sandbox: Sandbox;
  world: DemoWorld;
  server: LocalServer;
  deps: PlaybookDeps;
  /** Every playbook result, in the order the queue produced them. */
  results: RespondResult[];
  close(): Promise<void>;
}

/** Variables that would send a client somewhere other than the sandbox (a real profile, say). */
function leadsElsewhere(name: string): boolean {
  return (
    name.startsWith("AWS_ENDPOINT_URL_") ||
    ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "GITHUB_TOKEN", "INCIDENT_DIR"].includes(name)
  );
}

/**
 * Points this process's environment at the sandbox: the SDK clients read their endpoints and
 * credentials from it, as in AWS, and nothing that leads elsewhere may stay.
 */
export function useSandboxEnv(env: Record<string, string>): void {
  for (const name of Object.keys(process.env)) if (leadsElsewhere(name)) delete process.env[name];
  Object.assign(process.env, env);
}

export interface LocalStackOptions {
  log: Log;
  /** The intake's port; 0 (default) picks a free one. */
  port?: number;
  world?: DemoWorldOptions;
  /** Configuration on top of the demo's (RESPONDER_MODE=dry-run, say). */
  env?: Record<string, string>;
  /** Called as each queued alert is handled. */
  onResult?: (result: RespondResult) => void;
  /** Alerts handled at once (the in-process queue's concurrency; Lambda scales out in AWS). */
  concurrency?: number;
  /**
   * Seeds more of the world before the responder is configured (a storm's accounts and alerts, say);
   * returns the configuration that needs (MANAGED_ACCOUNT_IDS for the new accounts, say).
   */
  seed?: (sandbox: Sandbox, world: DemoWorld) => Record<string, string>;
  /** Client timing the tests shorten (GitHub's and Slack's retry delays). */
  responder?: Pick<ResponderOverrides, "githubRetryBaseMs" | "slackRetryMinMs">;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const sandbox = await startSandbox();
  const world = seedDemoWorld(sandbox, options.world);
  const seeded = options.seed?.(sandbox, world) ?? {};
  const env = demoEnv(sandbox, world, { ...seeded, ...options.env });
  useSandboxEnv(env);

  const config = loadRespondConfig(env);
  const deps = createPlaybookDeps(config, options.log, env, options.responder ?? {});
  const queue = new MemoryJobQueue({
    maxReceiveCount: config.maxReceiveCount,
    log: options.log,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const results: RespondResult[] = [];
  const server = await startLocalServer({
    config: loadIntakeConfig(env),
    port: options.port ?? 0,
    log: options.log,
    queue,
    onJob: async (job, delivery) => {
      const result = await respondToAlert(job, deps, {
        finalAttempt: delivery.receiveCount >= config.maxReceiveCount,
      });
      options.log.removeKeys(["incidentId", "deliveryId"]);
      results.push(result);
      options.onResult?.(result);
    },
  }).catch(async (error: unknown) => {
    // A port that is taken: stop the sandbox too, or its open server keeps the process alive.
    await sandbox.stop();
    throw error;
  });
  return {
    sandbox,
    world,
    server,
    deps,
    results,
    async close() {
      await server.close();
      await sandbox.stop();
    },
  };
}
