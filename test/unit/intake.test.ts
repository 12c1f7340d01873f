import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_AWS_SECRET_TYPES, type IntakeConfig, loadIntakeConfig } from "../../src/config.js";
import { type AlertJob, AlertJobSchema } from "../../src/domain/alert-job.js";
import { TransientFailure } from "../../src/domain/errors.js";
import { handleWebhook, type IntakeDeps, type WebhookRequest } from "../../src/intake/intake.js";
import { MemoryLog } from "../../src/logger.js";
import type { JobQueue } from "../../src/ports.js";
import { delivery, formDelivery, ping, secretScanningAlert, signBody } from "../fixtures/webhooks.js";

const SECRET = `current-${Math.random().toString(36).slice(2)}`;
const PREVIOUS = `previous-${Math.random().toString(36).slice(2)}`;
const NOW = new Date("2026-11-02T09:14:08.123Z");

class RecordingQueue implements JobQueue {
  readonly jobs: AlertJob[] = [];
  async send(job: AlertJob): Promise<{ messageId: string }> {
    this.jobs.push(job);
    return { messageId: `msg-${this.jobs.length}` };
  }
}

function setup(env: Record<string, string> = {}, queue: JobQueue = new RecordingQueue()) {
  const config: IntakeConfig = loadIntakeConfig({ GITHUB_WEBHOOK_SECRET: SECRET, ...env });
  const log = new MemoryLog();
  const deps: IntakeDeps = { config, queue, log, clock: { now: () => NOW } };
  return { deps, log, queue };
}

async function call(request: WebhookRequest, deps: IntakeDeps) {
  const response = await handleWebhook(request, deps);
  return { ...response, json: JSON.parse(response.body) as Record<string, unknown> };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("handleWebhook: alerts that are queued", () => {
  it("queues a signed created alert and answers 202 with the incident key", async () => {
    const { deps, queue } = setup();
    const payload = secretScanningAlert({
      repository: "Octo-Org/payments-api",
      number: 42,
      installationId: 7001,
    });
    const request = delivery(payload, { secret: SECRET, deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958" });

    const response = await call(request, deps);

    expect(response.status).toBe(202);
    expect(response.json).toEqual({ status: "queued", incident: "gh__octo-org__payments-api__42" });
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    expect(queue instanceof RecordingQueue && queue.jobs).toEqual([
      {
        version: 1,
        incidentId: "gh__octo-org__payments-api__42",
        deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        repository: "Octo-Org/payments-api",
        alertNumber: 42,
        action: "created",
        secretType: "aws_access_key_id",
        receivedAt: "2026-11-02T09:14:08.123Z",
        installationId: 7001,
        repositoryVisibility: "private",
      },
    ]);
  });

  it("carries the repository's visibility into the job, and leaves it out (unknown) when the payload has none", async () => {
    const { deps, queue } = setup();
    const shaped = (visibility: Record<string, unknown>) => {
      const payload = secretScanningAlert();
      const { private: _p, visibility: _v, ...repository } = payload.repository;
      return { ...payload, repository: { ...repository, ...visibility } };
    };
    for (const fields of [
      { private: false, visibility: "public" },
      { private: true, visibility: "internal" },
      { private: true, visibility: "private" },
      { private: false },
      {},
      { visibility: "some-future-kind" },
    ]) {
      expect((await call(delivery(shaped(fields), { secret: SECRET }), deps)).status).toBe(202);
    }
    expect((queue as RecordingQueue).jobs.map((job) => job.repositoryVisibility ?? "unknown")).toEqual([
      "public",
      "internal",
      "private",
      "public",
      "unknown",
      "unknown",
    ]);
  });

  it("queues an alert of an Enterprise Managed Users owner (underscore in the owner name)", async () => {
    const { deps, queue } = setup();
    const payload = secretScanningAlert({ repository: "octo_emu/payments-api", number: 3 });
    const response = await call(delivery(payload, { secret: SECRET }), deps);
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ status: "queued", incident: "gh__octo_emu__payments-api__3" });
    expect((queue as RecordingQueue).jobs.map((job) => job.repository)).toEqual(["octo_emu/payments-api"]);
  });

  it.each(["octo__emu/repo", "_octo/repo", "octo_/repo"])(
    "refuses %s: a doubled, leading or trailing underscore is no GitHub owner and would make the incident id ambiguous",
    async (fullName) => {
      const { deps, queue } = setup();
      const response = await call(
        delivery(secretScanningAlert({ repository: fullName }), { secret: SECRET }),
        deps,
      );
      expect(response.status).toBe(422);
      expect((queue as RecordingQueue).jobs).toEqual([]);
    },
  );

  it("queues a signed form-encoded delivery (payload=<urlencoded JSON>, GitHub's default content type)", async () => {
    const { deps, queue } = setup();
    const payload = secretScanningAlert({ repository: "octo-org/payments-api", number: 9 });
    const response = await call(formDelivery(payload, { secret: SECRET }), deps);
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ status: "queued", incident: "gh__octo-org__payments-api__9" });
    expect((queue as RecordingQueue).jobs.map((job) => job.alertNumber)).toEqual([9]);
  });

  it.each(["created", "reopened", "publicly_leaked"] as const)(
    "queues %s whatever the validity",
    async (action) => {
      const { deps, queue } = setup();
      const payload = secretScanningAlert({ action, validity: "unknown" });
      const response = await call(delivery(payload, { secret: SECRET }), deps);
      expect(response.json.status).toBe("queued");
      expect((queue as RecordingQueue).jobs.map((job) => job.action)).toEqual([action]);
    },
  );

  it("queues validated only when the key is active", async () => {
    const { deps, queue } = setup();
    const active = await call(
      delivery(secretScanningAlert({ action: "validated", validity: "active" }), { secret: SECRET }),
      deps,
    );
    expect(active.json.status).toBe("queued");
    for (const validity of ["inactive", "unknown"] as const) {
      const response = await call(
        delivery(secretScanningAlert({ action: "validated", validity }), { secret: SECRET }),
        deps,
      );
      expect(response.status).toBe(202);
      expect(response.json).toEqual({ status: "ignored", reason: `validated with validity ${validity}` });
    }
    expect((queue as RecordingQueue).jobs).toHaveLength(1);
  });

  it.each([...DEFAULT_AWS_SECRET_TYPES])("queues the AWS secret type %s by default", async (secretType) => {
    const { deps, queue } = setup();
    const response = await call(delivery(secretScanningAlert({ secretType }), { secret: SECRET }), deps);
    expect(response.json.status).toBe("queued");
    expect((queue as RecordingQueue).jobs[0]?.secretType).toBe(secretType);
  });

  it("leaves installationId out of the job for a repository webhook (no installation)", async () => {
    const { deps, queue } = setup();
    await call(delivery(secretScanningAlert({ installationId: null }), { secret: SECRET }), deps);
    const job = (queue as RecordingQueue).jobs[0];
    expect(job).toBeDefined();
    expect(job && "installationId" in job).toBe(false);
    expect(AlertJobSchema.parse(job)).toEqual(job);
  });

  it("accepts the previous secret while a rotation is under way", async () => {
    const { deps, queue } = setup({ GITHUB_WEBHOOK_SECRET_PREVIOUS: PREVIOUS });
    const response = await call(delivery(secretScanningAlert(), { secret: PREVIOUS }), deps);
    expect(response.json.status).toBe("queued");
    expect((queue as RecordingQueue).jobs).toHaveLength(1);
  });

  it("matches header names whatever their case, and takes the first of repeated values", async () => {
    const { deps, queue } = setup();
    const payload = secretScanningAlert({ number: 9 });
    const body = Buffer.from(JSON.stringify(payload));
    const request: WebhookRequest = {
      method: "post",
      headers: {
        "Content-Type": "application/json",
        "X-GitHub-Event": "secret_scanning_alert",
        "X-GitHub-Delivery": ["d-1", "d-2"],
        "X-Hub-Signature-256": signBody(body, SECRET),
      },
      body,
    };
    const response = await call(request, deps);
    expect(response.json.status).toBe("queued");
    expect((queue as RecordingQueue).jobs[0]?.deliveryId).toBe("d-1");
  });

  it("answers from memory alone: no network call is made while acknowledging", async () => {
    const fetchSpy = vi.fn(async () => {
      throw new Error("the intake must not call out");
    });
    vi.stubGlobal("fetch", fetchSpy);
    const { deps } = setup();
    const response = await call(delivery(secretScanningAlert(), { secret: SECRET }), deps);
    expect(response.status).toBe(202);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe("handleWebhook: deliveries acknowledged and ignored", () => {
  it("answers ping with 200", async () => {
    const { deps, queue } = setup();
    const response = await call(delivery(ping(), { secret: SECRET, event: "ping" }), deps);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ status: "pong" });
    expect((queue as RecordingQueue).jobs).toHaveLength(0);
  });

  it.each([
    [{ event: "push", payload: { ref: "refs/heads/main" } }, "event push is not handled"],
    [
      { event: "secret_scanning_alert_location", payload: { action: "created" } },
      "event secret_scanning_alert_location is not handled",
    ],
    [
      { event: "secret_scanning_alert", payload: secretScanningAlert({ action: "resolved" }) },
      "action resolved is not handled",
    ],
    [
      { event: "secret_scanning_alert", payload: secretScanningAlert({ action: "assigned" }) },
      "action assigned is not handled",
    ],
    [
      { event: "secret_scanning_alert", payload: { action: "metadata_created" } },
      "action metadata_created is not handled",
    ],
    [
      {
        event: "secret_scanning_alert",
        payload: secretScanningAlert({ secretType: "github_personal_access_token" }),
      },
      "secret type github_personal_access_token is not an AWS type",
    ],
  ])("answers 202 ignored with the reason: %j", async ({ event, payload }, reason) => {
    const { deps, queue, log } = setup();
    const response = await call(delivery(payload, { secret: SECRET, event, deliveryId: "ignored-1" }), deps);
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ status: "ignored", reason });
    expect((queue as RecordingQueue).jobs).toHaveLength(0);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: "webhook ignored", deliveryId: "ignored-1", reason }),
    );
  });

  it("acts only on the configured secret types", async () => {
    const { deps, queue } = setup({ AWS_SECRET_TYPES: "aws_temporary_access_key_id" });
    const ignored = await call(
      delivery(secretScanningAlert({ secretType: "aws_access_key_id" }), { secret: SECRET }),
      deps,
    );
    expect(ignored.json).toEqual({
      status: "ignored",
      reason: "secret type aws_access_key_id is not an AWS type",
    });
    const queued = await call(
      delivery(secretScanningAlert({ secretType: "aws_temporary_access_key_id" }), { secret: SECRET }),
      deps,
    );
    expect(queued.json.status).toBe("queued");
    expect((queue as RecordingQueue).jobs).toHaveLength(1);
  });
});

describe("handleWebhook: bad input gets its status code and nothing is queued", () => {
  const good = () => secretScanningAlert({ number: 5 });
  const goodBody = () => Buffer.from(JSON.stringify(good()));
  const signedBodyWithOneByteChanged = (): WebhookRequest => {
    const request = delivery(good(), { secret: SECRET });
    const body = Buffer.from(request.body);
    body[10] = (body[10] ?? 0) ^ 0x01;
    return { ...request, body };
  };
  const cases: Array<[string, () => WebhookRequest, number, string]> = [
    ["GET", () => delivery(good(), { secret: SECRET, method: "GET" }), 405, "method not allowed"],
    ["PUT", () => delivery(good(), { secret: SECRET, method: "PUT" }), 405, "method not allowed"],
    [
      "body over the limit",
      () => delivery(Buffer.alloc(16_385, 0x20), { secret: SECRET }),
      413,
      "payload too large",
    ],
    ["no signature", () => delivery(good()), 401, "invalid signature"],
    [
      "signed with another secret",
      () => delivery(good(), { secret: "not-the-secret" }),
      401,
      "invalid signature",
    ],
    [
      "a signature of another body",
      () => delivery(good(), { headers: { "x-hub-signature-256": signBody(goodBody(), SECRET) } }),
      401,
      "invalid signature",
    ],
    ["one byte of the body changed", signedBodyWithOneByteChanged, 401, "invalid signature"],
    [
      "a legacy sha1 signature",
      () =>
        delivery(good(), { headers: { "x-hub-signature": "sha1=0123456789abcdef0123456789abcdef01234567" } }),
      401,
      "invalid signature",
    ],
    [
      "unsigned malformed JSON: the signature is checked first",
      () => delivery(Buffer.from("{nope")),
      401,
      "invalid signature",
    ],
    [
      "no X-GitHub-Event",
      () => delivery(good(), { secret: SECRET, headers: { "x-github-event": undefined } }),
      400,
      "missing or malformed X-GitHub-Event header",
    ],
    [
      "an X-GitHub-Event that is no event name",
      () => delivery(good(), { secret: SECRET, event: "secret scanning alert" }),
      400,
      "missing or malformed X-GitHub-Event header",
    ],
    [
      "no X-GitHub-Delivery",
      () => delivery(good(), { secret: SECRET, headers: { "x-github-delivery": undefined } }),
      400,
      "missing or malformed X-GitHub-Delivery header",
    ],
    [
      "an X-GitHub-Delivery with a path in it",
      () => delivery(good(), { secret: SECRET, deliveryId: "../../etc/passwd" }),
      400,
      "missing or malformed X-GitHub-Delivery header",
    ],
    [
      "malformed JSON",
      () => delivery(Buffer.from('{"action":"created",'), { secret: SECRET }),
      400,
      "malformed JSON",
    ],
    [
      "a form-encoded delivery without a payload field",
      () =>
        delivery(Buffer.from(`other=${encodeURIComponent(JSON.stringify(good()))}`), {
          secret: SECRET,
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }),
      400,
      "form-encoded delivery without a payload field",
    ],
    [
      "a form-encoded delivery whose signature covers the JSON, not the form bytes",
      () => {
        const json = JSON.stringify(good());
        return delivery(Buffer.from(`payload=${encodeURIComponent(json)}`), {
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "x-hub-signature-256": signBody(json, SECRET),
          },
        });
      },
      401,
      "invalid signature",
    ],
    ["a JSON array", () => delivery([good()], { secret: SECRET }), 422, "unexpected payload shape"],
    ["a JSON string", () => delivery("created", { secret: SECRET }), 422, "unexpected payload shape"],
    [
      "no action",
      () => delivery({ ...good(), action: undefined }, { secret: SECRET }),
      422,
      "unexpected payload shape",
    ],
    [
      "no alert number",
      () => delivery({ ...good(), alert: { ...good().alert, number: undefined } }, { secret: SECRET }),
      422,
      "unexpected payload shape",
    ],
    [
      "an alert number as a string",
      () => delivery({ ...good(), alert: { ...good().alert, number: "5" } }, { secret: SECRET }),
      422,
      "unexpected payload shape",
    ],
    [
      "no secret type",
      () => delivery({ ...good(), alert: { ...good().alert, secret_type: undefined } }, { secret: SECRET }),
      422,
      "unexpected payload shape",
    ],
    [
      "no repository",
      () => delivery({ ...good(), repository: undefined }, { secret: SECRET }),
      422,
      "unexpected payload shape",
    ],
    [
      "a repository full name that is not owner/name",
      () =>
        delivery(
          { ...good(), repository: { ...good().repository, full_name: "octo-org" } },
          { secret: SECRET },
        ),
      422,
      "unexpected payload shape",
    ],
    [
      "an installation id that is not a number",
      () => delivery({ ...good(), installation: { id: "7001", node_id: "x" } }, { secret: SECRET }),
      422,
      "unexpected payload shape",
    ],
  ];

  it.each(cases)("%s", async (_name, build, status, error) => {
    const { deps, queue } = setup({ MAX_WEBHOOK_BODY_BYTES: "16384" });
    const response = await call(build(), deps);
    expect(response.status).toBe(status);
    expect(response.json.error).toBe(error);
    expect(response.json.status).toBeUndefined();
    expect(response.body.length).toBeLessThan(200);
    expect(response.body).not.toMatch(/\bat \S+:\d+|Error:/);
    expect((queue as RecordingQueue).jobs).toHaveLength(0);
  });

  it("names the field that is wrong in a 422, without echoing its value", async () => {
    const { deps } = setup();
    const payload = good();
    const response = await call(
      delivery(
        { ...payload, repository: { ...payload.repository, full_name: "no-slash-HERE" } },
        { secret: SECRET },
      ),
      deps,
    );
    expect(response.status).toBe(422);
    expect(response.json.detail).toMatch(/^repository\.full_name: /);
    expect(response.body).not.toContain("no-slash-HERE");
  });

  it("says in English what is wrong with the field in a 422 (zod's messages, not a bare 'Invalid input')", async () => {
    const { deps } = setup();
    const payload = good();
    const cases: Array<[unknown, string]> = [
      [
        { ...payload, alert: { ...payload.alert, number: "5" } },
        "alert.number: Invalid input: expected number, received string",
      ],
      [
        { ...payload, alert: { ...payload.alert, number: 1.5 } },
        "alert.number: Invalid input: expected int, received number",
      ],
      [
        { ...payload, alert: { ...payload.alert, number: 0 } },
        "alert.number: Too small: expected number to be >0",
      ],
      [
        { ...payload, alert: { ...payload.alert, secret_type: "x".repeat(101) } },
        "alert.secret_type: Too big: expected string to have <=100 characters",
      ],
    ];
    for (const [body, detail] of cases) {
      const response = await call(delivery(body, { secret: SECRET }), deps);
      expect(response.status).toBe(422);
      expect(response.json.detail).toBe(detail);
    }
  });

  it("answers Allow: POST with a 405", async () => {
    const { deps } = setup();
    const response = await call(delivery(good(), { secret: SECRET, method: "GET" }), deps);
    expect(response.headers.allow).toBe("POST");
  });

  it("answers 503 when the queue refuses the job, so GitHub can redeliver", async () => {
    const failing: JobQueue = {
      send: async () => {
        throw new TransientFailure("sqs:SendMessage: ServiceUnavailable: try later", "ServiceUnavailable");
      },
    };
    const { deps, log } = setup({}, failing);
    const response = await call(delivery(good(), { secret: SECRET, deliveryId: "d-503" }), deps);
    expect(response.status).toBe(503);
    expect(response.json).toEqual({ error: "queue unavailable, retry the delivery" });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: "ERROR",
        deliveryId: "d-503",
        incidentId: "gh__octo-org__payments-api__5",
      }),
    );
  });
});

describe("handleWebhook: logs", () => {
  it("keys every line after verification by delivery id, and never logs the body or the signature", async () => {
    const { deps, log } = setup();
    const marker = `body-marker-${Math.random().toString(36).slice(2)}`;
    const payload = secretScanningAlert({ description: marker });
    const requests = [
      delivery(payload, { secret: SECRET, deliveryId: "log-1" }),
      delivery(secretScanningAlert({ action: "resolved", description: marker }), {
        secret: SECRET,
        deliveryId: "log-2",
      }),
      delivery(Buffer.from(`{"${marker}"`), { secret: SECRET, deliveryId: "log-3" }),
      delivery(payload, { secret: "wrong", deliveryId: "log-4" }),
    ];
    for (const request of requests) await handleWebhook(request, deps);

    const text = log.text();
    expect(text).not.toContain(marker);
    expect(text).not.toContain(SECRET);
    for (const request of requests) {
      const signature = request.headers["x-hub-signature-256"];
      expect(typeof signature).toBe("string");
      expect(text).not.toContain(String(signature).slice("sha256=".length));
    }
    expect(log.lines.map((line) => [line.message, line.deliveryId ?? line.claimedDeliveryId])).toEqual([
      ["webhook queued", "log-1"],
      ["webhook ignored", "log-2"],
      ["webhook refused: malformed JSON", "log-3"],
      ["webhook refused: signature", "log-4"],
    ]);
    expect(log.lines[3]).toMatchObject({ reason: "mismatch" });
  });
});
