/**
 * The deployed path, end to end against the sandbox's SQS over real HTTP: API Gateway event (payload
 * v2) -> functions/intake.ts -> SqsJobQueue -> @aws-sdk/client-sqs -> sandbox SQS, and the message
 * read back with the SDK is the job the respond function will get.
 */
import { randomBytes, randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sqsService } from "../../sandbox/aws/sqs.js";
import { fakeAccountId } from "../../sandbox/fake-ids.js";
import { Sandbox } from "../../sandbox/server.js";
import { SqsJobQueue } from "../../src/adapters/aws/sqs-queue.js";
import { type AlertJob, AlertJobSchema } from "../../src/domain/alert-job.js";
import { TransientFailure } from "../../src/domain/errors.js";
import { delivery, formDelivery, secretScanningAlert } from "../fixtures/webhooks.js";

type IntakeModule = typeof import("../../functions/intake.js");

const SECRET = randomBytes(24).toString("hex");
let sandbox: Sandbox;
let sqs: SQSClient;
let queueUrl: string;
let intake: IntakeModule;

/** An API Gateway HTTP API (payload format 2.0) event for a webhook delivery. */
function apiGatewayEvent(
  request: ReturnType<typeof delivery>,
  options: { base64?: boolean; method?: string } = {},
): APIGatewayProxyEventV2 {
  const base64 = options.base64 ?? true;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers[name.toLowerCase()] = value;
  }
  return {
    version: "2.0",
    routeKey: "POST /webhooks/github",
    rawPath: "/webhooks/github",
    rawQueryString: "",
    headers,
    isBase64Encoded: base64,
    body: base64 ? request.body.toString("base64") : request.body.toString("utf8"),
    requestContext: {
      accountId: "123456789012",
      apiId: "api-id",
      domainName: "id.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "id",
      http: {
        method: options.method ?? request.method,
        path: "/webhooks/github",
        protocol: "HTTP/1.1",
        sourceIp: "140.82.115.1",
        userAgent: "GitHub-Hookshot/5a1b2c3",
      },
      requestId: randomUUID(),
      routeKey: "POST /webhooks/github",
      stage: "$default",
      time: "02/Nov/2026:09:14:08 +0000",
      timeEpoch: Date.now(),
    },
  };
}

async function receiveAll(): Promise<
  Array<{ job: AlertJob; messageId: string; incidentAttribute?: string }>
> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ["All"],
    }),
  );
  return (out.Messages ?? []).map((message) => ({
    job: AlertJobSchema.parse(JSON.parse(message.Body ?? "")),
    messageId: message.MessageId ?? "",
    ...(message.MessageAttributes?.incidentId?.StringValue
      ? { incidentAttribute: message.MessageAttributes.incidentId.StringValue }
      : {}),
  }));
}

async function visibleMessages(): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages);
}

beforeAll(async () => {
  sandbox = new Sandbox({ services: [sqsService] });
  await sandbox.start();
  const accountId = fakeAccountId();
  sandbox.state.addAccount(accountId);
  sandbox.state.addUser(accountId, "leak-responder-intake");
  const key = sandbox.state.addAccessKey(accountId, "leak-responder-intake");
  const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  sqs = new SQSClient({ endpoint: sandbox.url, region: "us-east-1", credentials });
  const created = await sqs.send(new CreateQueueCommand({ QueueName: "leak-responder-alerts" }));
  queueUrl = created.QueueUrl ?? "";

  // The function's environment, as serverless.yml gives it (the secret set directly: no SSM here).
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("AWS_ENDPOINT_URL_") || name === "AWS_PROFILE") delete process.env[name];
  }
  Object.assign(process.env, sandbox.awsEnv(credentials), {
    ALERT_QUEUE_URL: queueUrl,
    GITHUB_WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: "SILENT",
  });
  intake = await import("../../functions/intake.js");
});

afterAll(async () => {
  sqs?.destroy();
  await sandbox?.stop();
});

beforeEach(async () => {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  sandbox.faults.clear();
});

describe("SqsJobQueue against the sandbox's SQS", () => {
  it("sends the job as the message body, readable back with the SDK", async () => {
    const queue = new SqsJobQueue(sqs, queueUrl);
    const job: AlertJob = {
      version: 1,
      incidentId: "gh__octo-org__payments-api__3",
      deliveryId: randomUUID(),
      repository: "octo-org/payments-api",
      alertNumber: 3,
      action: "reopened",
      secretType: "aws_access_key_id",
      receivedAt: new Date().toISOString(),
      installationId: 4242,
    };
    const { messageId } = await queue.send(job);
    const messages = await receiveAll();
    expect(messages).toEqual([{ job, messageId, incidentAttribute: job.incidentId }]);
  });

  it("turns SQS refusing into a typed error the intake can answer 503 to", async () => {
    sandbox.faults.inject({ service: "sqs", operation: "SendMessage", kind: "server-error" });
    const queue = new SqsJobQueue(
      new SQSClient({
        endpoint: sandbox.url,
        region: "us-east-1",
        maxAttempts: 1,
        credentials: await sqs.config.credentials(),
      }),
      queueUrl,
    );
    const job = AlertJobSchema.parse({
      version: 1,
      incidentId: "gh__o__r__1",
      deliveryId: "d",
      repository: "o/r",
      alertNumber: 1,
      action: "created",
      secretType: "aws_access_key_id",
      receivedAt: new Date().toISOString(),
    });
    await expect(queue.send(job)).rejects.toBeInstanceOf(TransientFailure);
  });
});

describe("functions/intake.ts handler -> SQS", () => {
  it("queues a signed created alert (base64 body, as API Gateway sends it) and the message read back matches", async () => {
    const deliveryId = randomUUID();
    const payload = secretScanningAlert({
      repository: "octo-org/payments-api",
      number: 42,
      installationId: 7001,
    });
    const before = Date.now();
    const result = await intake.handler(apiGatewayEvent(delivery(payload, { secret: SECRET, deliveryId })));

    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body ?? "")).toEqual({
      status: "queued",
      incident: "gh__octo-org__payments-api__42",
    });
    const messages = await receiveAll();
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.job).toEqual({
      version: 1,
      incidentId: "gh__octo-org__payments-api__42",
      deliveryId,
      repository: "octo-org/payments-api",
      alertNumber: 42,
      action: "created",
      secretType: "aws_access_key_id",
      receivedAt: expect.any(String),
      installationId: 7001,
      repositoryVisibility: "private",
    });
    const receivedAt = Date.parse(message?.job.receivedAt ?? "");
    expect(receivedAt).toBeGreaterThanOrEqual(before - 1);
    expect(receivedAt).toBeLessThanOrEqual(Date.now());
    // Only identifiers travel: the payload's other content is not in the message.
    expect(JSON.stringify(message?.job)).not.toContain("html_url");
  });

  it("verifies a text (non-base64) body as the same bytes", async () => {
    const payload = secretScanningAlert({ number: 8, description: "déploiement – ünïcode ✓" });
    const result = await intake.handler(
      apiGatewayEvent(delivery(payload, { secret: SECRET }), { base64: false }),
    );
    expect(result.statusCode).toBe(202);
    expect((await receiveAll()).map((m) => m.job.alertNumber)).toEqual([8]);
  });

  it.each([true, false])(
    "queues a signed form-encoded delivery, GitHub's default content type (base64 body: %s)",
    async (base64) => {
      const payload = secretScanningAlert({ number: 11, description: "a form with spaces – ünïcode" });
      const result = await intake.handler(
        apiGatewayEvent(formDelivery(payload, { secret: SECRET }), { base64 }),
      );
      expect(result.statusCode).toBe(202);
      expect((await receiveAll()).map((m) => m.job.alertNumber)).toEqual([11]);
    },
  );

  it.each([
    ["an unsigned delivery", 401, () => apiGatewayEvent(delivery(secretScanningAlert()))],
    [
      "a delivery signed with another secret",
      401,
      () => apiGatewayEvent(delivery(secretScanningAlert(), { secret: "x" })),
    ],
    [
      "a GET",
      405,
      () => apiGatewayEvent(delivery(secretScanningAlert(), { secret: SECRET }), { method: "GET" }),
    ],
    [
      "a base64 body over the limit (refused before decoding)",
      413,
      () => apiGatewayEvent(delivery(Buffer.alloc(300 * 1024, 0x20), { secret: SECRET })),
    ],
    [
      "a text body over the limit",
      413,
      () => apiGatewayEvent(delivery(Buffer.alloc(300 * 1024, 0x20), { secret: SECRET }), { base64: false }),
    ],
    ["malformed JSON", 400, () => apiGatewayEvent(delivery(Buffer.from("{"), { secret: SECRET }))],
  ])("answers %s with %i and queues nothing", async (_name, status, event) => {
    const result = await intake.handler(event());
    expect(result.statusCode).toBe(status);
    expect(JSON.parse(result.body ?? "")).toHaveProperty("error");
    expect(await visibleMessages()).toBe(0);
  });

  it("answers a hung SQS with 503 well inside GitHub's 10 s (facts.md)", async () => {
    sandbox.faults.inject({ service: "sqs", operation: "SendMessage", kind: "timeout" });
    const started = Date.now();
    const result = await intake.handler(apiGatewayEvent(delivery(secretScanningAlert(), { secret: SECRET })));
    const elapsed = Date.now() - started;
    expect(result.statusCode).toBe(503);
    expect(elapsed).toBeLessThan(5_000);
  });

  it("answers 503 while SQS fails and queues the redelivery once it recovers", async () => {
    sandbox.faults.inject({ service: "sqs", operation: "SendMessage", kind: "server-error" });
    const deliveryId = randomUUID();
    const event = apiGatewayEvent(
      delivery(secretScanningAlert({ number: 77 }), { secret: SECRET, deliveryId }),
    );

    const failed = await intake.handler(event);
    expect(failed.statusCode).toBe(503);
    expect(await visibleMessages()).toBe(0);

    sandbox.faults.clear();
    const redelivered = await intake.handler(event); // GitHub's "Redeliver" sends the same bytes and id
    expect(redelivered.statusCode).toBe(202);
    expect((await receiveAll()).map((m) => [m.job.deliveryId, m.job.alertNumber])).toEqual([
      [deliveryId, 77],
    ]);
  });
});
