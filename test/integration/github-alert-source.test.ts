import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccessKeyId, fakeSecretAccessKey } from "../../sandbox/fake-ids.js";
import { githubService } from "../../sandbox/github.js";
import { Sandbox } from "../../sandbox/server.js";
import { GitHubAlertSource } from "../../src/adapters/github/alert-source.js";
import { githubClients } from "../../src/adapters/github/octokit.js";
import { PermanentFailure } from "../../src/domain/errors.js";

const sandbox = new Sandbox({ services: [githubService] });
const app = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privateKeyPem = app.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const appId = 4242;
const installationId = 77;
const keyId = fakeAccessKeyId();
const secret = fakeSecretAccessKey();

function source(privateKey = privateKeyPem) {
  return new GitHubAlertSource(
    githubClients(
      { apiUrl: sandbox.githubUrl, auth: { kind: "app", appId, privateKey } },
      { retryAfterBaseMs: 5 },
    ),
  );
}

beforeAll(async () => {
  await sandbox.start();
  sandbox.state.githubApps.set(appId, {
    publicKeyPem: app.publicKey.export({ type: "spki", format: "pem" }).toString(),
  });
  sandbox.state.addRepo("acme/api", {
    installationId,
    commits: new Map([
      [
        "abc1234",
        {
          date: "2026-11-20T08:00:00Z",
          author: { login: "octo-dev", name: "Octo Developer" },
          committer: { name: "GitHub" },
        },
      ],
    ]),
    comments: new Map([[9, { login: "octo-commenter", createdAt: "2026-11-21T10:00:00Z" }]]),
  });
  sandbox.state.addRepo("other/elsewhere", { installationId: 99 });
  sandbox.state.addAlert("acme/api", {
    number: 3,
    secretType: "aws_access_key_id",
    secret: `${keyId}\n${secret}`,
    locations: [{ type: "commit", details: { path: "deploy/.env", start_line: 4, commit_sha: "abc123" } }],
  });
  sandbox.state.addAlert("other/elsewhere", { number: 1, secretType: "aws_access_key_id", secret: keyId });
  const commit = {
    path: "deploy/.env",
    start_line: 4,
    commit_sha: "abc123",
    blob_url: `${sandbox.githubUrl}/repos/acme/api/git/blobs/b1`,
    commit_url: `${sandbox.githubUrl}/repos/acme/api/git/commits/abc123`,
    html_url: "https://github.com/acme/api/commit/abc123",
  };
  sandbox.state.addAlert("acme/api", {
    number: 5,
    secretType: "aws_access_key_id",
    secret: keyId,
    locations: [{ type: "commit", details: commit }],
  });
  sandbox.state.addAlert("acme/api", {
    number: 6,
    secretType: "aws_access_key_id",
    secret: keyId,
    locations: [
      {
        type: "issue_comment",
        details: { issue_comment_url: `${sandbox.githubUrl}/repos/acme/api/issues/comments/9` },
      },
    ],
  });
  sandbox.state.addAlert("acme/api", {
    number: 7,
    secretType: "aws_access_key_id",
    secret: keyId,
    omitFirstLocation: true,
    locations: [{ type: "commit", details: commit }],
  });
});
afterAll(() => sandbox.stop());

describe("GitHubAlertSource against the sandbox's GitHub API (App installation tokens)", () => {
  it("fetches the alert with the secret, its type, link and first location", async () => {
    const alert = await source().getAlert({ repository: "acme/api", alertNumber: 3, installationId });
    expect(alert.secret.reveal()).toBe(`${keyId}\n${secret}`);
    expect(String(alert.secret)).not.toContain(keyId);
    expect(alert.secretType).toBe("aws_access_key_id");
    expect(alert.state).toBe("open");
    expect(alert.htmlUrl).toBe("https://github.com/acme/api/security/secret-scanning/3");
    expect(alert.firstLocation).toMatchObject({ path: "deploy/.env", startLine: 4, commitSha: "abc123" });
    expect(sandbox.state.callsTo("github", "createInstallationToken").length).toBeGreaterThan(0);
  });

  it("links a commit location by its html_url, never by an API URL", async () => {
    const alert = await source().getAlert({ repository: "acme/api", alertNumber: 5, installationId });
    expect(alert.firstLocation).toEqual({
      type: "commit",
      path: "deploy/.env",
      startLine: 4,
      commitSha: "abc123",
      url: "https://github.com/acme/api/commit/abc123",
    });
  });

  it("names an issue comment location by its type, gives it no link, and keeps the comment's API path", async () => {
    const alert = await source().getAlert({ repository: "acme/api", alertNumber: 6, installationId });
    expect(alert.firstLocation).toEqual({
      type: "issue_comment",
      apiPath: "/repos/acme/api/issues/comments/9",
    });
  });

  it("a commit location's origin: the commit time, its author (GitHub login and name) and committer", async () => {
    const origin = await source().leakOrigin(
      { repository: "acme/api", alertNumber: 3, installationId },
      { commitSha: "abc1234" },
    );
    expect(origin).toEqual({
      committedAt: "2026-11-20T08:00:00Z",
      people: [
        { role: "author", login: "octo-dev", name: "Octo Developer" },
        { role: "committer", name: "GitHub" },
      ],
    });
  });

  it("an issue comment location's origin: the comment's author, read from its API path", async () => {
    const ref = { repository: "acme/api", alertNumber: 6, installationId };
    const alert = await source().getAlert(ref);
    const origin = await source().leakOrigin(ref, alert.firstLocation ?? {});
    expect(origin).toEqual({ people: [{ role: "author", login: "octo-commenter" }] });
  });

  it("a stored API path that names another host is asked of the configured API, never of that host (the token goes with it)", async () => {
    const ref = { repository: "acme/api", alertNumber: 6, installationId };
    // A host that answers nothing: a request there would fail instead of finding the author.
    const origin = await source().leakOrigin(ref, {
      apiPath: "http://127.0.0.1:9/repos/acme/api/issues/comments/9",
    });
    expect(origin).toEqual({ people: [{ role: "author", login: "octo-commenter" }] });
  });

  it("a location's API URL is kept as a path only when it is this repository's comment, issue or pull request", async () => {
    const url = (path: string) => `${sandbox.githubUrl}${path}`;
    const cases: Array<[string, string | undefined]> = [
      [url("/repos/other/elsewhere/issues/comments/9"), undefined],
      [url("/repos/acme/api/contents/secret"), undefined],
      [url("/repos/acme/api/pulls/comments/12"), "/repos/acme/api/pulls/comments/12"],
      // Only the path is kept: it is asked of the configured API, whatever host the URL named.
      ["https://elsewhere.example/repos/acme/api/issues/4", "/repos/acme/api/issues/4"],
    ];
    let alertNumber = 20;
    for (const [issueUrl, expected] of cases) {
      alertNumber += 1;
      sandbox.state.addAlert("acme/api", {
        number: alertNumber,
        secretType: "aws_access_key_id",
        secret: keyId,
        locations: [{ type: "issue_comment", details: { issue_comment_url: issueUrl } }],
      });
      const alert = await source().getAlert({ repository: "acme/api", alertNumber, installationId });
      expect(alert.firstLocation).toEqual({
        type: "issue_comment",
        ...(expected ? { apiPath: expected } : {}),
      });
    }
  });

  it("reads the locations API when the alert has no first_location_detected (GHES)", async () => {
    const alert = await source().getAlert({ repository: "acme/api", alertNumber: 7, installationId });
    expect(alert.firstLocation).toMatchObject({
      type: "commit",
      commitSha: "abc123",
      url: "https://github.com/acme/api/commit/abc123",
    });
  });

  it("resolves the alert as revoked with the comment", async () => {
    await source().resolveAlert(
      { repository: "acme/api", alertNumber: 3, installationId },
      "deactivated by test",
    );
    const alert = sandbox.state.repo("acme/api")?.alerts.get(3);
    expect(alert).toMatchObject({
      state: "resolved",
      resolution: "revoked",
      resolutionComment: "deactivated by test",
    });
  });

  it("an installation cannot read another installation's repository: a permanent 404", async () => {
    const error = await source()
      .getAlert({ repository: "other/elsewhere", alertNumber: 1, installationId })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as PermanentFailure).code).toBe("github-404");
  });

  it("a JWT signed with the wrong private key is refused: a permanent 401", async () => {
    const wrong = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    const error = await source(wrong.toString())
      .getAlert({ repository: "acme/api", alertNumber: 3, installationId })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as PermanentFailure).code).toBe("github-401");
  });

  it("a delivery without an installation in App mode is a permanent configuration error that says what to fix", async () => {
    const error = await source()
      .getAlert({ repository: "acme/api", alertNumber: 3 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as PermanentFailure).code).toBe("github-no-installation");
    expect((error as Error).message).toMatch(/installation/);
  });

  it("GitHub answering 502 twice is retried and the fetch succeeds", async () => {
    sandbox.faults.inject({ service: "github", operation: "getAlert", kind: "server-error", times: 2 });
    const before = sandbox.state.callsTo("github", "getAlert").length;
    const alert = await source().getAlert({ repository: "acme/api", alertNumber: 3, installationId });
    expect(alert.number).toBe(3);
    expect(sandbox.state.callsTo("github", "getAlert").length - before).toBe(3);
  });

  it("works with a plain token too", async () => {
    const token = `test-token-${Date.now()}`;
    sandbox.state.githubTokens.add(token);
    const plain = new GitHubAlertSource(
      githubClients({ apiUrl: sandbox.githubUrl, auth: { kind: "token", token } }),
    );
    const alert = await plain.getAlert({ repository: "other/elsewhere", alertNumber: 1 });
    expect(alert.secret.reveal()).toBe(keyId);
  });
});
