/**
 * The OIDC plan's GitHub inputs over real HTTP against the sandbox's GitHub API (Octokit, a token in
 * state.githubTokens): repository ids and dates, environments, the sub claim template, workflow files
 * through the contents API; then `leak-responder plan` online, end to end.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { githubService } from "../../sandbox/github.js";
import { demoAppKeyPair } from "../../sandbox/scenario.js";
import { Sandbox } from "../../sandbox/server.js";
import { githubClients } from "../../src/adapters/github/octokit.js";
import { GitHubRepositorySource } from "../../src/adapters/github/repository-source.js";
import { main } from "../../src/cli/main.js";
import { PermanentFailure } from "../../src/domain/errors.js";

const sandbox = new Sandbox({ services: [githubService] });
const token = `ghp_${randomBytes(18).toString("hex")}`;

const DEPLOY = `name: Deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      # Keys from the environment's secrets.
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: \${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
          aws-region: eu-west-1
      - run: aws s3 sync site s3://acme-web-production
`;
const LINT =
  "name: Lint\non: pull_request\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm run lint # ünïcödé survives base64\n";

function source() {
  return new GitHubRepositorySource(
    githubClients(
      { apiUrl: sandbox.githubUrl, auth: { kind: "token", token } },
      { retries: 0, retryAfterBaseMs: 1 },
    ),
  );
}

let web: { id: number; ownerId: number };
beforeAll(async () => {
  await sandbox.start();
  sandbox.state.githubTokens.add(token);
  const repo = sandbox.state.addRepo("acme/web", {
    createdAt: "2026-08-03T12:00:00Z",
    defaultBranch: "main",
    environments: ["staging", "production"],
    files: new Map([
      [".github/workflows/deploy.yml", DEPLOY],
      [".github/workflows/lint.yaml", LINT],
      [".github/workflows/README.md", "not a workflow"],
      [".github/workflows/templates/base.yml", "name: nested, not read"],
      ["src/index.ts", "export {};"],
    ]),
  });
  web = { id: repo.id, ownerId: repo.ownerId };
  const custom = sandbox.state.addRepo("acme/custom", {
    files: new Map([[".github/workflows/deploy.yml", DEPLOY]]),
  });
  custom.oidcSubClaim = { use_default: false, include_claim_keys: ["repo", "context", "job_workflow_ref"] };
  sandbox.state.addRepo("acme/empty");
});
afterAll(() => sandbox.stop());
afterEach(() => sandbox.faults.clear());

describe("GitHubRepositorySource against the sandbox", () => {
  it("reads ids, creation date, default branch, environments and every workflow file byte-for-byte", async () => {
    const snapshot = await source().load("acme/web");
    expect(snapshot.repository).toEqual({
      owner: "acme",
      name: "web",
      ownerId: web.ownerId,
      repoId: web.id,
      createdAt: "2026-08-03T12:00:00Z",
      defaultBranch: "main",
      visibility: "private",
      environments: ["staging", "production"],
      subClaim: { useDefault: true },
    });
    expect(snapshot.workflows).toEqual([
      { path: ".github/workflows/deploy.yml", content: DEPLOY },
      { path: ".github/workflows/lint.yaml", content: LINT },
    ]);
    expect(sandbox.state.callsTo("github", "getContent")).toHaveLength(3);
  });

  it("an incident no webhook delivered (no installation id) finds the App's installation on the repository; without one it says the App is not installed", async () => {
    const keys = demoAppKeyPair();
    const appId = sandbox.state.nextNumericId();
    sandbox.state.githubApps.set(appId, { publicKeyPem: keys.publicKeyPem });
    sandbox.state.addRepo("acme/installed", {
      installationId: 9001,
      files: new Map([[".github/workflows/deploy.yml", DEPLOY]]),
    });
    const app = new GitHubRepositorySource(
      githubClients(
        { apiUrl: sandbox.githubUrl, auth: { kind: "app", appId, privateKey: keys.privateKeyPem } },
        { retries: 0, retryAfterBaseMs: 1 },
      ),
    );
    const snapshot = await app.load("acme/installed");
    expect(snapshot.workflows.map((w) => w.path)).toEqual([".github/workflows/deploy.yml"]);
    expect(sandbox.state.callsTo("github", "getRepoInstallation")).toHaveLength(1);
    await expect(app.load("acme/empty")).rejects.toThrow(/GitHub App is not installed on acme\/empty/);
  });

  it("reads a customised sub claim template", async () => {
    const snapshot = await source().load("acme/custom");
    expect(snapshot.repository.subClaim).toEqual({
      useDefault: false,
      includeClaimKeys: ["repo", "context", "job_workflow_ref"],
    });
  });

  it("a repository without workflows or environments has none, not an error", async () => {
    const snapshot = await source().load("acme/empty");
    expect(snapshot.workflows).toEqual([]);
    expect(snapshot.repository.environments).toEqual([]);
  });

  it("a repository the token cannot see is a PermanentFailure a person can act on", async () => {
    await expect(source().load("acme/missing")).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof PermanentFailure &&
        /acme\/missing: GitHub answered Not Found .*cannot see it/.test(error.message),
    );
  });

  it("a denied contents read names the permission that is missing", async () => {
    sandbox.faults.inject({ service: "github", operation: "getContent", kind: "access-denied" });
    await expect(source().load("acme/web")).rejects.toSatisfy(
      (error: unknown) => error instanceof PermanentFailure && /needs contents: read/.test(error.message),
    );
  });
});

describe("leak-responder plan, online", () => {
  let out: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "oidc-plan-online-"));
  });
  afterAll(async () => {
    process.env = saved;
    await rm(out, { recursive: true, force: true });
  });

  it("plans from the GitHub API: the new repository's OWNER@ID sub, the rewritten workflow, the guide", async () => {
    process.env = { ...saved, GITHUB_TOKEN: token, GITHUB_API_URL: sandbox.githubUrl };
    delete process.env.GITHUB_APP_ID;
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
    try {
      const code = await main(["plan", "--repo", "acme/web", "--account", "123456789012", "--out", out]);
      expect(code).toBe(0);
    } finally {
      vi.restoreAllMocks();
    }
    expect(printed.join("\n")).toContain("## OIDC migration plan for acme/web");
    const trust = JSON.parse(await readFile(join(out, "roles/env-production/trust-policy.json"), "utf8")) as {
      Statement: Array<{ Condition: { StringEquals: Record<string, unknown> } }>;
    };
    // Created after 2026-07-15 (facts.md): the sub carries the owner and repository ids.
    expect(trust.Statement[0]?.Condition.StringEquals["token.actions.githubusercontent.com:sub"]).toEqual([
      `repo:acme@${web.ownerId}/web@${web.id}:environment:production`,
    ]);
    const rewritten = await readFile(join(out, "workflows/deploy.yml"), "utf8");
    expect(rewritten).toContain(
      "      # Keys from the environment's secrets.\n      - uses: aws-actions/configure-aws-credentials@v6\n",
    );
    expect(rewritten).not.toContain("secrets.AWS_");
    // The pull-request-only workflow had no keys: it is not touched.
    await expect(readFile(join(out, "workflows/lint.yml"), "utf8")).rejects.toThrow();
  });
});
