/**
 * Issue 11, the trigger side of the OIDC plan: what a job's triggers make GitHub present as the
 * token's sub (facts.md, GitHub Actions OIDC) decides whether the keys can go. What a user would
 * notice: a job never loses its keys without a role that trusts the sub it will present, a reusable
 * workflow is judged by its callers, a job that runs on every branch is never pinned to main, and an
 * offline plan says which default branch it assumed.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { main } from "../../src/cli/main.js";
import { staticCatalogue } from "../../src/oidc-plan/action-catalogue.js";
import { buildMigrationPlan, type MigrationPlan } from "../../src/oidc-plan/plan.js";
import { trustAllows } from "../../src/oidc-plan/trust-policy.js";
import type { WorkflowFile } from "../../src/oidc-plan/workflow-yaml.js";
import { ACCOUNT, acmeWeb } from "../support/plan-repository.js";

const repo = acmeWeb(["production"]);
const claims = (sub: string) => ({ sub, aud: "sts.amazonaws.com" });

function plan(workflows: Record<string, string>): MigrationPlan {
  const files: WorkflowFile[] = Object.entries(workflows).map(([name, content]) => ({
    path: `.github/workflows/${name}`,
    content,
  }));
  return buildMigrationPlan(
    { repository: repo, workflows: files, accountId: ACCOUNT, region: "us-east-1" },
    staticCatalogue([]),
  );
}

/** The workflow as the plan leaves it: its rewritten copy, or the original when not rewritten. */
function planned(result: MigrationPlan, name: string, original: string): string {
  return result.files.find((file) => file.path === `workflows/${name}`)?.content ?? original;
}

function rolesOf(result: MigrationPlan, job: string) {
  return result.roles.filter((role) => role.jobs.includes(job));
}

function guide(result: MigrationPlan): string {
  return result.files.find((file) => file.path === "MIGRATION.md")?.content ?? "";
}

const KEYS = `    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
`;

const CALLED = `name: deploy
on:
  workflow_call:
    secrets:
      AWS_ACCESS_KEY_ID:
        required: true
      AWS_SECRET_ACCESS_KEY:
        required: true
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: \${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
          role-to-assume: arn:aws:iam::${ACCOUNT}:role/deployer
          aws-region: us-east-1
      - run: aws s3 sync build s3://acme-web
`;

describe("a reusable workflow is judged by its callers", () => {
  it("with no caller in the repository, keeps its configure step, role-to-assume and declared secrets, and says it needs its callers", () => {
    const result = plan({ "deploy.yml": CALLED });
    const content = planned(result, "deploy.yml", CALLED);
    const doc = parse(content) as {
      on: { workflow_call: { secrets: Record<string, unknown> } };
      jobs: { deploy: { steps: Array<{ uses?: string; with?: Record<string, string> }> } };
    };
    expect(Object.keys(doc.on.workflow_call.secrets)).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    const configure = doc.jobs.deploy.steps.find((step) => step.uses?.startsWith("aws-actions/"));
    expect(configure?.with?.["role-to-assume"]).toBe(`arn:aws:iam::${ACCOUNT}:role/deployer`);
    expect(configure?.with?.["aws-access-key-id"]).toBe(`\${{ secrets.AWS_ACCESS_KEY_ID }}`);
    expect(result.roles).toEqual([]);
    expect(result.warnings.join("\n")).toMatch(/deploy\.yml.*needs its callers/);
    expect(result.findings.every((finding) => !finding.resolved)).toBe(true);
  });

  it("called with `secrets: inherit` from this repository, trusts the caller's sub and keeps its configure step", () => {
    const caller = `on:
  push:
    branches: [release]
jobs:
  ship:
    uses: ./.github/workflows/deploy.yml
    secrets: inherit
`;
    const result = plan({ "deploy.yml": CALLED, "ship.yml": caller });
    const [role, ...others] = rolesOf(result, ".github/workflows/deploy.yml#deploy");
    expect(others).toEqual([]);
    expect(
      trustAllows(
        role?.trustPolicy ?? { Version: "2012-10-17", Statement: [] },
        claims("repo:acme/web:ref:refs/heads/release"),
        ACCOUNT,
      ),
    ).toBe(true);
    expect(
      trustAllows(
        role?.trustPolicy ?? { Version: "2012-10-17", Statement: [] },
        claims("repo:acme/web:ref:refs/heads/main"),
        ACCOUNT,
      ),
    ).toBe(false);
    const doc = parse(planned(result, "deploy.yml", CALLED)) as {
      jobs: { deploy: { steps: Array<{ uses?: string; with?: Record<string, string> }> } };
    };
    const configure = doc.jobs.deploy.steps.find((step) => step.uses?.startsWith("aws-actions/"));
    expect(configure?.with?.["role-to-assume"]).toBe(role?.arn);
    const ship = parse(planned(result, "ship.yml", caller)) as { jobs: { ship: { permissions?: unknown } } };
    expect(ship.jobs.ship.permissions).toEqual({ "id-token": "write", contents: "read" });
  });

  it("whose only caller runs on pull_request_target keeps the keys on both sides", () => {
    const caller = `on: pull_request_target
jobs:
  ship:
    uses: ./.github/workflows/deploy.yml
    secrets:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
`;
    const result = plan({ "deploy.yml": CALLED, "ship.yml": caller });
    expect(result.roles).toEqual([]);
    const ship = parse(planned(result, "ship.yml", caller)) as { jobs: { ship: { secrets: unknown } } };
    expect(Object.keys(ship.jobs.ship.secrets as object)).toEqual([
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
    ]);
    const called = parse(planned(result, "deploy.yml", CALLED)) as {
      on: { workflow_call: { secrets: Record<string, unknown> } };
    };
    expect(Object.keys(called.on.workflow_call.secrets)).toHaveLength(2);
  });
});

describe("jobs that run on pull requests", () => {
  const workflow = `on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
${KEYS}    steps:
      - run: aws s3 ls s3://acme-test
  deploy:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
${KEYS}    steps:
      - run: aws s3 sync build s3://acme-web
`;

  it("a job on push and pull_request trusts the pull_request sub too, with the fork warning; a push-only job's role does not", () => {
    const result = plan({ "ci.yml": workflow });
    const [testRole] = rolesOf(result, ".github/workflows/ci.yml#test");
    const [deployRole] = rolesOf(result, ".github/workflows/ci.yml#deploy");
    expect(testRole && trustAllows(testRole.trustPolicy, claims("repo:acme/web:pull_request"), ACCOUNT)).toBe(
      true,
    );
    expect(
      testRole && trustAllows(testRole.trustPolicy, claims("repo:acme/web:ref:refs/heads/main"), ACCOUNT),
    ).toBe(true);
    expect(
      deployRole && trustAllows(deployRole.trustPolicy, claims("repo:acme/web:pull_request"), ACCOUNT),
    ).toBe(false);
    expect(result.warnings.join("\n")).toMatch(/pull requests from forks get no OIDC token/);
    expect(guide(result)).toMatch(/pull requests from forks get no OIDC token/);
  });

  it("a job that runs only on pull requests gets a pull_request role rather than losing its keys without one", () => {
    const only = `on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
${KEYS}    steps:
      - run: aws s3 ls s3://acme-test
`;
    const result = plan({ "pr.yml": only });
    const [role] = rolesOf(result, ".github/workflows/pr.yml#test");
    expect(role && trustAllows(role.trustPolicy, claims("repo:acme/web:pull_request"), ACCOUNT)).toBe(true);
    const content = planned(result, "pr.yml", only);
    expect(content).toContain(`role-to-assume: ${role?.arn}`);
    expect(content).not.toContain("AWS_SECRET_ACCESS_KEY");
  });

  it("a pull_request_target job keeps its keys and the plan says why", () => {
    const target = `on: pull_request_target
jobs:
  label:
    runs-on: ubuntu-latest
${KEYS}    steps:
      - run: aws s3 ls s3://acme-test
`;
    const result = plan({ "target.yml": target });
    expect(result.roles).toEqual([]);
    expect(planned(result, "target.yml", target)).toContain("AWS_SECRET_ACCESS_KEY");
    expect(result.warnings.join("\n")).toMatch(/target\.yml job label.*pull_request_target.*keys are kept/);
  });
});

describe("a push to any branch is never pinned to the default branch", () => {
  for (const [label, on] of [
    ["a bare `on: push`", "on: push\n"],
    ["`branches-ignore`", "on:\n  push:\n    branches-ignore: [gh-pages]\n"],
  ] as const) {
    it(`${label}: the job keeps its keys, with a loud warning in the plan and MIGRATION.md`, () => {
      const content = `${on}jobs:\n  build:\n    runs-on: ubuntu-latest\n${KEYS}    steps:\n      - run: aws s3 ls\n`;
      const result = plan({ "any.yml": content });
      expect(rolesOf(result, ".github/workflows/any.yml#build")).toEqual([]);
      expect(planned(result, "any.yml", content)).toContain("AWS_SECRET_ACCESS_KEY");
      const warning = /KEYS KEPT.*any\.yml job build runs on a push to any branch/;
      expect(result.warnings.join("\n")).toMatch(warning);
      expect(guide(result)).toMatch(warning);
      expect(result.findings.every((finding) => !finding.resolved)).toBe(true);
    });
  }

  it("workflow-level keys stay for the job that keeps them, while a job pinned by `if:` gets its role", () => {
    const content = `on: push
env:
  AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
  AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
jobs:
  deploy:
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    steps:
      - run: aws s3 sync build s3://acme-web
  check:
    runs-on: ubuntu-latest
    steps:
      - run: aws s3 ls s3://acme-web
`;
    const result = plan({ "mixed.yml": content });
    const doc = parse(planned(result, "mixed.yml", content)) as { env?: Record<string, string> };
    expect(Object.keys(doc.env ?? {})).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    expect(rolesOf(result, ".github/workflows/mixed.yml#deploy").map((role) => role.description)).toEqual([
      "branch main",
    ]);
    expect(result.warnings.join("\n")).toMatch(/workflow-level keys stay for check/);
  });

  it("an `if:` that pins the ref lets the same trigger be migrated to that branch", () => {
    const content = `on: push\njobs:\n  deploy:\n    if: github.ref == 'refs/heads/main'\n    runs-on: ubuntu-latest\n${KEYS}    steps:\n      - run: aws s3 ls\n`;
    const result = plan({ "pinned.yml": content });
    expect(rolesOf(result, ".github/workflows/pinned.yml#deploy").map((role) => role.description)).toEqual([
      "branch main",
    ]);
  });
});

describe("the default branch", () => {
  let dir: string;
  let printed: string[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "oidc-plan-triggers-"));
    printed = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    await writeFile(
      join(dir, "nightly.yml"),
      `on:\n  schedule:\n    - cron: "0 3 * * *"\njobs:\n  sync:\n    runs-on: ubuntu-latest\n${KEYS}    steps:\n      - run: aws s3 ls\n`,
    );
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  async function offline(...extra: string[]) {
    const out = join(dir, "plan");
    const code = await main([
      "plan",
      "--repo",
      "acme/web",
      "--workflows",
      dir,
      "--out",
      out,
      "--json",
      ...extra,
    ]);
    expect(code).toBe(0);
    const parsed = JSON.parse(printed.join("\n")) as {
      warnings: string[];
      roles: Array<{ subs: Array<{ value: string }> }>;
    };
    return { ...parsed, guide: await readFile(join(out, "MIGRATION.md"), "utf8") };
  }

  it("offline without --default-branch, the plan says main was assumed and how to set it", async () => {
    const result = await offline();
    expect(result.roles.flatMap((role) => role.subs.map((sub) => sub.value))).toEqual([
      "repo:acme/web:ref:refs/heads/main",
    ]);
    expect(result.warnings.join("\n")).toMatch(
      /default branch was assumed to be main.*--default-branch NAME/,
    );
    expect(result.guide).toMatch(/default branch was assumed to be main/);
  });

  it("offline with --default-branch, a scheduled job's role trusts that branch and nothing is assumed", async () => {
    const result = await offline("--default-branch", "trunk");
    expect(result.roles.flatMap((role) => role.subs.map((sub) => sub.value))).toEqual([
      "repo:acme/web:ref:refs/heads/trunk",
    ]);
    expect(result.warnings.join("\n")).not.toMatch(/default branch was assumed/);
  });
});
