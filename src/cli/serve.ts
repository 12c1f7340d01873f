/**
 * `leak-responder serve`: the webhook intake on Node's HTTP server with the in-process queue, for local
 * runs and for GitHub deliveries forwarded to a laptop. The same `handleWebhook` as the Lambda
 * function answers; only the transport differs. `--sandbox` starts the embedded sandbox and points
 * every client in this process at it, so nothing reaches real AWS, GitHub or Slack.
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { DEFAULT_INCIDENT_DIR } from "../adapters/incident-stores.js";
import { type JobHandler, MemoryJobQueue } from "../adapters/local/memory-queue.js";
import { type IntakeConfig, loadIntakeConfig, loadRespondConfig } from "../config.js";
import { errorMessage } from "../domain/errors.js";
import { handleWebhook, type WebhookResponse } from "../intake/intake.js";
import { createLogger, type Log } from "../logger.js";
import { respondToAlert } from "../playbook/respond.js";
import { type Clock, systemClock } from "../ports.js";
import { createPlaybookDeps } from "../responder.js";

export const WEBHOOK_PATH = "/webhooks/github";
export const HEALTH_PATH = "/healthz";
const DEFAULT_PORT = 3000;

export interface LocalServerOptions {
  config: IntakeConfig;
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1: a laptop's intake is not for the network unless forwarded on purpose. */
  host?: string;
  log?: Log;
  clock?: Clock;
  /** Receives every queued job (the respond playbook plugs in here). Without it, jobs are logged. */
  onJob?: JobHandler;
  /** The in-process queue to use; one with default redelivery settings when absent. */
  queue?: MemoryJobQueue;
}

export interface LocalServer {
  /** Base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Where GitHub (or a forwarder) should POST: `${url}/webhooks/github`. */
  webhookUrl: string;
  queue: MemoryJobQueue;
  /** Stops listening, lets jobs in flight finish, cancels pending redeliveries. */
  close(): Promise<void>;
}

const JSON_TYPE = "application/json; charset=utf-8";

function send(res: ServerResponse, response: WebhookResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

function sendJson(res: ServerResponse, status: number, body: Record<string, string>, headers = {}): void {
  send(res, { status, headers: { "content-type": JSON_TYPE, ...headers }, body: JSON.stringify(body) });
}

/**
 * The body, or undefined when it exceeds the limit. An oversized body is read to the end and dropped
 * (memory stays bounded) so the client gets its 413 instead of a reset connection.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size <= limit) chunks.push(bytes);
  }
  return size > limit ? undefined : Buffer.concat(chunks, size);
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const log = options.log ?? createLogger("serve");
  const clock = options.clock ?? systemClock;
  const queue = options.queue ?? new MemoryJobQueue({ log });
  const onJob: JobHandler =
    options.onJob ??
    (async (job, delivery) => {
      log.info("job received (no consumer configured: logged only)", { job, ...delivery });
    });
  const deps = { config: options.config, queue, log, clock };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error("local server: request failed", { error: errorMessage(error) });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === HEALTH_PATH) {
      req.resume();
      if (method !== "GET" && method !== "HEAD")
        return sendJson(res, 405, { error: "method not allowed" }, { allow: "GET" });
      return sendJson(res, 200, { status: "ok" });
    }
    if (path !== WEBHOOK_PATH) {
      req.resume();
      return sendJson(res, 404, { error: "not found" });
    }
    const body = await readBody(req, options.config.maxBodyBytes);
    if (body === undefined) {
      log.warn("webhook refused: body too large", { limit: options.config.maxBodyBytes });
      return sendJson(res, 413, { error: "payload too large" });
    }
    send(res, await handleWebhook({ method, headers: req.headers, body }, deps));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Only once listening: a server that failed to start leaves the caller's queue without a consumer.
  const stopConsuming = queue.consume(onJob);
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    webhookUrl: `${url}${WEBHOOK_PATH}`,
    queue,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // A request being answered gets a moment to finish; a stuck client does not hold the exit.
        const cutoff = setTimeout(() => server.closeAllConnections(), 1_000);
        await closed;
        clearTimeout(cutoff);
        stopConsuming();
        queue.close();
        await queue.drain();
        const { waiting } = queue.counts;
        if (waiting > 0) log.warn("local server stopped with jobs not handled", { waiting });
      })();
      return closing;
    },
  };
}

const USAGE = [
  "usage: leak-responder serve [--port N] [--sandbox]",
  "",
  "Runs the webhook intake on a local HTTP server: POST /webhooks/github, GET /healthz.",
  "Verified secret_scanning_alert deliveries go on an in-process queue that runs the containment",
  "playbook with the responder's configuration from the environment (see the README).",
  "",
  `  --port N     port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)`,
  "  --sandbox    start the embedded sandbox (AWS, GitHub, Slack), seed the demo's world and point",
  "               every client at it; nothing leaves this machine",
  "  -h, --help   show this help",
  "",
  "Environment:",
  "  GITHUB_WEBHOOK_SECRET            the webhook's secret (required; generated with --sandbox if unset)",
  "  GITHUB_WEBHOOK_SECRET_PREVIOUS   the secret before a rotation, still accepted",
  "  AWS_SECRET_TYPES                 comma-separated secret types to act on (default: the AWS ones)",
  "  MAX_WEBHOOK_BODY_BYTES           larger bodies are refused with 413 (default 262144)",
].join("\n");

function parsePort(raw: string | undefined): number | undefined {
  if (raw === undefined) return DEFAULT_PORT;
  const port = Number(raw);
  return /^\d+$/.test(raw) && port <= 65_535 ? port : undefined;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export const serveCommand = {
  summary: "run the webhook intake on a local HTTP server (--port N, --sandbox)",
  async run(argv: string[]): Promise<number> {
    let values: { port?: string | undefined; sandbox?: boolean | undefined; help?: boolean | undefined };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          port: { type: "string", short: "p" },
          sandbox: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error: unknown) {
      console.error(`leak-responder serve: ${errorMessage(error)}\n\n${USAGE}`);
      return 2;
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const port = parsePort(values.port);
    if (port === undefined) {
      console.error(`leak-responder serve: --port must be a whole number from 0 to 65535\n\n${USAGE}`);
      return 2;
    }

    if (values.sandbox) {
      const { startLocalStack } = await import("./local-stack.js");
      const secret = process.env.GITHUB_WEBHOOK_SECRET?.trim();
      const stack = await startLocalStack({
        log: createLogger("serve"),
        port,
        onResult: ({ incident, duplicate }) =>
          console.log(
            `leak-responder serve: ${incident.id}: ${incident.status}${duplicate ? " (duplicate delivery)" : ""}: ${incident.summary}`,
          ),
        ...(secret ? { env: { GITHUB_WEBHOOK_SECRET: secret } } : {}),
      });
      const { world } = stack;
      console.log(
        `leak-responder serve: sandbox at ${stack.sandbox.url} (AWS, GitHub and Slack clients point there)`,
      );
      console.log(
        `leak-responder serve: seeded ${world.repository} alert #${world.leaked.alert.number} (installation ${world.installationId}; user ${world.leaked.userName} in ${world.leaked.accountId})`,
      );
      if (!secret)
        console.log("leak-responder serve: GITHUB_WEBHOOK_SECRET not set: a generated one is in use");
      console.log(`leak-responder serve: listening on ${stack.server.url}`);
      console.log(`leak-responder serve: POST ${stack.server.webhookUrl}  (Ctrl-C to stop)`);
      const signal = await waitForSignal();
      await stack.close();
      console.log(`leak-responder serve: stopped (${signal})`);
      return 0;
    }

    // Fails fast, naming the variable, before anything is started.
    const config = loadIntakeConfig(process.env);
    const log = createLogger("serve");
    const env: Record<string, string | undefined> = { ...process.env };
    if (!env.INCIDENT_BUCKET && !env.INCIDENT_DIR) env.INCIDENT_DIR = DEFAULT_INCIDENT_DIR;
    const respondConfig = loadRespondConfig(env);
    const deps = createPlaybookDeps(respondConfig, log, env);
    const server = await startLocalServer({
      config,
      port,
      log,
      onJob: async (job, delivery) => {
        const { incident } = await respondToAlert(job, deps, {
          finalAttempt: delivery.receiveCount >= respondConfig.maxReceiveCount,
        });
        log.removeKeys(["incidentId", "deliveryId"]);
        console.log(`leak-responder serve: ${incident.id}: ${incident.status}: ${incident.summary}`);
      },
    });
    console.log(`leak-responder serve: listening on ${server.url}`);
    console.log(`leak-responder serve: POST ${server.webhookUrl}  (Ctrl-C to stop)`);

    const signal = await waitForSignal();
    await server.close();
    console.log(`leak-responder serve: stopped (${signal})`);
    return 0;
  },
};
