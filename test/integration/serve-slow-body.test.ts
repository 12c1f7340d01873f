/**
 * The local server against slow and broken bodies (issue 7, part 3, "Hostile input"), over real
 * sockets: what `handleWebhook` never sees because the transport must deal with it first. In AWS,
 * API Gateway buffers the body; `leak-responder serve` faces the client itself. Whatever the client
 * does: a short 408/413/400 or a closed connection within a bounded time, nothing queued from a body
 * that did not arrive whole, no crash, no unhandled rejection, and other clients still answered.
 *
 * The in-process corpus is test/unit/intake-hostile.test.ts; these cases only exist over a socket.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { connect, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, type ServerLimits, startLocalServer } from "../../src/cli/serve.js";
import { loadIntakeConfig } from "../../src/config.js";
import type { AlertJob } from "../../src/domain/alert-job.js";
import type { WebhookRequest } from "../../src/intake/intake.js";
import { MemoryLog } from "../../src/logger.js";
import { delivery, secretScanningAlert, signBody } from "../fixtures/webhooks.js";

const SECRET = randomBytes(24).toString("hex");
const MAX_BODY = 16_384;
/** Small deadlines keep the file fast; the defaults are seconds (DEFAULT_SERVER_LIMITS). */
const LIMITS: ServerLimits = {
  headersTimeoutMs: 400,
  bodyTimeoutMs: 400,
  keepAliveTimeoutMs: 400,
  maxHeadersCount: 100,
};
/** Generous slack over a deadline: these tests check that a bound exists, not how tight it is. */
const SLACK_MS = 1_500;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
});

interface Raw {
  socket: Socket;
  /** Everything the server has sent so far. */
  text(): string;
  /** Resolves when the server closes (or resets) the connection, with the time since connecting. */
  closed: Promise<{ text: string; ms: number }>;
  /** Writes one byte every `everyMs` from `bytes` until they run out or the connection closes. */
  trickle(bytes: Buffer, everyMs: number, chunk?: number): void;
}

/** A client that speaks HTTP by hand, so it can stop, stall or lie where fetch would not. */
async function openRaw(url: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  const socket = connect(Number(port), hostname);
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    received += chunk;
  });
  // The server may reset a connection it has given up on: that is an outcome here, not a failure.
  socket.on("error", () => {});
  const closed = new Promise<{ text: string; ms: number }>((resolve) =>
    socket.once("close", () => resolve({ text: received, ms: Date.now() - started })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let timer: NodeJS.Timeout | undefined;
  socket.once("close", () => clearInterval(timer));
  return {
    socket,
    text: () => received,
    closed,
    trickle(bytes, everyMs, chunk = 1) {
      let offset = 0;
      timer = setInterval(() => {
        if (offset >= bytes.length || socket.destroyed || !socket.writable) return clearInterval(timer);
        socket.write(bytes.subarray(offset, offset + chunk));
        offset += chunk;
      }, everyMs);
    },
  };
}

/** The request line and headers of a delivery as GitHub sends them, with the framing of our choosing. */
function head(
  request: WebhookRequest,
  framing: { contentLength?: number; chunked?: boolean; connection?: "close" } = {},
): string {
  const lines = ["POST /webhooks/github HTTP/1.1", "Host: 127.0.0.1"];
  for (const [name, value] of Object.entries(request.headers))
    if (typeof value === "string") lines.push(`${name}: ${value}`);
  if (framing.contentLength !== undefined) lines.push(`Content-Length: ${framing.contentLength}`);
  if (framing.chunked) lines.push("Transfer-Encoding: chunked");
  if (framing.connection) lines.push(`Connection: ${framing.connection}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

function chunked(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += size) {
    const part = body.subarray(offset, offset + size);
    parts.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(parts);
}

/** The status of every response in what the server sent (pipelined answers come one after another). */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
}

function signedAlert(deliveryId = randomUUID()): WebhookRequest {
  return delivery(secretScanningAlert({ repository: "octo-org/payments-api", number: 42 }), {
    secret: SECRET,
    deliveryId,
  });
}

async function postWithFetch(url: string, request: WebhookRequest): Promise<number> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (typeof value === "string") headers[name] = value;
  const response = await fetch(url, { method: "POST", headers, body: request.body });
  await response.arrayBuffer();
  return response.status;
}

describe("startLocalServer: slow and broken bodies", () => {
  let server: LocalServer | undefined;
  const opened: Raw[] = [];
  afterEach(async () => {
    for (const raw of opened.splice(0)) raw.socket.destroy();
    await server?.close();
    server = undefined;
    expect(unhandled).toEqual([]);
  });

  async function start(limits: Partial<ServerLimits> = LIMITS) {
    const jobs: AlertJob[] = [];
    const log = new MemoryLog();
    server = await startLocalServer({
      config: loadIntakeConfig({ GITHUB_WEBHOOK_SECRET: SECRET, MAX_WEBHOOK_BODY_BYTES: String(MAX_BODY) }),
      log,
      limits,
      onJob: async (job) => {
        jobs.push(job);
      },
    });
    const raw = async (): Promise<Raw> => {
      const client = await openRaw(server?.url ?? "");
      opened.push(client);
      return client;
    };
    return { server, jobs, log, raw };
  }

  /** Nothing reached the queue, and the server still answers a valid delivery at once. */
  async function expectNothingQueuedAndStillServing(
    running: LocalServer,
    jobs: AlertJob[],
    log: MemoryLog,
  ): Promise<void> {
    await running.queue.drain();
    expect(jobs).toEqual([]);
    expect(running.queue.counts.sent).toBe(0);
    const deliveryId = randomUUID();
    expect(await postWithFetch(running.webhookUrl, signedAlert(deliveryId))).toBe(202);
    await running.queue.drain();
    expect(jobs.map((job) => job.deliveryId)).toEqual([deliveryId]);
    expect(log.lines.filter((line) => line.level === "ERROR")).toEqual([]);
    expect(log.text()).not.toContain(SECRET);
  }

  it("a body that stops arriving gets a short 408 and a closed connection at the body deadline", async () => {
    const { server, jobs, log, raw } = await start();
    const request = signedAlert();
    const client = await raw();
    client.socket.write(head(request, { contentLength: request.body.length }));
    client.socket.write(request.body.subarray(0, request.body.length / 2));

    const { text, ms } = await client.closed;
    expect(statuses(text)).toEqual([408]);
    expect(text.toLowerCase()).toContain("connection: close");
    expect(text).toContain('{"error":"request body not received in time"}');
    expect(ms).toBeLessThan(LIMITS.bodyTimeoutMs + SLACK_MS);
    expect(log.lines.some((line) => line.message === "webhook refused: body not received in time")).toBe(
      true,
    );
    // Half a signed body was never checked against the signature, let alone parsed.
    expect(log.lines.some((line) => line.message.includes("signature"))).toBe(false);
    await expectNothingQueuedAndStillServing(server, jobs, log);
  });

  it("a slow POST that keeps trickling is cut off at the deadline: the deadline is for the whole body", async () => {
    const { server, jobs, log, raw } = await start();
    const request = signedAlert();
    const client = await raw();
    client.socket.write(head(request, { contentLength: request.body.length }));
    // Never idle for long and it would finish in about 4 s: only a total deadline stops it.
    client.trickle(request.body, 20, Math.ceil(request.body.length / 200));

    const { text, ms } = await client.closed;
    expect([[408], []]).toContainEqual(statuses(text));
    expect(ms).toBeLessThan(LIMITS.bodyTimeoutMs + SLACK_MS);
    await expectNothingQueuedAndStillServing(server, jobs, log);
  });

  it("headers that never end (slowloris) get Node's 408 at the headers deadline", async () => {
    const { server, jobs, log, raw } = await start();
    const client = await raw();
    client.socket.write("POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const lines = Buffer.from(
      Array.from({ length: 200 }, (_, i) => `x-slow-${i}: ${"a".repeat(10)}\r\n`).join(""),
    );
    client.trickle(lines, 20, 8);

    const { text, ms } = await client.closed;
    expect([[408], []]).toContainEqual(statuses(text));
    expect(ms).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS);
    await expectNothingQueuedAndStillServing(server, jobs, log);
  });

  it("a connection that never sends a byte is closed at the headers deadline", async () => {
    const { server, jobs, log, raw } = await start();
    const client = await raw();

    const { text, ms } = await client.closed;
    expect([[408], []]).toContainEqual(statuses(text));
    expect(ms).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS);
    await expectNothingQueuedAndStillServing(server, jobs, log);
  });

  it("a client that goes away mid-body (FIN or reset) queues nothing and crashes nothing", async () => {
    const { server, jobs, log, raw } = await start({ ...LIMITS, bodyTimeoutMs: 5_000 });
    const request = signedAlert();
    const half = request.body.subarray(0, request.body.length - 10);

    const finishes = await raw();
    finishes.socket.write(head(request, { contentLength: request.body.length }));
    finishes.socket.write(half);
    const resets = await raw();
    resets.socket.write(head(request, { contentLength: request.body.length }));
    resets.socket.write(half);
    // Let the server start reading both bodies before the clients leave.
    await new Promise((resolve) => setTimeout(resolve, 100));
    finishes.socket.end();
    resets.socket.resetAndDestroy();

    // Long before the 5 s body deadline: the server noticed the clients leave.
    const { text, ms } = await finishes.closed;
    expect(ms).toBeLessThan(2_000);
    expect(statuses(text).every((status) => status === 400)).toBe(true);
    const dropped = () =>
      log.lines.filter((line) => line.message === "webhook dropped: client went away before the body ended");
    for (let waited = 0; dropped().length < 2 && waited < 2_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(dropped()).toHaveLength(2);
    await expectNothingQueuedAndStillServing(server, jobs, log);
  });

  it("a declared Content-Length over the limit gets 413 before a byte of the body is sent", async () => {
    const { server, jobs, log, raw } = await start({ ...LIMITS, bodyTimeoutMs: 5_000 });
    const request = signedAlert();
    const client = await raw();
    client.socket.write(head(request, { contentLength: MAX_BODY + 1 }));

    const { text, ms } = await client.closed;
    expect(statuses(text)).toEqual([413]);
    expect(text).toContain('{"error":"payload too large"}');
    expect(ms).toBeLessThan(2_000);
    expect(log.lines.some((line) => line.message === "webhook refused: declared body too large")).toBe(true);
    await expectNothingQueuedAndStillServing(server, jobs, log);
  });

  it("a chunked body (no Content-Length) is held to the same limit and deadline, and accepted when whole", async () => {
    const { server, jobs, log, raw } = await start();

    const deliveryId = randomUUID();
    const whole = signedAlert(deliveryId);
    const accepted = await raw();
    accepted.socket.write(head(whole, { chunked: true, connection: "close" }));
    accepted.socket.write(chunked(whole.body, 1_000));
    expect(statuses((await accepted.closed).text)).toEqual([202]);
    await server.queue.drain();
    expect(jobs.map((job) => job.deliveryId)).toEqual([deliveryId]);

    // Over the limit with no length declared: found out while reading, drained, refused.
    const big = delivery(secretScanningAlert({ description: "x".repeat(MAX_BODY) }), { secret: SECRET });
    const tooLarge = await raw();
    tooLarge.socket.write(head(big, { chunked: true }));
    tooLarge.socket.write(chunked(big.body, 4_096));
    const refused = await tooLarge.closed;
    expect(statuses(refused.text)).toEqual([413]);
    expect(refused.text).toContain('{"error":"payload too large"}');

    // Chunks that stop coming: the same body deadline.
    const stalls = await raw();
    stalls.socket.write(head(whole, { chunked: true }));
    stalls.socket.write(chunked(whole.body, 1_000).subarray(0, 2_000));
    const stalled = await stalls.closed;
    expect(statuses(stalled.text)).toEqual([408]);
    expect(stalled.ms).toBeLessThan(LIMITS.bodyTimeoutMs + SLACK_MS);

    await server.queue.drain();
    expect(jobs.map((job) => job.deliveryId)).toEqual([deliveryId]);
    expect(log.lines.filter((line) => line.level === "ERROR")).toEqual([]);
  });

  it("Content-Length together with chunked encoding is refused with 400 and never reaches the intake", async () => {
    const { server, jobs, log, raw } = await start();
    const request = signedAlert();
    const client = await raw();
    client.socket.write(head(request, { contentLength: request.body.length, chunked: true }));
    client.socket.write(chunked(request.body, 1_000));

    const { text, ms } = await client.closed;
    expect(statuses(text)).toEqual([400]);
    expect(ms).toBeLessThan(2_000);
    // Refused by the parser: the intake never saw it, so it logged nothing about it.
    expect(log.lines.filter((line) => line.message.startsWith("webhook"))).toEqual([]);
    await expectNothingQueuedAndStillServing(server, jobs, log);
  });

  it("bytes past Content-Length never join the signed body", async () => {
    const { server, jobs, log, raw } = await start();

    // Signed over body + extra, declared as the body alone: the declared bytes fail the signature.
    const request = signedAlert();
    const extra = Buffer.from(',"injected":true}');
    const overSigned: WebhookRequest = {
      ...request,
      headers: {
        ...request.headers,
        "x-hub-signature-256": signBody(Buffer.concat([request.body, extra]), SECRET),
      },
    };
    const lying = await raw();
    lying.socket.write(
      Buffer.concat([
        Buffer.from(head(overSigned, { contentLength: request.body.length })),
        request.body,
        extra,
      ]),
    );
    const refused = await lying.closed;
    // The extra bytes are read as the next request on the connection: not HTTP, so 400 and closed.
    expect(statuses(refused.text)).toContain(400);
    await server.queue.drain();
    expect(jobs).toEqual([]);

    // A correctly signed body with a second request behind it: each is judged on its own bytes.
    const deliveryId = randomUUID();
    const signed = signedAlert(deliveryId);
    const unsigned = delivery(secretScanningAlert(), {});
    const pipelined = await raw();
    pipelined.socket.write(
      Buffer.concat([
        Buffer.from(head(signed, { contentLength: signed.body.length })),
        signed.body,
        Buffer.from(head(unsigned, { contentLength: unsigned.body.length, connection: "close" })),
        unsigned.body,
      ]),
    );
    expect(statuses((await pipelined.closed).text)).toEqual([202, 401]);
    await server.queue.drain();
    expect(jobs.map((job) => job.deliveryId)).toEqual([deliveryId]);
    expect(log.lines.filter((line) => line.message === "webhook refused: signature")).toHaveLength(2);
  });

  it("200 slow connections open: a valid delivery still gets its 202 at once, and every slow one is let go", async () => {
    const limits = { ...LIMITS, headersTimeoutMs: 2_500, bodyTimeoutMs: 2_500 };
    const { server, jobs, log, raw } = await start(limits);
    const request = signedAlert();
    const slow = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const client = await raw();
        if (i % 2 === 0) {
          // Slow POST: whole headers, then the body a few bytes at a time.
          client.socket.write(head(request, { contentLength: request.body.length }));
          client.trickle(request.body, 100, 4);
        } else {
          // Slowloris: headers that never end.
          client.socket.write("POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n");
          client.trickle(Buffer.from("x-slow: a\r\n".repeat(500)), 100, 4);
        }
        return client;
      }),
    );
    const openedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(slow.every((client) => !client.socket.destroyed)).toBe(true);

    const deliveryId = randomUUID();
    const before = Date.now();
    expect(await postWithFetch(server.webhookUrl, signedAlert(deliveryId))).toBe(202);
    expect(Date.now() - before).toBeLessThan(2_000);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    // The slow ones were still open while the valid one was answered.
    expect(slow.filter((client) => !client.socket.destroyed).length).toBeGreaterThan(150);

    const ends = await Promise.all(slow.map((client) => client.closed));
    expect(Date.now() - openedAt).toBeLessThan(limits.bodyTimeoutMs + limits.headersTimeoutMs + SLACK_MS);
    for (const end of ends) expect([[408], []]).toContainEqual(statuses(end.text));
    // Most slow clients are silent at the moment of the deadline and read their 408.
    expect(ends.filter((end) => statuses(end.text)[0] === 408).length).toBeGreaterThan(100);

    await server.queue.drain();
    expect(jobs.map((job) => job.deliveryId)).toEqual([deliveryId]);
    expect(log.lines.filter((line) => line.level === "ERROR")).toEqual([]);
  });

  it("refuses limits that are not positive whole numbers, naming the option", async () => {
    await expect(
      startLocalServer({
        config: loadIntakeConfig({ GITHUB_WEBHOOK_SECRET: SECRET }),
        limits: { bodyTimeoutMs: 0 },
      }),
    ).rejects.toThrow(/limits\.bodyTimeoutMs/);
  });
});
