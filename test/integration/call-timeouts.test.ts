/**
 * Every client the responder builds gives up on a hung call at its own timeout (CALL_TIMEOUT_MS) and
 * retries it like a 5xx, against the sandbox over real HTTP: a hang costs the timeout, not the
 * function's whole run. The sandbox holds a hung call far longer than the client waits and records
 * the one the client abandoned as 499.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stsService } from "../../sandbox/aws/sts.js";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { githubService } from "../../sandbox/github.js";
import { type DemoWorld, seedDemoWorld } from "../../sandbox/scenario.js";
import { CLIENT_CLOSED_REQUEST, Sandbox } from "../../sandbox/server.js";
import { toResponderError } from "../../src/adapters/aws/aws-errors.js";
import { awsRequestHandler } from "../../src/adapters/aws/request-handler.js";
import { GitHubAlertSource } from "../../src/adapters/github/alert-source.js";
import { githubClients } from "../../src/adapters/github/octokit.js";
import { callTimeoutMs } from "../../src/config.js";
import { ConfigError, TransientFailure } from "../../src/domain/errors.js";

const TIMEOUT_MS = 300;
const sandbox = new Sandbox({ services: [stsService, githubService] });
let world: DemoWorld;

beforeAll(async () => {
  await sandbox.start();
  world = seedDemoWorld(sandbox);
  // Far past the clients' timeout: only the client giving up can end these calls in time.
  sandbox.faults.hangMs = 20_000;
});
afterAll(() => sandbox.stop());

function sts(maxAttempts: number) {
  return new STSClient({
    endpoint: sandbox.url,
    region: "us-east-1",
    credentials: world.responder,
    maxAttempts,
    requestHandler: awsRequestHandler(TIMEOUT_MS),
  });
}

const abandoned = (service: string, operation: string) =>
  sandbox.state.callsTo(service, operation).filter((c) => c.status === CLIENT_CLOSED_REQUEST).length;

describe("AWS SDK clients (awsRequestHandler)", () => {
  it("abandon a hung call at the timeout and retry it: the call succeeds", async () => {
    sandbox.faults.inject({ service: "sts", operation: "GetCallerIdentity", kind: "timeout", times: 1 });
    const before = abandoned("sts", "GetCallerIdentity");
    const started = Date.now();
    const out = await sts(3).send(new GetCallerIdentityCommand({}));
    expect(out.Account).toBe(world.homeAccountId);
    expect(abandoned("sts", "GetCallerIdentity") - before).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a call that hangs every attempt ends as a TransientFailure the queue retries", async () => {
    sandbox.faults.inject({ service: "sts", operation: "GetCallerIdentity", kind: "timeout", times: 2 });
    const error = await sts(2)
      .send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e);
    expect(toResponderError(error, "sts:GetCallerIdentity")).toBeInstanceOf(TransientFailure);
  });
});

describe("Octokit (fetchWithTimeout)", () => {
  it("abandons a hung GitHub call at the timeout and plugin-retry retries it", async () => {
    const token = `test-token-${Date.now()}`;
    sandbox.state.githubTokens.add(token);
    sandbox.state.addRepo("acme/timeouts", { installationId: 5 });
    sandbox.state.addAlert("acme/timeouts", {
      number: 1,
      secretType: "aws_access_key_id",
      secret: fakeAccessKeyId(),
    });
    sandbox.faults.inject({ service: "github", operation: "getAlert", kind: "timeout", times: 2 });
    const source = new GitHubAlertSource(
      githubClients(
        { apiUrl: sandbox.githubUrl, auth: { kind: "token", token } },
        { timeoutMs: TIMEOUT_MS, retryAfterBaseMs: 5 },
      ),
    );
    const started = Date.now();
    const alert = await source.getAlert({ repository: "acme/timeouts", alertNumber: 1 });
    expect(alert.number).toBe(1);
    expect(abandoned("github", "getAlert")).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("CALL_TIMEOUT_MS", () => {
  it("defaults to 5 s and is validated, naming the variable", () => {
    expect(callTimeoutMs({})).toBe(5_000);
    expect(callTimeoutMs({ CALL_TIMEOUT_MS: "1500" })).toBe(1_500);
    expect(() => callTimeoutMs({ CALL_TIMEOUT_MS: "soon" })).toThrow(ConfigError);
    expect(() => callTimeoutMs({ CALL_TIMEOUT_MS: "0" })).toThrow(/CALL_TIMEOUT_MS/);
    expect(() => callTimeoutMs({ CALL_TIMEOUT_MS: "600000" })).toThrow(/at most 60000/);
  });
});
