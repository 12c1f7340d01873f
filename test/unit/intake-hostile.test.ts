/**
 * The intake under hostile input (issue 7, part 3): a named corpus of bad requests, each with the
 * answer it must get, then a bounded fuzz run of 100,000 generated requests. Whatever comes in:
 * no crash, nothing queued from unsigned or malformed input, a 4xx with a short body, no prototype
 * touched.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadIntakeConfig } from "../../src/config.js";
import type { AlertJob } from "../../src/domain/alert-job.js";
import { handleWebhook, type IntakeDeps, type WebhookRequest } from "../../src/intake/intake.js";
import { MemoryLog } from "../../src/logger.js";
import type { JobQueue } from "../../src/ports.js";
import { delivery, secretScanningAlert, signBody } from "../fixtures/webhooks.js";

const SECRET = randomBytes(24).toString("hex");
const OLD_SECRET = randomBytes(24).toString("hex");

class CountingQueue implements JobQueue {
  readonly jobs: AlertJob[] = [];
  async send(job: AlertJob) {
    this.jobs.push(job);
    return { messageId: String(this.jobs.length) };
  }
}

function setup() {
  const queue = new CountingQueue();
  const deps: IntakeDeps = {
    config: loadIntakeConfig({ GITHUB_WEBHOOK_SECRET: SECRET, MAX_WEBHOOK_BODY_BYTES: "65536" }),
    queue,
    log: new MemoryLog(),
    clock: { now: () => new Date("2026-11-26T02:00:00Z") },
  };
  return { queue, deps };
}

/** A signed request with a body of our choosing (the signature is right; the content is hostile). */
function signed(body: string | Buffer, headers: Record<string, string | undefined> = {}): WebhookRequest {
  return delivery(Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"), { secret: SECRET, headers });
}

const alert = () => secretScanningAlert({ repository: "acme/api", number: 7 });
const json = (value: unknown) => JSON.stringify(value);

const CORPUS: Array<{ name: string; request: () => WebhookRequest; status: number }> = [
  { name: "no signature header", request: () => delivery(alert()), status: 401 },
  {
    name: "empty signature",
    request: () => delivery(alert(), { headers: { "x-hub-signature-256": "" } }),
    status: 401,
  },
  {
    name: "sha1 signature only",
    request: () => delivery(alert(), { headers: { "x-hub-signature": "sha1=abc" } }),
    status: 401,
  },
  {
    name: "sha1 prefix in the sha256 header",
    request: () => delivery(alert(), { headers: { "x-hub-signature-256": `sha1=${"a".repeat(40)}` } }),
    status: 401,
  },
  {
    name: "signature of another body",
    request: () => delivery(alert(), { headers: { "x-hub-signature-256": signBody("{}", SECRET) } }),
    status: 401,
  },
  {
    name: "signature with a secret that was never ours",
    request: () => delivery(alert(), { secret: OLD_SECRET }),
    status: 401,
  },
  {
    name: "truncated signature",
    request: () => {
      const r = delivery(alert(), { secret: SECRET });
      return {
        ...r,
        headers: {
          ...r.headers,
          "x-hub-signature-256": String(r.headers["x-hub-signature-256"]).slice(0, 40),
        },
      };
    },
    status: 401,
  },
  {
    name: "signature with trailing junk",
    request: () => {
      const r = delivery(alert(), { secret: SECRET });
      return {
        ...r,
        headers: { ...r.headers, "x-hub-signature-256": `${String(r.headers["x-hub-signature-256"])}00` },
      };
    },
    status: 401,
  },
  {
    name: "uppercase hex signature of a changed body",
    request: () => delivery(alert(), { headers: { "x-hub-signature-256": `sha256=${"F".repeat(64)}` } }),
    status: 401,
  },
  {
    name: "non-hex signature",
    request: () => delivery(alert(), { headers: { "x-hub-signature-256": `sha256=${"z".repeat(64)}` } }),
    status: 401,
  },
  {
    name: "two signature headers (joined by the proxy)",
    request: () => {
      const r = delivery(alert(), { secret: SECRET });
      return {
        ...r,
        headers: {
          ...r.headers,
          "x-hub-signature-256": `${String(r.headers["x-hub-signature-256"])}, sha256=00`,
        },
      };
    },
    status: 401,
  },
  {
    name: "body changed by one byte after signing",
    request: () => {
      const r = delivery(alert(), { secret: SECRET });
      r.body[10] = (r.body[10] ?? 0) ^ 1;
      return r;
    },
    status: 401,
  },
  { name: "GET", request: () => delivery(alert(), { secret: SECRET, method: "GET" }), status: 405 },
  { name: "PUT", request: () => delivery(alert(), { secret: SECRET, method: "PUT" }), status: 405 },
  { name: "DELETE", request: () => delivery(alert(), { secret: SECRET, method: "DELETE" }), status: 405 },
  { name: "OPTIONS", request: () => delivery(alert(), { secret: SECRET, method: "OPTIONS" }), status: 405 },
  { name: "oversize body (unsigned)", request: () => delivery(Buffer.alloc(70_000, 0x7b)), status: 413 },
  { name: "oversize body (signed)", request: () => signed(Buffer.alloc(70_000, 0x20)), status: 413 },
  { name: "malformed JSON", request: () => signed('{"action":'), status: 400 },
  { name: "JSON array", request: () => signed("[1,2,3]"), status: 422 },
  { name: "JSON string", request: () => signed('"hello"'), status: 422 },
  { name: "JSON null", request: () => signed("null"), status: 422 },
  { name: "deep nesting", request: () => signed(`${"[".repeat(20_000)}${"]".repeat(20_000)}`), status: 422 },
  { name: "non-UTF-8 bytes", request: () => signed(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), status: 401 },
  // UTF-16 of ASCII is valid UTF-8 (with NULs): it verifies, then fails to parse.
  { name: "UTF-16 body", request: () => signed(Buffer.from(json(alert()), "utf16le")), status: 400 },
  {
    name: "__proto__ pollution keys",
    request: () =>
      signed(
        `{"__proto__":{"polluted":true},"action":"created","alert":{"number":1,"secret_type":"aws_access_key_id","__proto__":{"x":1}},"repository":{"full_name":"acme/api"}}`,
      ),
    status: 202,
  },
  {
    name: "constructor.prototype keys",
    request: () => signed(`{"constructor":{"prototype":{"polluted":true}},"action":"created"}`),
    status: 422,
  },
  {
    name: "unicode homoglyph owner",
    request: () => signed(json({ ...alert(), repository: { ...alert().repository, full_name: "аcme/api" } })),
    status: 422,
  },
  {
    name: "right-to-left override in repo name",
    request: () =>
      signed(json({ ...alert(), repository: { ...alert().repository, full_name: "acme/\u202eipa" } })),
    status: 422,
  },
  {
    name: "path traversal in repo name",
    request: () =>
      signed(json({ ...alert(), repository: { ...alert().repository, full_name: "../../etc/passwd" } })),
    status: 422,
  },
  {
    name: "huge alert number",
    request: () => signed(json({ ...alert(), alert: { ...alert().alert, number: 1e308 } })),
    status: 422,
  },
  {
    name: "negative alert number",
    request: () => signed(json({ ...alert(), alert: { ...alert().alert, number: -1 } })),
    status: 422,
  },
  {
    name: "fractional alert number",
    request: () => signed(json({ ...alert(), alert: { ...alert().alert, number: 1.5 } })),
    status: 422,
  },
  {
    name: "alert number as a string",
    request: () => signed(json({ ...alert(), alert: { ...alert().alert, number: "7" } })),
    status: 422,
  },
  {
    name: "huge installation id",
    request: () => signed(json({ ...alert(), installation: { id: 2 ** 80 } })),
    status: 422,
  },
  {
    name: "form-encoded body",
    request: () =>
      signed(`payload=${encodeURIComponent(json(alert()))}`, {
        "content-type": "application/x-www-form-urlencoded",
      }),
    status: 202,
  },
  {
    name: "missing event header",
    request: () => signed(json(alert()), { "x-github-event": undefined }),
    status: 400,
  },
  {
    name: "missing delivery header",
    request: () => signed(json(alert()), { "x-github-delivery": undefined }),
    status: 400,
  },
  {
    name: "hostile delivery id",
    request: () => signed(json(alert()), { "x-github-delivery": "../../<script>" }),
    status: 400,
  },
  {
    name: "hostile event name",
    request: () => signed(json(alert()), { "x-github-event": "secret_scanning_alert\r\nx-evil: 1" }),
    status: 400,
  },
  { name: "empty body", request: () => delivery(Buffer.alloc(0)), status: 401 },
  // An empty payload is never verified (nor is it by @octokit/webhooks): refused as unverifiable.
  { name: "empty signed body", request: () => signed(Buffer.alloc(0)), status: 401 },
];

describe("the intake against a corpus of hostile requests", () => {
  it(`answers each of the ${CORPUS.length} with its status, a short body, and queues nothing it should not`, async () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
    const outcomes: string[] = [];
    for (const entry of CORPUS) {
      const { queue, deps } = setup();
      const response = await handleWebhook(entry.request(), deps);
      const body = String(response.body);
      outcomes.push(`${entry.name}: ${response.status}`);
      expect(response.status, `${entry.name}: ${body}`).toBe(entry.status);
      expect(body.length, entry.name).toBeLessThan(300);
      expect(body, entry.name).not.toMatch(/at .*\.(ts|js):\d+/);
      if (entry.status !== 202) expect(queue.jobs, entry.name).toHaveLength(0);
    }
    // The pollution attempt was queued as a normal alert, and no prototype was touched.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(outcomes).toHaveLength(CORPUS.length);
  });
});

describe("the intake under a fuzz run", () => {
  it("100,000 generated requests: no crash, nothing queued, every answer a short 4xx", async () => {
    const { queue, deps } = setup();
    let seed = 0x2f6b_3a1d;
    const next = () => {
      // xorshift32: fast and reproducible (the seed is fixed, a failure replays).
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const pick = <T>(items: readonly T[]): T => items[next() % items.length] as T;
    const template = Buffer.from(json(alert()));
    const methods = ["POST", "POST", "POST", "GET", "PUT", "PATCH", "post", ""];
    const events = [
      "secret_scanning_alert",
      "ping",
      "push",
      "",
      "secret_scanning_alert_location",
      "x".repeat(200),
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 100_000; i++) {
      let body: Buffer;
      switch (next() % 4) {
        case 0:
          body = Buffer.from(Array.from({ length: next() % 64 }, () => next() % 256));
          break;
        case 1: {
          body = Buffer.from(template);
          for (let k = 0; k < 1 + (next() % 4); k++) body[next() % body.length] = next() % 256;
          break;
        }
        case 2:
          body = Buffer.from(`{"action":"${pick(["created", "reopened", "validated"])}","n":${next()}}`);
          break;
        default:
          body = template;
      }
      const signature = pick([
        undefined,
        `sha256=${next().toString(16).padStart(64, "0")}`,
        signBody(body, OLD_SECRET),
        "sha256=",
        `sha1=${next().toString(16)}`,
      ]);
      const request: WebhookRequest = {
        method: pick(methods),
        headers: {
          "content-type": pick(["application/json", "text/plain", "", "application/x-www-form-urlencoded"]),
          "x-github-event": pick(events),
          "x-github-delivery": pick([`d-${next()}`, "", "../x"]),
          ...(signature === undefined ? {} : { "x-hub-signature-256": signature }),
        },
        body,
      };
      const response = await handleWebhook(request, deps);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status < 400 || response.status >= 500 || String(response.body).length > 300) {
        throw new Error(`request ${i} answered ${response.status}: ${String(response.body)}`);
      }
    }
    expect(queue.jobs).toHaveLength(0);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(100_000);
    expect(statuses.get(401)).toBeGreaterThan(50_000);
  }, 120_000);
});
