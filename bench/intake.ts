/**
 * Intake throughput on one core: `handleWebhook` called in-process, one request at a time, so the
 * figure is the CPU cost of the intake itself (no HTTP, no SQS). Three paths:
 * - a validly signed 4 KiB `secret_scanning_alert` (verify, parse, validate, queue into a no-op queue),
 *   and the same for a full-size alert as GitHub sends it (about 6.5 KB);
 * - unsigned junk (the cheap refusal: no header, no HMAC, nothing parsed);
 * - 4 KiB with a well-formed but wrong signature (the HMAC is computed, then nothing is parsed).
 * The rejection paths must stay much cheaper than the accepting one, so a flood of junk cannot cost
 * more than the deliveries it is mixed with.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { loadIntakeConfig } from "../src/config.js";
import { handleWebhook, type IntakeDeps, type WebhookRequest } from "../src/intake/intake.js";
import type { Log } from "../src/logger.js";
import { systemClock } from "../src/ports.js";
import { alertBodyOfSize, secretScanningAlert, signBody } from "../test/fixtures/webhooks.js";

const BODY_BYTES = 4 * 1024;
const WARM_UP_MS = 50;
const WINDOW_MS = 200;

const silent: Log = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  appendKeys: () => {},
  removeKeys: () => {},
};

/**
 * Requests per second for `request`, after checking that it takes the path it is meant to measure.
 * The best of several short windows: on a shared machine the slowest windows measure the neighbours.
 */
async function rate(
  deps: IntakeDeps,
  request: WebhookRequest,
  expectedStatus: number,
  windows: number,
): Promise<number> {
  const first = await handleWebhook(request, deps);
  if (first.status !== expectedStatus) {
    throw new Error(`bench: expected ${expectedStatus}, got ${first.status} ${first.body}`);
  }
  const run = async (ms: number): Promise<number> => {
    const started = performance.now();
    let count = 0;
    let now = started;
    while (now - started < ms) {
      for (let i = 0; i < 200; i++) await handleWebhook(request, deps);
      count += 200;
      now = performance.now();
    }
    return count / ((now - started) / 1000);
  };
  await run(WARM_UP_MS);
  let best = 0;
  for (let i = 0; i < windows; i++) best = Math.max(best, await run(WINDOW_MS));
  return best;
}

export async function benchIntake(): Promise<Record<string, number>> {
  const secret = randomBytes(32).toString("hex");
  const deps: IntakeDeps = {
    config: loadIntakeConfig({ GITHUB_WEBHOOK_SECRET: secret }),
    queue: { send: async () => ({ messageId: "bench" }) },
    log: silent,
    clock: systemClock,
  };
  const body = alertBodyOfSize(BODY_BYTES);
  const headers = {
    "content-type": "application/json",
    "x-github-event": "secret_scanning_alert",
    "x-github-delivery": randomUUID(),
  };
  const signed: WebhookRequest = {
    method: "POST",
    headers: { ...headers, "x-hub-signature-256": signBody(body, secret) },
    body,
  };
  const fullBody = Buffer.from(JSON.stringify(secretScanningAlert()));
  const full: WebhookRequest = {
    method: "POST",
    headers: { ...headers, "x-hub-signature-256": signBody(fullBody, secret) },
    body: fullBody,
  };
  const junk: WebhookRequest = { method: "POST", headers: {}, body: randomBytes(BODY_BYTES) };
  const forged: WebhookRequest = {
    method: "POST",
    headers: { ...headers, "x-hub-signature-256": signBody(body, "not-the-secret") },
    body,
  };

  // Every path once through the JIT before any is timed: otherwise the first one measured pays for it.
  const warmUpUntil = performance.now() + 400;
  while (performance.now() < warmUpUntil) {
    for (const request of [signed, full, junk, forged]) await handleWebhook(request, deps);
  }
  const signedRps = await rate(deps, signed, 202, 3);
  const fullRps = await rate(deps, full, 202, 2);
  const junkRps = await rate(deps, junk, 401, 2);
  const forgedRps = await rate(deps, forged, 401, 2);
  return {
    intake_signed_4kib_rps: Math.round(signedRps),
    intake_signed_full_alert_rps: Math.round(fullRps),
    intake_full_alert_bytes: fullBody.length,
    intake_unsigned_junk_rps: Math.round(junkRps),
    intake_bad_signature_4kib_rps: Math.round(forgedRps),
    /** How many unsigned requests cost as much as one accepted delivery. */
    intake_unsigned_vs_signed_ratio: Math.round((junkRps / signedRps) * 10) / 10,
  };
}
