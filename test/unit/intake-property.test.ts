/**
 * Random input against the intake: whatever arrives, it answers with a short JSON status and queues
 * nothing it should not (issue acceptance: thousands of random bodies and headers, no crash, no queueing).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadIntakeConfig } from "../../src/config.js";
import { type AlertJob, AlertJobSchema, incidentIdFor } from "../../src/domain/alert-job.js";
import { handleWebhook, type IntakeDeps, type WebhookRequest } from "../../src/intake/intake.js";
import { MemoryLog } from "../../src/logger.js";
import { secretScanningAlert, signBody } from "../fixtures/webhooks.js";

const SECRET = `property-${Math.random().toString(36).slice(2)}`;

function setup() {
  const jobs: AlertJob[] = [];
  const deps: IntakeDeps = {
    config: loadIntakeConfig({ GITHUB_WEBHOOK_SECRET: SECRET, MAX_WEBHOOK_BODY_BYTES: "8192" }),
    queue: {
      send: async (job) => {
        jobs.push(job);
        return { messageId: String(jobs.length) };
      },
    },
    log: new MemoryLog(),
    clock: { now: () => new Date("2026-11-02T09:14:08.000Z") },
  };
  return { deps, jobs };
}

/** Every answer is short JSON with either an error or a status, never a stack. */
function expectWellFormed(response: { status: number; body: string }): Record<string, unknown> {
  expect(response.body.length).toBeLessThan(300);
  const json = JSON.parse(response.body) as Record<string, unknown>;
  expect(typeof json.error === "string" || typeof json.status === "string").toBe(true);
  expect(response.body).not.toMatch(/\bat \S+:\d+/);
  return json;
}

const headerName = fc.oneof(
  fc.constantFrom(
    "x-hub-signature-256",
    "X-Hub-Signature-256",
    "x-hub-signature",
    "x-github-event",
    "X-GitHub-Event",
    "x-github-delivery",
    "content-type",
    "content-length",
  ),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const signatureLike = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^sha256=[0-9a-f]{64}$/),
  fc.stringMatching(/^sha256=[0-9a-fA-F]{0,70}$/),
);
const headerValue = fc.oneof(
  signatureLike,
  fc.constantFrom("secret_scanning_alert", "ping", "application/json", "application/x-www-form-urlencoded"),
  fc.uuid(),
  fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
  fc.constant(undefined),
);
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 8 });
const method = fc.oneof(
  fc.constantFrom("POST", "post", "GET", "PUT", "DELETE", "OPTIONS"),
  fc.string({ maxLength: 10 }),
);
const body = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
  fc.json().map((text) => Buffer.from(text)),
  fc.string({ maxLength: 2048 }).map((text) => Buffer.from(text)),
  fc.integer({ min: 8150, max: 8250 }).map((size) => Buffer.alloc(size, 0x7b)),
);

describe("intake under random input", () => {
  it("answers unsigned or wrongly signed requests with 401/405/413 and queues nothing", async () => {
    const { deps, jobs } = setup();
    await fc.assert(
      fc.asyncProperty(method, headers, body, async (m, h, b) => {
        const response = await handleWebhook({ method: m, headers: h, body: b }, deps);
        expectWellFormed(response);
        expect([401, 405, 413]).toContain(response.status);
        expect(jobs).toHaveLength(0);
      }),
      { numRuns: 3000 },
    );
  });

  it("answers validly signed junk without crashing and queues nothing", async () => {
    const { deps, jobs } = setup();
    const event = fc.oneof(
      fc.constantFrom("secret_scanning_alert", "ping", "push"),
      fc.string({ maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(body, event, fc.option(fc.uuid(), { nil: undefined }), async (b, e, id) => {
        const request: WebhookRequest = {
          method: "POST",
          headers: {
            "x-hub-signature-256": signBody(b, SECRET),
            "x-github-event": e,
            ...(id === undefined ? {} : { "x-github-delivery": id }),
          },
          body: b,
        };
        const response = await handleWebhook(request, deps);
        expectWellFormed(response);
        expect([200, 202, 400, 401, 413, 422]).toContain(response.status);
        expect(jobs).toHaveLength(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("queues a mutated alert only when it still has the required shape, and then exactly its fields", async () => {
    // Random changes at the paths the intake reads, and elsewhere.
    const paths = fc.constantFrom(
      ["action"],
      ["alert"],
      ["alert", "number"],
      ["alert", "secret_type"],
      ["alert", "validity"],
      ["repository"],
      ["repository", "full_name"],
      ["installation"],
      ["installation", "id"],
      ["sender"],
      ["alert", "html_url"],
    );
    const replacement = fc.oneof(
      fc.jsonValue(),
      fc.constant(undefined),
      fc.integer(),
      fc.constantFrom("created", "validated", "aws_access_key_id", "active", "octo/repo", "a/b/c", ""),
    );
    const mutation = fc.array(fc.tuple(paths, replacement), { minLength: 1, maxLength: 3 });
    const seen = { queued: 0, ignored: 0, refused: 0 };

    await fc.assert(
      fc.asyncProperty(mutation, async (changes) => {
        const { deps, jobs } = setup();
        const payload = JSON.parse(JSON.stringify(secretScanningAlert({ number: 17 }))) as Record<
          string,
          unknown
        >;
        for (const [path, value] of changes) setPath(payload, path, value);
        const raw = Buffer.from(JSON.stringify(payload));
        const response = await handleWebhook(
          {
            method: "POST",
            headers: {
              "x-hub-signature-256": signBody(raw, SECRET),
              "x-github-event": "secret_scanning_alert",
              "x-github-delivery": "p-1",
            },
            body: raw,
          },
          deps,
        );
        const json = expectWellFormed(response);
        expect([202, 413, 422]).toContain(response.status);
        if (json.status === "queued") {
          seen.queued += 1;
          expect(jobs).toHaveLength(1);
          const job = AlertJobSchema.parse(jobs[0]);
          const parsed = JSON.parse(raw.toString()) as {
            action: string;
            alert: { number: number; secret_type: string };
            repository: { full_name: string };
          };
          expect(job).toMatchObject({
            deliveryId: "p-1",
            action: parsed.action,
            alertNumber: parsed.alert.number,
            secretType: parsed.alert.secret_type,
            repository: parsed.repository.full_name,
          });
          expect(json.incident).toBe(incidentIdFor(job.repository, job.alertNumber));
        } else {
          if (json.status === "ignored") seen.ignored += 1;
          else seen.refused += 1;
          expect(jobs).toHaveLength(0);
        }
      }),
      { numRuns: 1500 },
    );
    // The property is only worth something if the runs reached every outcome.
    expect(seen.queued).toBeGreaterThan(10);
    expect(seen.ignored).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(10);
  });

  it("refuses a signed alert with any one byte flipped", async () => {
    const { deps, jobs } = setup();
    const raw = Buffer.from(JSON.stringify(secretScanningAlert({ installationId: null })));
    const signature = signBody(raw, SECRET);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: raw.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const tampered = Buffer.from(raw);
        tampered[at] = (tampered[at] ?? 0) ^ xor;
        const response = await handleWebhook(
          {
            method: "POST",
            headers: {
              "x-hub-signature-256": signature,
              "x-github-event": "secret_scanning_alert",
              "x-github-delivery": "t",
            },
            body: tampered,
          },
          deps,
        );
        expect(response.status).toBe(401);
      }),
      { numRuns: 1000 },
    );
    expect(jobs).toHaveLength(0);
  });
});

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node: unknown = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<string, unknown>)[key];
  }
  const last = path[path.length - 1];
  if (last === undefined || typeof node !== "object" || node === null) return;
  if (value === undefined) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}
