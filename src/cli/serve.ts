/**
 * `leak-responder serve`: the webhook intake on Node's HTTP server with the in-process queue, for local
 * runs and for GitHub deliveries forwarded to a laptop. The same `handleWebhook` as the Lambda
 * function answers; only the transport differs. `--sandbox` starts the embedded sandbox and points
 * every client in this process at it, so nothing reaches real AWS, GitHub or Slack.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_INCIDENT_DIR } from "../adapters/incident-stores.js";
import { type JobHandler, MemoryJobQueue } from "../adapters/local/memory-queue.js";
import { type IntakeConfig, loadIntakeConfig, loadRespondConfig } from "../config.js";
import { ConfigError, errorMessage } from "../domain/errors.js";
import { handleWebhook, type WebhookResponse } from "../intake/intake.js";
import { createLogger, type Log } from "../logger.js";
import { respondToAlert } from "../playbook/respond.js";
import { type Clock, systemClock } from "../ports.js";
import { createPlaybookDeps } from "../responder.js";
import type { LocalStack } from "./local-stack.js";

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
  /** How long a slow or stalled client may hold a connection; see `DEFAULT_SERVER_LIMITS`. */
  limits?: Partial<ServerLimits>;
}

/**
 * What keeps slow clients (slowloris, slow POST, a body that never ends) from tying the server up.
 * In AWS, API Gateway buffers the whole request before the intake runs; `serve` faces clients itself.
 */
export interface ServerLimits {
  /** From the first byte of a request to the end of its headers; then Node answers 408 and closes. */
  headersTimeoutMs: number;
  /**
   * From the end of the headers to the end of the body; then 408 (413 if it was already too large)
   * and the connection is closed. GitHub gives up on a delivery after 10 s anyway (facts.md).
   */
  bodyTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
  /** Headers beyond this count are dropped (GitHub sends about 15; forwarders add some). */
  maxHeadersCount: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeadersCount: 100,
};

function serverLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new ConfigError(`startLocalServer: limits.${name} must be a positive whole number`);
  }
  return limits;
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

type BodyRead =
  | { outcome: "complete"; body: Buffer }
  /** Over the size limit: buffered no further, drained until the end or the deadline. */
  | { outcome: "too-large"; bytes: number }
  /** The deadline passed before the body ended. */
  | { outcome: "timeout"; bytes: number }
  /** The client went away (or the connection was reset) before the body ended. */
  | { outcome: "aborted"; bytes: number };

/**
 * Reads the body within `deadlineMs`, buffering at most `limit` bytes. Never rejects: every way a
 * body can fail to arrive is an outcome, so a client that vanishes mid-body is neither a crash nor an
 * unhandled rejection. Only a body that ended as declared (`req.complete`) counts as complete, so an
 * incomplete one can never reach the signature check, let alone the queue.
 *
 * An oversized body is drained rather than cut off so the client reads its 413 instead of a reset
 * connection; the deadline bounds how long that can take.
 */
function readBody(req: IncomingMessage, limit: number, deadlineMs: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyRead): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      chunks.length = 0;
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        settle(size > limit ? { outcome: "too-large", bytes: size } : { outcome: "timeout", bytes: size }),
      deadlineMs,
    );
    req.on("data", (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on("end", () => {
      if (size > limit) settle({ outcome: "too-large", bytes: size });
      else if (!req.complete) settle({ outcome: "aborted", bytes: size });
      else settle({ outcome: "complete", body: Buffer.concat(chunks, size) });
    });
    // Listeners stay attached after settling: an 'error' with no listener would throw.
    req.on("error", () => settle({ outcome: "aborted", bytes: size }));
    req.on("close", () => settle({ outcome: "aborted", bytes: size }));
  });
}

/** The declared Content-Length, when there is one (chunked bodies have none). */
function declaredLength(req: IncomingMessage): number | undefined {
  const raw = req.headers["content-length"];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
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
  const limits = serverLimits(options.limits);
  const maxBodyBytes = options.config.maxBodyBytes;

  // Node's own limits are the backstop for what never reaches the handler (headers that never end, a
  // connection that sends nothing); the body deadline in `readBody` answers first, in JSON. Node only
  // looks for expired requests every `connectionsCheckingInterval` (30 s by default): far too coarse.
  const requestTimeout = limits.headersTimeoutMs + limits.bodyTimeoutMs;
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(
        1_000,
        Math.max(10, Math.floor(Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 4)),
      ),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        log.error("local server: request failed", { error: errorMessage(error) });
        if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
        else res.destroy();
      });
    },
  );
  server.maxHeadersCount = limits.maxHeadersCount;
  // A socket silent for this long is destroyed whatever it is doing (Node's default is never).
  server.timeout = requestTimeout;

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
    // After any of these refusals the rest of the request is not worth reading: close the connection.
    const close = { connection: "close" };
    const declared = declaredLength(req);
    if (declared !== undefined && declared > maxBodyBytes) {
      log.warn("webhook refused: declared body too large", { bytes: declared, limit: maxBodyBytes });
      return sendJson(res, 413, { error: "payload too large" }, close);
    }
    const read = await readBody(req, maxBodyBytes, limits.bodyTimeoutMs);
    switch (read.outcome) {
      case "too-large":
        log.warn("webhook refused: body too large", { bytes: read.bytes, limit: maxBodyBytes });
        return sendJson(res, 413, { error: "payload too large" }, close);
      case "timeout":
        log.warn("webhook refused: body not received in time", {
          bytes: read.bytes,
          limitMs: limits.bodyTimeoutMs,
        });
        return sendJson(res, 408, { error: "request body not received in time" }, close);
      case "aborted":
        // Nobody is left to answer; nothing was verified, parsed or queued.
        log.warn("webhook dropped: client went away before the body ended", { bytes: read.bytes });
        return;
      case "complete":
        return send(res, await handleWebhook({ method, headers: req.headers, body: read.body }, deps));
    }
  }

  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new ConfigError(
              `port ${port} is already in use (pick another with --port N, or --port 0 for any free one)`,
            )
          : error,
      );
    server.once("error", refuse);
    server.listen(port, options.host ?? "127.0.0.1", () => {
      server.off("error", refuse);
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
      for (const line of await sendSeededAlertLines(stack, secret)) console.log(line);
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

/**
 * Ready-to-paste shell lines that sign and send the seeded alert to the sandboxed server. A generated
 * secret is a throwaway of this sandbox run and is printed; a secret from the environment never is
 * (the line reads it from $GITHUB_WEBHOOK_SECRET).
 */
async function sendSeededAlertLines(stack: LocalStack, secretFromEnv: string | undefined): Promise<string[]> {
  const { alertPayload } = await import("../../sandbox/github-webhook.js");
  const repo = stack.sandbox.state.repo(stack.world.repository);
  if (!repo) return [];
  const dir = await mkdtemp(join(tmpdir(), "leak-responder-serve-"));
  const file = join(dir, "alert.json");
  await writeFile(file, JSON.stringify(alertPayload(repo, stack.world.leaked.alert.number, "created")));
  return [
    "leak-responder serve: to send the seeded alert, signed, run in another terminal:",
    ...(secretFromEnv
      ? []
      : [
          `  export GITHUB_WEBHOOK_SECRET='${stack.world.webhookSecret}'   # generated for this sandbox run only`,
        ]),
    `  curl -sS -o /dev/null -w '%{http_code}\\n' -X POST '${stack.server.webhookUrl}' -H 'Content-Type: application/json' -H 'X-GitHub-Event: secret_scanning_alert' -H "X-GitHub-Delivery: manual-$(date +%s%N)" -H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac "$GITHUB_WEBHOOK_SECRET" < '${file}' | sed 's/^.* //')" --data-binary @'${file}'`,
  ];
}
