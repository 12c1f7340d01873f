/**
 * Issue 12: `leak-responder selftest` after a deploy, as an operator runs it, against the whole
 * responder on the sandbox (the intake over HTTP, the queue, the playbook, S3, IAM, STS). The
 * operator's canary user and key live in a managed member account; the respond side knows only the
 * canary's key id (SELFTEST_CANARY_KEY_ID). A dry run changes nothing and reports each step; a live
 * run deactivates the canary; and a signed selftest delivery can never name another key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliverWebhook } from "../../sandbox/github-webhook.js";
import type { AccessKeyRecord } from "../../sandbox/state.js";
import { type LocalStack, startLocalStack } from "../../src/cli/local-stack.js";
import { selftestDelivery } from "../../src/cli/selftest.js";
import { MemoryLog } from "../../src/logger.js";
import { buildCli, type Cli } from "../support/cli-process.js";

let cli: Cli;
let stack: LocalStack;
let canary: AccessKeyRecord;
/** A key of another user in the same account: what an abuser of the webhook secret would aim at. */
let bystander: AccessKeyRecord;

beforeAll(async () => {
  cli = await buildCli();
  stack = await startLocalStack({
    log: new MemoryLog(),
    seed: (sandbox, world) => {
      sandbox.state.addUser(world.memberAccountId, "leak-responder-canary");
      canary = sandbox.state.addAccessKey(world.memberAccountId, "leak-responder-canary");
      sandbox.state.addUser(world.memberAccountId, "billing-export");
      bystander = sandbox.state.addAccessKey(world.memberAccountId, "billing-export");
      return { SELFTEST_CANARY_KEY_ID: canary.accessKeyId };
    },
  });
}, 60_000);

afterAll(async () => {
  cli?.remove();
  await stack?.close();
});

/** The operator's laptop: the webhook secret, the stack's bucket and credentials that may read it. */
function operatorEnv(): Record<string, string> {
  const { sandbox, world } = stack;
  return {
    GITHUB_WEBHOOK_SECRET: world.webhookSecret,
    INCIDENT_BUCKET: world.bucket,
    AWS_ENDPOINT_URL: sandbox.url,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: world.responder.accessKeyId,
    AWS_SECRET_ACCESS_KEY: world.responder.secretAccessKey,
    AWS_SESSION_TOKEN: world.responder.sessionToken,
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/** GitHub calls about alerts, issues or repositories (the Actions ranges at /meta are not about one). */
function alertCallsToGitHub(): string[] {
  return stack.sandbox.state
    .callsTo("github")
    .map((call) => call.operation)
    .filter((operation) => operation !== "getMeta");
}

describe("leak-responder selftest", () => {
  it("dry run (the default): locates the canary, changes nothing, prints each step with its outcome and time", async () => {
    const before = alertCallsToGitHub().length;
    const run = await cli.run(
      ["selftest", "--url", stack.server.webhookUrl, "--timeout", "60"],
      operatorEnv(),
      90_000,
    );
    expect(run.stderr).toBe("");
    expect(run.status, run.stdout).toBe(0);
    expect(run.stdout).toMatch(
      /^leak-responder selftest \(dry-run\): alert #\d+ of leak-responder-selftest\/dry-run/,
    );
    expect(run.stdout).toMatch(/done +delivery +the intake answered 202/);
    // Each step: ISO time, offset, outcome, step name.
    expect(run.stdout).toMatch(/\d{4}-\d\d-\d\dT[\d:.]+Z +\+\d+ ms +done +webhook-received/);
    expect(run.stdout).toMatch(/done +alert-fetched/);
    expect(run.stdout).toMatch(/done +key-located/);
    expect(run.stdout).toMatch(/would-do +key-deactivated/);
    expect(run.stdout).toMatch(/^PASSED: dry-run/m);
    expect(run.stdout).toContain(canary.accessKeyId);
    expect(canary.status).toBe("Active");
    expect(bystander.status).toBe("Active");
    expect(alertCallsToGitHub().length).toBe(before);
    expect(run.stdout + run.stderr).not.toContain(stack.world.webhookSecret);
  }, 120_000);

  it("a webhook secret that is not the intake's: refused (401), said plainly, exit 1, nothing acted on", async () => {
    const env = { ...operatorEnv(), GITHUB_WEBHOOK_SECRET: "not-the-intake-secret" };
    const run = await cli.run(["selftest", "--url", stack.server.webhookUrl, "--live"], env, 60_000);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAILED +delivery +the intake answered 401/);
    expect(run.stdout).toContain("the webhook secret here is not the intake's");
    expect(canary.status).toBe("Active");
  }, 90_000);

  it("--live: deactivates the canary key and nothing else; GitHub is never asked about the synthetic alert", async () => {
    const before = alertCallsToGitHub().length;
    const run = await cli.run(
      ["selftest", "--url", stack.server.webhookUrl, "--live", "--timeout", "60"],
      operatorEnv(),
      90_000,
    );
    expect(run.status, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/done +key-deactivated/);
    expect(run.stdout).toMatch(/done +incident-recorded/);
    expect(run.stdout).toMatch(/^PASSED: contained/m);
    expect(run.stdout).toContain(`--access-key-id ${canary.accessKeyId} --status Active`);
    expect(canary.status).toBe("Inactive");
    expect(bystander.status).toBe("Active");
    expect(stack.world.leaked.key.status).toBe("Active");
    // No alert read, no resolve PATCH, no issue, no repository read for a plan.
    expect(alertCallsToGitHub().slice(before)).toEqual([]);
  }, 120_000);

  it("a signed selftest delivery cannot name another key: whatever it carries, only the canary is acted on", async () => {
    canary.status = "Active";
    const { world, server } = stack;
    const results = stack.results.length;
    // The sender controls the whole body: it names the bystander's key every way a payload could.
    const payload = selftestDelivery("live", 424242, new Date());
    const alert = payload.alert as Record<string, unknown>;
    Object.assign(alert, { secret: bystander.accessKeyId, secret_type: "aws_access_key_id" });
    Object.assign(payload, { access_key_id: bystander.accessKeyId });
    const delivery = await deliverWebhook(
      server.webhookUrl,
      world.webhookSecret,
      "secret_scanning_alert",
      payload,
    );
    expect(delivery.status).toBe(202);
    await server.queue.drain();
    const incident = stack.results.slice(results).at(-1)?.incident;
    expect(incident?.accessKeyId).toBe(canary.accessKeyId);
    expect(bystander.status).toBe("Active");
    expect(canary.status).toBe("Inactive");

    // The reserved owner with an App installation is a real delivery, not a selftest: read from
    // GitHub like any other alert (here the sandbox has no such alert, so nothing is contained).
    const withInstallation = {
      ...selftestDelivery("live", 424243, new Date()),
      installation: { id: world.installationId },
    };
    await deliverWebhook(server.webhookUrl, world.webhookSecret, "secret_scanning_alert", withInstallation);
    await server.queue.drain();
    const real = stack.results.at(-1)?.incident;
    expect(real?.accessKeyId).toBeUndefined();
    expect(bystander.status).toBe("Active");
  }, 120_000);
});
