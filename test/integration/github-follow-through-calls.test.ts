/**
 * The follow-through's GitHub calls against the sandbox, over real HTTP with the real Octokit and a
 * GitHub App: the repository's and an environment's Actions secret names (every page; "cannot tell"
 * for an App without Secrets: read), and the issue checklist ticked in place (a person's edits kept, no write when
 * nothing changes, issues disabled or the issue gone told rather than thrown).
 */
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { githubService } from "../../sandbox/github.js";
import { Sandbox } from "../../sandbox/server.js";
import { CHECKLIST } from "../../src/adapters/github/incident-issue.js";
import { GitHubIssueTracker } from "../../src/adapters/github/issue-tracker.js";
import { githubClients } from "../../src/adapters/github/octokit.js";
import { GitHubRepositorySource, SECRETS_UNREADABLE } from "../../src/adapters/github/repository-source.js";

const sandbox = new Sandbox({ services: [githubService] });
const app = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privateKey = app.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const appId = 5151;

function clients() {
  return githubClients(
    { apiUrl: sandbox.githubUrl, auth: { kind: "app", appId, privateKey } },
    { retryAfterBaseMs: 5 },
  );
}

const ISSUE_BODY = [
  "## Checklist",
  "",
  "- [ ] Create the role(s) from the plan beside the existing user",
  `- [ ] ${CHECKLIST.switchWorkflows}`,
  `- [ ] ${CHECKLIST.deleteSecrets}`,
  "- [x] Something a person ticked themselves",
  "- [ ] A line a person added",
].join("\r\n");

beforeAll(async () => {
  await sandbox.start();
  sandbox.state.githubApps.set(appId, {
    publicKeyPem: app.publicKey.export({ type: "spki", format: "pem" }).toString(),
  });
  const many = Array.from({ length: 130 }, (_, i) => `OTHER_SECRET_${i}`);
  sandbox.state.addRepo("acme/api", {
    installationId: 31,
    actionsSecrets: [...many, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    environments: ["production", "qa/eu"],
    environmentSecrets: new Map([
      ["production", ["AWS_SECRET_ACCESS_KEY", "DEPLOY_TOKEN"]],
      ["qa/eu", []],
    ]),
    issues: [
      { number: 1, title: "Leaked AWS key", body: ISSUE_BODY, labels: [], createdAt: "2026-11-20T08:00:00Z" },
    ],
  });
  sandbox.state.addRepo("acme/locked", {
    installationId: 32,
    actionsSecrets: ["AWS_ACCESS_KEY_ID"],
    environments: ["production"],
  });
  const locked = sandbox.state.repo("acme/locked");
  if (locked) locked.secretsUnreadable = true;
  sandbox.state.addRepo("acme/no-issues", { installationId: 33 });
  const noIssues = sandbox.state.repo("acme/no-issues");
  if (noIssues) noIssues.issuesDisabled = true;
});

afterAll(async () => {
  await sandbox.stop();
});

describe("the repository's Actions secret names", () => {
  it("lists every name across pages, with no value anywhere in the answer", async () => {
    const answer = await new GitHubRepositorySource(clients()).secretNames("acme/api");
    expect(answer).toEqual({ names: expect.arrayContaining(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) });
    expect("names" in answer && answer.names).toHaveLength(132);
    expect(sandbox.state.callsTo("github", "listRepoSecrets").length).toBeGreaterThanOrEqual(2);
  });

  it("says it cannot tell when the App lacks Secrets: read (GitHub's 403), instead of failing", async () => {
    await expect(new GitHubRepositorySource(clients()).secretNames("acme/locked", 32)).resolves.toEqual({
      unknown: SECRETS_UNREADABLE,
    });
    expect(SECRETS_UNREADABLE).toContain("Secrets: read");
  });
});

describe("an environment's secret names", () => {
  it("lists one environment's names (any name, encoded in the path), with no value anywhere", async () => {
    const source = new GitHubRepositorySource(clients());
    expect(await source.environmentSecretNames("acme/api", "production")).toEqual({
      names: ["AWS_SECRET_ACCESS_KEY", "DEPLOY_TOKEN"],
    });
    expect(await source.environmentSecretNames("acme/api", "qa/eu")).toEqual({ names: [] });
    expect(sandbox.state.callsTo("github", "listEnvironmentSecrets").length).toBeGreaterThanOrEqual(2);
  });

  it("an environment deleted since holds no secrets; without Secrets: read it cannot tell", async () => {
    const source = new GitHubRepositorySource(clients());
    expect(await source.environmentSecretNames("acme/api", "staging")).toEqual({ names: [] });
    expect(await source.environmentSecretNames("acme/locked", "production", 32)).toEqual({
      unknown: SECRETS_UNREADABLE,
    });
  });
});

describe("the issue checklist", () => {
  it("ticks only the items whose text matches, keeping a person's edits and ticks, and writes once", async () => {
    const tracker = new GitHubIssueTracker(clients());
    const first = await tracker.updateChecklist({ repository: "acme/api" }, 1, [
      CHECKLIST.switchWorkflows,
      CHECKLIST.deleteSecrets,
    ]);
    expect(first).toEqual({ ticked: [CHECKLIST.switchWorkflows, CHECKLIST.deleteSecrets] });
    const body = sandbox.state.repo("acme/api")?.issues[0]?.body ?? "";
    expect(body).toContain(`- [x] ${CHECKLIST.switchWorkflows}\r\n`);
    expect(body).toContain(`- [x] ${CHECKLIST.deleteSecrets}\r\n`);
    expect(body).toContain("- [ ] Create the role(s) from the plan beside the existing user");
    expect(body).toContain("- [x] Something a person ticked themselves");
    expect(body).toContain("- [ ] A line a person added");
    expect(body.split("\r\n")).toHaveLength(ISSUE_BODY.split("\r\n").length);

    // The next day: nothing left to tick, so GitHub is not written to.
    const patches = sandbox.state.callsTo("github", "updateIssue").length;
    const again = await tracker.updateChecklist({ repository: "acme/api" }, 1, [CHECKLIST.switchWorkflows]);
    expect(again).toEqual({ ticked: [] });
    expect(sandbox.state.callsTo("github", "updateIssue")).toHaveLength(patches);
  });

  it("tells, without throwing, that issues are disabled (410) or the issue is gone (404)", async () => {
    const tracker = new GitHubIssueTracker(clients());
    const disabled = await tracker.updateChecklist({ repository: "acme/no-issues", installationId: 33 }, 1, [
      CHECKLIST.switchWorkflows,
    ]);
    expect(disabled).toEqual({ unavailable: expect.stringContaining("410") });
    const gone = await tracker.updateChecklist({ repository: "acme/api" }, 999, [CHECKLIST.switchWorkflows]);
    expect(gone).toEqual({ unavailable: expect.stringContaining("404") });
  });
});
