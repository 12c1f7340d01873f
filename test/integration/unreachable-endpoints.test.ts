/**
 * Issue 12: an endpoint that cannot be reached is named as such by every adapter, with the real
 * clients over real sockets: "could not reach <host>: connection refused", not Octokit's "500",
 * not "Error: connect ECONNREFUSED", not a Slack webhook URL (its path is its credential).
 */
import { createServer } from "node:net";
import { IAMClient } from "@aws-sdk/client-iam";
import { beforeAll, describe, expect, it } from "vitest";
import { fakeAccessKeyId, fakeSecretAccessKey } from "../../sandbox/fake-ids.js";
import { AwsAccountIam } from "../../src/adapters/aws/account-iam.js";
import { GitHubAlertSource } from "../../src/adapters/github/alert-source.js";
import { githubClients } from "../../src/adapters/github/octokit.js";
import { SlackNotifier } from "../../src/adapters/slack/slack-notifier.js";
import { TransientFailure } from "../../src/domain/errors.js";
import { minimalIncident } from "../support/fakes.js";

const INTERNAL = /\b(Error|TypeError|HttpError|RequestError)\b|\b500\b|ECONNREFUSED|ENOTFOUND/;

let port: number;

beforeAll(async () => {
  // A port nothing listens on: bound, then closed.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no port");
  port = address.port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error("expected a failure");
  return outcome;
}

describe("an endpoint that cannot be reached, named as such", () => {
  it("GitHub refused: could not reach the API host, a transient failure, no 500", async () => {
    const clients = githubClients(
      { apiUrl: `http://127.0.0.1:${port}`, auth: { kind: "token", token: "not-a-token" } },
      { retries: 1, retryAfterBaseMs: 1 },
    );
    const error = await failureOf(
      new GitHubAlertSource(clients).getAlert({ repository: "acme/api", alertNumber: 7 }),
    );
    expect(error).toBeInstanceOf(TransientFailure);
    expect(error.message).toContain(`could not reach 127.0.0.1:${port}: connection refused`);
    expect(error.message).not.toMatch(INTERNAL);
  });

  it("GitHub's host does not resolve: no such host", async () => {
    const clients = githubClients(
      { apiUrl: "https://github-api.nowhere.invalid", auth: { kind: "token", token: "not-a-token" } },
      { retries: 0 },
    );
    const error = await failureOf(
      new GitHubAlertSource(clients).getAlert({ repository: "acme/api", alertNumber: 7 }),
    );
    expect(error.message).toContain("could not reach github-api.nowhere.invalid: no such host");
    expect(error.message).not.toMatch(INTERNAL);
  });

  it("Slack webhook refused: names the host, never the webhook's path", async () => {
    const secretPath = `/services/T0/B0/${fakeSecretAccessKey()}`;
    const notifier = new SlackNotifier(
      { kind: "webhook", url: `http://127.0.0.1:${port}${secretPath}` },
      { retryConfig: { retries: 1, minTimeout: 1, maxTimeout: 2, factor: 1 }, intervalMs: 1 },
    );
    const error = await failureOf(notifier.notify(minimalIncident("inc-1", "key deactivated"), "contained"));
    expect(error.message).toContain(`could not reach 127.0.0.1:${port}: connection refused`);
    expect(error.message).not.toContain(secretPath);
    expect(error.message).not.toMatch(INTERNAL);
  });

  it("AWS IAM refused: could not reach the endpoint, a transient failure", async () => {
    const endpoint = `http://127.0.0.1:${port}`;
    const credentials = { accessKeyId: fakeAccessKeyId(), secretAccessKey: fakeSecretAccessKey() };
    const iam = new AwsAccountIam(
      "123456789012",
      false,
      new IAMClient({ region: "us-east-1", endpoint, credentials, maxAttempts: 1 }),
    );
    const error = await failureOf(iam.deactivateKey("ci-deploy", fakeAccessKeyId()));
    expect(error).toBeInstanceOf(TransientFailure);
    expect(error.message).toContain(`could not reach 127.0.0.1:${port}: connection refused`);
    expect(error.message).not.toMatch(INTERNAL);
  });
});
