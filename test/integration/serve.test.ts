/**
 * The local server over real HTTP: `startLocalServer` in-process, and `leak-responder serve --sandbox`
 * as a person runs it (a child process, its URL read from stdout, stopped with SIGTERM).
 */
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { dirname, resolve } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryJobQueue } from "../../src/adapters/local/memory-queue.js";
import { main } from "../../src/cli/main.js";
import { type LocalServer, startLocalServer } from "../../src/cli/serve.js";
import { loadIntakeConfig } from "../../src/config.js";
import type { AlertJob } from "../../src/domain/alert-job.js";
import { MemoryLog } from "../../src/logger.js";
import { delivery, formDelivery, ping, secretScanningAlert } from "../fixtures/webhooks.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SECRET = randomBytes(24).toString("hex");
const MAX_BODY = 16_384;

/** POSTs a fixture delivery to the server exactly as GitHub would. */
async function post(
  url: string,
  request: ReturnType<typeof delivery>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (typeof value === "string") headers[name] = value;
  const response = await fetch(url, { method: request.method, headers, body: request.body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** An error body a person or GitHub's delivery log shows: short JSON, no stack, no internals. */
function expectShortError(json: Record<string, unknown>): void {
  expect(typeof json.error).toBe("string");
  const text = JSON.stringify(json);
  expect(text.length).toBeLessThan(300);
  expect(text).not.toMatch(/\bat .+:\d+:\d+|Error:|node_modules|\.ts\b/);
}

describe("startLocalServer", () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(options: Partial<Parameters<typeof startLocalServer>[0]> = {}) {
    const jobs: AlertJob[] = [];
    const log = new MemoryLog();
    server = await startLocalServer({
      config: loadIntakeConfig({ GITHUB_WEBHOOK_SECRET: SECRET, MAX_WEBHOOK_BODY_BYTES: String(MAX_BODY) }),
      log,
      onJob: async (job) => {
        jobs.push(job);
      },
      ...options,
    });
    return { server, jobs, log };
  }

  it("queues a signed created alert and hands the job to the consumer", async () => {
    const { server, jobs } = await start();
    expect(server.webhookUrl).toBe(`${server.url}/webhooks/github`);
    const deliveryId = randomUUID();
    const payload = secretScanningAlert({
      repository: "Octo-Org/payments-api",
      number: 42,
      installationId: 7001,
    });

    const response = await post(server.webhookUrl, delivery(payload, { secret: SECRET, deliveryId }));
    expect(response).toEqual({
      status: 202,
      json: { status: "queued", incident: "gh__octo-org__payments-api__42" },
    });

    await server.queue.drain();
    expect(jobs).toEqual([
      {
        version: 1,
        incidentId: "gh__octo-org__payments-api__42",
        deliveryId,
        repository: "Octo-Org/payments-api",
        alertNumber: 42,
        action: "created",
        secretType: "aws_access_key_id",
        receivedAt: expect.any(String),
        installationId: 7001,
        repositoryVisibility: "private",
      },
    ]);
    expect(Number.isNaN(Date.parse(jobs[0]?.receivedAt ?? ""))).toBe(false);
  });

  it("queues a signed form-encoded delivery (GitHub's default content type) over real HTTP", async () => {
    const { server, jobs } = await start();
    const payload = secretScanningAlert({ repository: "octo_emu/payments-api", number: 5 });
    const response = await post(server.webhookUrl, formDelivery(payload, { secret: SECRET }));
    expect(response).toEqual({
      status: 202,
      json: { status: "queued", incident: "gh__octo_emu__payments-api__5" },
    });
    await server.queue.drain();
    expect(jobs.map((job) => job.repository)).toEqual(["octo_emu/payments-api"]);
  });

  it("answers every bad request with its status and hands nothing to the consumer", async () => {
    const { server, jobs } = await start();
    const url = server.webhookUrl;
    const alert = secretScanningAlert();

    const unsigned = await post(url, delivery(alert, { secret: undefined }));
    expect(unsigned.status).toBe(401);
    expectShortError(unsigned.json);

    const wrongSecret = await post(url, delivery(alert, { secret: `${SECRET}-not` }));
    expect(wrongSecret.status).toBe(401);
    expectShortError(wrongSecret.json);

    // GET cannot carry a body through fetch: sent with GitHub's headers and nothing else.
    const signedGet = delivery(alert, { secret: SECRET });
    const getHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(signedGet.headers))
      if (typeof value === "string") getHeaders[name] = value;
    const get = await fetch(url, { method: "GET", headers: getHeaders });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expectShortError((await get.json()) as Record<string, unknown>);

    const put = await post(url, delivery(alert, { secret: SECRET, method: "PUT" }));
    expect(put.status).toBe(405);
    expectShortError(put.json);

    const malformed = await post(url, delivery(Buffer.from('{"action": "created", '), { secret: SECRET }));
    expect(malformed).toEqual({ status: 400, json: { error: "malformed JSON" } });

    const { repository: _dropped, ...withoutRepository } = secretScanningAlert();
    const wrongShape = await post(url, delivery(withoutRepository, { secret: SECRET }));
    expect(wrongShape.status).toBe(422);
    expect(wrongShape.json.error).toBe("unexpected payload shape");
    expectShortError(wrongShape.json);

    const oversized = delivery(secretScanningAlert({ description: "x".repeat(MAX_BODY) }), {
      secret: SECRET,
    });
    expect(oversized.body.length).toBeGreaterThan(MAX_BODY);
    const tooLarge = await post(url, oversized);
    expect(tooLarge).toEqual({ status: 413, json: { error: "payload too large" } });

    await server.queue.drain();
    expect(jobs).toEqual([]);
    expect(server.queue.counts.sent).toBe(0);
  });

  it("answers ping, /healthz and unknown paths", async () => {
    const { server, jobs } = await start();

    const pong = await post(server.webhookUrl, delivery(ping(), { secret: SECRET, event: "ping" }));
    expect(pong).toEqual({ status: 200, json: { status: "pong" } });

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });

    const postHealth = await fetch(`${server.url}/healthz`, { method: "POST", body: "{}" });
    expect(postHealth.status).toBe(405);
    expectShortError((await postHealth.json()) as Record<string, unknown>);

    const nope = await fetch(`${server.url}/nope`);
    expect(nope.status).toBe(404);
    expectShortError((await nope.json()) as Record<string, unknown>);

    await server.queue.drain();
    expect(jobs).toEqual([]);
  });

  it("logs the job when no consumer is plugged in", async () => {
    const log = new MemoryLog();
    // No onJob at all: the server's own fallback consumer logs the job.
    server = await startLocalServer({
      config: loadIntakeConfig({ GITHUB_WEBHOOK_SECRET: SECRET }),
      log,
    });
    const deliveryId = randomUUID();
    const response = await post(
      server.webhookUrl,
      delivery(secretScanningAlert({ repository: "octo-org/api", number: 7 }), {
        secret: SECRET,
        deliveryId,
      }),
    );
    expect(response).toEqual({ status: 202, json: { status: "queued", incident: "gh__octo-org__api__7" } });

    await server.queue.drain();
    const received = log.lines.filter((line) => line.message.includes("job received"));
    expect(received).toHaveLength(1);
    expect(received[0]?.level).toBe("INFO");
    expect(received[0]?.job).toMatchObject({ deliveryId, incidentId: "gh__octo-org__api__7" });
    expect(log.text()).not.toContain(SECRET);
    expect(server.queue.counts).toMatchObject({ received: 1, succeeded: 1, failed: 0 });
  });

  it("redelivers a job whose consumer fails, then dead-letters it", async () => {
    const queue = new MemoryJobQueue({ maxReceiveCount: 3, retryDelayMs: () => 5 });
    const receives: number[] = [];
    const { server, log } = await start({
      queue,
      onJob: async (_job, received) => {
        receives.push(received.receiveCount);
        throw new Error("consumer down for maintenance");
      },
    });
    const deliveryId = randomUUID();
    const response = await post(
      server.webhookUrl,
      delivery(secretScanningAlert({ repository: "octo-org/api", number: 9 }), {
        secret: SECRET,
        deliveryId,
      }),
    );
    expect(response).toEqual({ status: 202, json: { status: "queued", incident: "gh__octo-org__api__9" } });

    await server.queue.drain();
    expect(server.queue).toBe(queue);
    expect(receives).toEqual([1, 2, 3]);
    expect(queue.counts).toMatchObject({
      received: 3,
      failed: 3,
      succeeded: 0,
      deadLettered: 1,
      retrying: 0,
    });
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deadLetters[0]).toMatchObject({
      receiveCount: 3,
      error: "consumer down for maintenance",
      job: { deliveryId, incidentId: "gh__octo-org__api__9" },
    });
    expect(log.text()).not.toContain(SECRET);
  });

  it("close waits for the job in flight and stops listening", async () => {
    let started!: () => void;
    const consumerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    let finished = false;
    const { server } = await start({
      onJob: async () => {
        started();
        await new Promise((resolve) => setTimeout(resolve, 150));
        finished = true;
      },
    });
    const response = await post(server.webhookUrl, delivery(secretScanningAlert(), { secret: SECRET }));
    expect(response.status).toBe(202);
    await consumerStarted;
    expect(finished).toBe(false);

    const before = Date.now();
    await server.close();
    expect(finished).toBe(true);
    expect(Date.now() - before).toBeGreaterThanOrEqual(100);
    expect(server.queue.counts).toMatchObject({ succeeded: 1, inFlight: 0, waiting: 0 });
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

/** Collects a stream's lines as they arrive; `next` waits for the first (old or new) line that matches. */
function watch(stream: Readable) {
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let partial = "";
  let ended = false;
  const wake = (): void => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts.map((line) => line.replace(/\r$/, "")));
    wake();
  });
  stream.on("end", () => {
    if (partial) lines.push(partial);
    partial = "";
    ended = true;
    wake();
  });
  return {
    lines,
    async next(predicate: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(predicate);
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (ended || left <= 0) {
          const why = ended ? "the stream ended" : `${timeoutMs} ms passed`;
          throw new Error(`${what}: ${why} without it; output so far:\n${lines.join("\n")}`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

describe("leak-responder serve (the command)", () => {
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    child = undefined;
  });

  it("prints usage for --help and refuses a bad port or an unknown option", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});

    expect(await main(["serve", "--help"])).toBe(0);
    const usage = log.mock.calls.map((call) => call.join(" ")).join("\n");
    expect(usage).toContain("usage: leak-responder serve [--port N] [--sandbox]");
    expect(usage).toContain("GITHUB_WEBHOOK_SECRET");
    expect(error).not.toHaveBeenCalled();

    expect(await main(["serve", "--port", "70000"])).toBe(2);
    const badPort = error.mock.calls.map((call) => call.join(" ")).join("\n");
    expect(badPort).toContain("--port must be a whole number from 0 to 65535");
    expect(badPort).toContain("usage: leak-responder serve");

    error.mockClear();
    expect(await main(["serve", "--bogus"])).toBe(2);
    const unknown = error.mock.calls.map((call) => call.join(" ")).join("\n");
    expect(unknown).toContain("--bogus");
    expect(unknown).toContain("usage: leak-responder serve");
  });

  it("names GITHUB_WEBHOOK_SECRET when it is not set", async () => {
    const saved = process.env.GITHUB_WEBHOOK_SECRET;
    delete process.env.GITHUB_WEBHOOK_SECRET;
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const code = await main(["serve", "--port", "0"]);
      expect(code).not.toBe(0);
      const printed = error.mock.calls.map((call) => call.join(" ")).join("\n");
      expect(printed).toContain("leak-responder serve: configuration:");
      expect(printed).toContain("GITHUB_WEBHOOK_SECRET");
      expect(printed).not.toMatch(/\n\s+at /);
      // Nothing was started: no "listening on" line.
      expect(log.mock.calls.flat().join("\n")).not.toContain("listening on");
    } finally {
      if (saved === undefined) delete process.env.GITHUB_WEBHOOK_SECRET;
      else process.env.GITHUB_WEBHOOK_SECRET = saved;
    }
  });

  it("serve --sandbox: a signed alert for the seeded repository over real HTTP is contained, and SIGTERM stops it all", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, GITHUB_WEBHOOK_SECRET: SECRET };
    delete env.AWS_PROFILE;
    const spawned = spawn(process.execPath, ["bin/leak-responder.mjs", "serve", "--port", "0", "--sandbox"], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = spawned;
    const exited = new Promise<number | null>((resolve) => spawned.once("exit", (code) => resolve(code)));
    const stdout = watch(spawned.stdout);
    const stderr = watch(spawned.stderr);

    const listening = await stdout
      .next((line) => line.includes("listening on "), 60_000, "the listening line")
      .catch((error: unknown) => {
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}\nstderr:\n${stderr.lines.join("\n")}`,
        );
      });
    const url = /listening on (http:\/\/\S+)/.exec(listening)?.[1] ?? "";
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const postLine = await stdout.next((line) => line.includes(": POST "), 5_000, "the POST line");
    expect(postLine).toBe(`leak-responder serve: POST ${url}/webhooks/github  (Ctrl-C to stop)`);
    // The secret came from the environment: no generated one.
    expect(stdout.lines.join("\n")).not.toContain("a generated one is in use");

    const sandboxLine = await stdout.next((line) => line.includes("sandbox at "), 1_000, "the sandbox line");
    const sandboxUrl = /sandbox at (http:\/\/\S+)/.exec(sandboxLine)?.[1] ?? "";
    expect(sandboxUrl).toMatch(/^http:\/\/\S+:\d+$/);

    // serve --sandbox seeds the demo's world and runs the playbook on what it queues.
    const seeded = /seeded (\S+) alert #(\d+) \(installation (\d+);/.exec(stdout.lines.join("\n"));
    expect(seeded).not.toBeNull();
    const [, repository = "", alertNumber = "0", installationId = "0"] = seeded ?? [];
    const deliveryId = randomUUID();
    const payload = secretScanningAlert({
      repository,
      number: Number(alertNumber),
      installationId: Number(installationId),
    });
    const incidentId = `gh__${repository.replace("/", "__")}__${alertNumber}`;
    const response = await post(`${url}/webhooks/github`, delivery(payload, { secret: SECRET, deliveryId }));
    expect(response).toEqual({ status: 202, json: { status: "queued", incident: incidentId } });

    const outcome = await stdout
      .next((line) => line.includes(`${incidentId}: `), 20_000, "the incident line")
      .catch((error: unknown) => {
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}\nstderr:\n${stderr.lines.join("\n")}`,
        );
      });
    expect(outcome).toContain(`${incidentId}: contained:`);
    expect(outcome).toMatch(/is deactivated and its sessions are revoked/);

    // Nothing secret reached the terminal.
    expect(stdout.lines.join("\n")).not.toContain(SECRET);
    expect(stderr.lines.join("\n")).not.toContain(SECRET);

    // The sandbox lives as long as serve does.
    const sandboxAnswer = await fetch(`${sandboxUrl}/github/repos/${repository}`);
    expect(sandboxAnswer.status).toBeGreaterThanOrEqual(200);

    spawned.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout.lines.join("\n")).toContain("stopped (SIGTERM)");
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    await expect(fetch(`${sandboxUrl}/github/repos/${repository}`)).rejects.toThrow();
  }, 90_000);

  it("serve --sandbox: the printed lines (generated secret, signed curl) send the seeded alert and it is contained", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.AWS_PROFILE;
    delete env.GITHUB_WEBHOOK_SECRET;
    const spawned = spawn(process.execPath, ["bin/leak-responder.mjs", "serve", "--port", "0", "--sandbox"], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = spawned;
    const stdout = watch(spawned.stdout);
    await stdout.next((line) => line.startsWith("  curl "), 60_000, "the curl line");
    const exportLine = stdout.lines.find((line) => line.startsWith("  export GITHUB_WEBHOOK_SECRET="));
    expect(exportLine).toBeDefined();
    const script = stdout.lines
      .filter((line) => line.startsWith("  export ") || line.startsWith("  curl "))
      .map((line) => line.trim())
      .join("\n");
    const sent = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 20_000 });
    expect(sent.stderr).toBe("");
    expect(sent.stdout.trim()).toBe("202");
    const outcome = await stdout.next((line) => /: gh__\S+: /.test(line), 20_000, "the incident line");
    expect(outcome).toMatch(/: contained: .* is deactivated and its sessions are revoked/);
    spawned.kill("SIGTERM");
  }, 90_000);
});
