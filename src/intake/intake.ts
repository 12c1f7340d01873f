/**
 * The webhook intake, independent of transport: the Lambda handler (functions/intake.ts) and the local
 * server (src/cli/serve.ts) both translate their requests into `WebhookRequest` and back.
 *
 * Order matters (design.md: never parse a body before verifying its signature): method, size, the
 * signature header, the signature over the raw bytes; only then the GitHub headers, JSON, shape and
 * triage. An unsigned request costs a header lookup and nothing else. No GitHub or AWS call is made
 * here besides the one queue send, so GitHub's 10 s deadline is never at risk (facts.md).
 */
import type { IntakeConfig } from "../config.js";
import { type AlertJob, AlertJobSchema, incidentIdFor } from "../domain/alert-job.js";
import { errorMessage } from "../domain/errors.js";
import type { Log } from "../logger.js";
import type { Clock, JobQueue } from "../ports.js";
import { triage } from "./triage.js";
import { createSignatureVerifier, type SignatureVerifier } from "./verify-signature.js";
import { DELIVERY_ID, EVENT_NAME } from "./webhook-schema.js";

export type HeaderValue = string | string[] | undefined;

export interface WebhookRequest {
  method: string;
  /** Any case: names are matched case-insensitively (API Gateway lower-cases them, Node too). */
  headers: Readonly<Record<string, HeaderValue>>;
  /** The raw bytes as received: the signature covers exactly these. */
  body: Buffer;
}

export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface IntakeDeps {
  config: IntakeConfig;
  queue: JobQueue;
  log: Log;
  clock: Clock;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

function reply(
  status: number,
  body: Record<string, string>,
  extra: Record<string, string> = {},
): WebhookResponse {
  return { status, headers: { ...JSON_HEADERS, ...extra }, body: JSON.stringify(body) };
}

/**
 * Per-config state built once: verifiers hold an HMAC key per secret and the type list becomes a set.
 * Keyed weakly on the config object, which is loaded once per process (style.md: configuration once).
 */
interface Prepared {
  verifier: SignatureVerifier;
  awsSecretTypes: ReadonlySet<string>;
}
const prepared = new WeakMap<IntakeConfig, Prepared>();

function prepare(config: IntakeConfig): Prepared {
  let entry = prepared.get(config);
  if (!entry) {
    entry = {
      verifier: createSignatureVerifier(config.webhookSecrets),
      awsSecretTypes: new Set(config.awsSecretTypes),
    };
    prepared.set(config, entry);
  }
  return entry;
}

/** The first value of a header, whatever the case of its name. */
export function headerValue(
  headers: Readonly<Record<string, HeaderValue>>,
  name: string,
): string | undefined {
  const direct = headers[name];
  const value =
    direct !== undefined
      ? direct
      : Object.entries(headers).find(
          ([key]) => key.length === name.length && key.toLowerCase() === name,
        )?.[1];
  if (Array.isArray(value)) return value[0];
  return value;
}

export async function handleWebhook(request: WebhookRequest, deps: IntakeDeps): Promise<WebhookResponse> {
  const { config, log } = deps;
  if (request.method.toUpperCase() !== "POST") {
    return reply(405, { error: "method not allowed" }, { allow: "POST" });
  }
  if (request.body.length > config.maxBodyBytes) {
    log.warn("webhook refused: body too large", { bytes: request.body.length, limit: config.maxBodyBytes });
    return reply(413, { error: "payload too large" });
  }

  const { verifier, awsSecretTypes } = prepare(config);
  const verdict = await verifier.verify(request.body, headerValue(request.headers, "x-hub-signature-256"));
  if (!verdict.ok) {
    // The delivery id is not trusted yet: logged only when it is harmless to print.
    const claimed = headerValue(request.headers, "x-github-delivery");
    log.warn("webhook refused: signature", {
      reason: verdict.reason,
      ...(claimed !== undefined && DELIVERY_ID.test(claimed) ? { claimedDeliveryId: claimed } : {}),
    });
    return reply(401, { error: "invalid signature" });
  }

  // Signed by GitHub from here on.
  const deliveryId = headerValue(request.headers, "x-github-delivery");
  const event = headerValue(request.headers, "x-github-event");
  if (deliveryId === undefined || !DELIVERY_ID.test(deliveryId)) {
    log.warn("webhook refused: missing or malformed X-GitHub-Delivery");
    return reply(400, { error: "missing or malformed X-GitHub-Delivery header" });
  }
  const keys = { deliveryId };
  if (event === undefined || !EVENT_NAME.test(event)) {
    log.warn("webhook refused: missing or malformed X-GitHub-Event", keys);
    return reply(400, { error: "missing or malformed X-GitHub-Event header" });
  }
  // GitHub's default content type is the form `payload=<urlencoded JSON>`; the signature above
  // covered the form's raw bytes, so decoding it only now keeps "verify, then parse".
  const contentType = headerValue(request.headers, "content-type");
  let json = verdict.payload;
  if (contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    const field = new URLSearchParams(verdict.payload).get("payload");
    if (field === null) {
      log.warn("webhook refused: form-encoded delivery without a payload field", { ...keys, event });
      return reply(400, { error: "form-encoded delivery without a payload field" });
    }
    json = field;
  }

  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    log.warn("webhook refused: malformed JSON", { ...keys, event });
    return reply(400, { error: "malformed JSON" });
  }

  const decision = triage(event, payload, awsSecretTypes);
  switch (decision.outcome) {
    case "ping":
      log.info("webhook ping", { ...keys, event });
      return reply(200, { status: "pong" });
    case "invalid":
      log.warn("webhook refused: unexpected shape", { ...keys, event, reason: decision.reason });
      return reply(422, { error: "unexpected payload shape", detail: decision.reason });
    case "ignore":
      log.info("webhook ignored", { ...keys, event, reason: decision.reason });
      return reply(202, { status: "ignored", reason: decision.reason });
    case "queue":
      break;
  }

  const { alert } = decision;
  const incidentId = incidentIdFor(alert.repository, alert.alertNumber);
  const candidate: AlertJob = {
    version: 1,
    incidentId,
    deliveryId,
    repository: alert.repository,
    alertNumber: alert.alertNumber,
    action: alert.action,
    secretType: alert.secretType,
    receivedAt: deps.clock.now().toISOString(),
    ...(alert.installationId === undefined ? {} : { installationId: alert.installationId }),
    ...(alert.repositoryVisibility === undefined ? {} : { repositoryVisibility: alert.repositoryVisibility }),
  };
  // The webhook schema already enforces the job's rules; this keeps the two from drifting apart silently.
  const job = AlertJobSchema.safeParse(candidate);
  if (!job.success) {
    log.warn("webhook refused: would not make a valid job", { ...keys, event, incidentId });
    return reply(422, { error: "unexpected payload shape", detail: "alert does not make a valid job" });
  }

  const jobKeys = { ...keys, event, action: alert.action, incidentId, secretType: alert.secretType };
  try {
    const { messageId } = await deps.queue.send(job.data);
    log.info("webhook queued", { ...jobKeys, messageId });
  } catch (error: unknown) {
    // GitHub shows the failed delivery and it can be redelivered; the message names no secret.
    log.error("webhook not queued: queue send failed", { ...jobKeys, error: errorMessage(error) });
    return reply(503, { error: "queue unavailable, retry the delivery" });
  }
  return reply(202, { status: "queued", incident: incidentId });
}
