/**
 * Lambda entry point for POST /webhooks/github (API Gateway HTTP API, payload format 2.0). Thin
 * (style.md): turn the event into raw bytes, call handleWebhook, map the answer. Everything that can
 * be decided once is decided at cold start, in the init phase, before the first delivery waits on it.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { SqsJobQueue } from "../src/adapters/aws/sqs-queue.js";
import { withSsmSecrets } from "../src/adapters/aws/ssm-secrets.js";
import { type Env, loadIntakeConfig } from "../src/config.js";
import { ConfigError, errorMessage } from "../src/domain/errors.js";
import { handleWebhook, type IntakeDeps, type WebhookResponse } from "../src/intake/intake.js";
import { createLogger } from "../src/logger.js";
import { systemClock } from "../src/ports.js";

export type IntakeHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** The raw body as API Gateway received it, or undefined when it is already known to be over the limit. */
export function rawBody(event: APIGatewayProxyEventV2, maxBodyBytes: number): Buffer | undefined {
  const body = event.body ?? "";
  if (event.isBase64Encoded) {
    // Four base64 characters carry three bytes: a body far over the limit is refused undecoded.
    if (Math.floor((body.length * 3) / 4) > maxBodyBytes + 2) return undefined;
    return Buffer.from(body, "base64");
  }
  // API Gateway passes text bodies as the string it decoded from UTF-8; encoding it back gives the
  // bytes GitHub signed whenever they were valid UTF-8 (and GitHub only sends UTF-8 JSON). Every
  // UTF-16 unit is at least one byte, so the length alone can refuse a body too large.
  if (body.length > maxBodyBytes) return undefined;
  return Buffer.from(body, "utf8");
}

function toResult(response: WebhookResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: response.status,
    headers: response.headers,
    body: response.body,
    isBase64Encoded: false,
  };
}

export function createIntakeHandler(deps: IntakeDeps): IntakeHandler {
  return async (event) => {
    const body = rawBody(event, deps.config.maxBodyBytes);
    if (body === undefined) {
      deps.log.warn("webhook refused: body too large", { limit: deps.config.maxBodyBytes });
      return toResult({
        status: 413,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({ error: "payload too large" }),
      });
    }
    try {
      return toResult(
        await handleWebhook(
          { method: event.requestContext.http.method, headers: event.headers ?? {}, body },
          deps,
        ),
      );
    } catch (error: unknown) {
      // handleWebhook answers every input itself; this is a bug, reported without a stack to GitHub.
      deps.log.error("intake failed", { error: errorMessage(error) });
      return toResult({
        status: 500,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({ error: "internal error" }),
      });
    }
  };
}

function queueUrl(env: Env): string {
  const url = env.ALERT_QUEUE_URL?.trim();
  if (!url) throw new ConfigError("ALERT_QUEUE_URL is not set: the intake has nowhere to queue alerts");
  return url;
}

// Cold start, in Lambda's init phase. In AWS the webhook secrets are SSM parameters named by
// GITHUB_WEBHOOK_SECRET(_PREVIOUS)_SSM_PARAMETER; locally and in tests the variables are set directly
// and nothing is fetched.
const env: Env = await withSsmSecrets(process.env);
const config = loadIntakeConfig(env);
// SendMessage takes tens of milliseconds; bounding both attempts (about 3 s in the worst case) keeps
// a hung SQS call inside the function's 5 s timeout and GitHub's 10 s (facts.md), so GitHub gets a
// 503 it can redeliver instead of a timeout. Without throwOnRequestTimeout the SDK only logs a
// warning when requestTimeout passes and keeps waiting.
const sqs = new SQSClient({
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1_000, throwOnRequestTimeout: true },
});

export const handler: IntakeHandler = createIntakeHandler({
  config,
  queue: new SqsJobQueue(sqs, queueUrl(env)),
  log: createLogger("intake"),
  clock: systemClock,
});
