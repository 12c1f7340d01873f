/**
 * Trust policy semantics (facts.md, GitHub Actions OIDC): the sub values the protected branch or
 * environment presents are trusted; a fork's pull request, another branch, another repository and
 * a token for another audience are not; the format follows the repository (default, OWNER@ID for new
 * or renamed repositories, customised claim keys).
 */

import { validateTrustPolicy } from "@cloud-copilot/iam-policy";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { staticCatalogue } from "../../src/oidc-plan/action-catalogue.js";
import { buildMigrationPlan, type PlanInput } from "../../src/oidc-plan/plan.js";
import {
  type DeploymentContext,
  type PlanRepository,
  pullRequestSub,
  repositoryFormats,
  subValuesFor,
} from "../../src/oidc-plan/sub-claims.js";
import {
  isWildcardRepositorySub,
  type PolicyDocument,
  stringLike,
  trustAllows,
  trustPolicy,
  UnsafeTrustError,
} from "../../src/oidc-plan/trust-policy.js";

const ACCOUNT = "210987654321";
const repo: PlanRepository = {
  owner: "acme",
  name: "web",
  ownerId: 4100,
  repoId: 52000,
  createdAt: "2024-02-10T08:00:00Z",
  defaultBranch: "main",
  environments: ["staging", "production"],
};
const production: DeploymentContext = { kind: "environment", name: "production" };
const mainBranch: DeploymentContext = { kind: "refs", refs: [{ type: "branch", pattern: "main" }] };
const claims = (sub: string, aud = "sts.amazonaws.com") => ({ sub, aud });

function policyFor(r: PlanRepository, context: DeploymentContext): PolicyDocument {
  return trustPolicy(ACCOUNT, subValuesFor(r, context).values);
}

const WORKFLOW = `name: deploy
on:
  push:
    branches: [main]
  pull_request:
jobs:
  deploy:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    environment: production
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
    steps:
      - run: aws s3 ls
  test:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
    steps:
      - run: aws s3 ls
`;

describe("a production environment role (default sub format)", () => {
  const policy = policyFor(repo, production);

  it("trusts the production environment of this repository", () => {
    expect(trustAllows(policy, claims("repo:acme/web:environment:production"), ACCOUNT)).toBe(true);
  });

  it("does not trust a pull request (a fork's included), another environment, branch or repository", () => {
    for (const sub of [
      pullRequestSub(repo),
      "repo:acme/web:environment:staging",
      "repo:acme/web:environment:Production",
      "repo:acme/web:ref:refs/heads/main",
      "repo:acme/web-fork:environment:production",
      "repo:evil/web:environment:production",
      "repo:acme/web:environment:production:extra",
    ]) {
      expect(trustAllows(policy, claims(sub), ACCOUNT), sub).toBe(false);
    }
  });

  it("does not trust a token minted for another audience", () => {
    expect(
      trustAllows(policy, claims("repo:acme/web:environment:production", "https://github.com/acme"), ACCOUNT),
    ).toBe(false);
  });

  it("is a valid IAM trust policy with the aud condition and the exact sub", () => {
    expect(validateTrustPolicy(policy)).toEqual([]);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]).toEqual({
      Sid: "GitHubActionsExact",
      Effect: "Allow",
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
          "token.actions.githubusercontent.com:sub": ["repo:acme/web:environment:production"],
        },
      },
    });
  });
});

describe("a main-branch role", () => {
  const policy = policyFor(repo, mainBranch);
  it("trusts pushes to main only", () => {
    expect(trustAllows(policy, claims("repo:acme/web:ref:refs/heads/main"), ACCOUNT)).toBe(true);
    expect(trustAllows(policy, claims("repo:acme/web:ref:refs/heads/feature/main"), ACCOUNT)).toBe(false);
    expect(trustAllows(policy, claims("repo:acme/web:ref:refs/tags/main"), ACCOUNT)).toBe(false);
    expect(trustAllows(policy, claims(pullRequestSub(repo)), ACCOUNT)).toBe(false);
  });

  it("for any other branch name and any other repository, says no (property)", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9._/-]{1,30}$/);
    fc.assert(
      fc.property(name, name, (branch, other) => {
        fc.pre(branch !== "main");
        expect(trustAllows(policy, claims(`repo:acme/web:ref:refs/heads/${branch}`), ACCOUNT)).toBe(false);
        fc.pre(other !== "web");
        expect(trustAllows(policy, claims(`repo:acme/${other}:ref:refs/heads/main`), ACCOUNT)).toBe(false);
      }),
    );
  });
});

describe("branch and tag patterns", () => {
  const release: DeploymentContext = { kind: "refs", refs: [{ type: "tag", pattern: "v*" }] };
  const policy = policyFor(repo, release);
  it("uses StringLike in its own statement, still with the aud condition", () => {
    const [statement] = policy.Statement;
    expect(statement?.Condition).toEqual({
      StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
      StringLike: { "token.actions.githubusercontent.com:sub": ["repo:acme/web:ref:refs/tags/v*"] },
    });
    expect(trustAllows(policy, claims("repo:acme/web:ref:refs/tags/v1.2.3"), ACCOUNT)).toBe(true);
    expect(trustAllows(policy, claims("repo:acme/web:ref:refs/heads/v1"), ACCOUNT)).toBe(false);
    expect(trustAllows(policy, claims("repo:acme/other:ref:refs/tags/v1"), ACCOUNT)).toBe(false);
  });

  it("keeps exact and pattern subs in separate statements, so either one is enough", () => {
    const both: DeploymentContext = {
      kind: "refs",
      refs: [
        { type: "branch", pattern: "main" },
        { type: "branch", pattern: "release/*" },
      ],
    };
    const mixed = policyFor(repo, both);
    expect(mixed.Statement).toHaveLength(2);
    expect(trustAllows(mixed, claims("repo:acme/web:ref:refs/heads/main"), ACCOUNT)).toBe(true);
    expect(trustAllows(mixed, claims("repo:acme/web:ref:refs/heads/release/2026.10"), ACCOUNT)).toBe(true);
    expect(trustAllows(mixed, claims("repo:acme/web:ref:refs/heads/develop"), ACCOUNT)).toBe(false);
  });
});

describe("never a wildcard repository sub", () => {
  it("refuses subs that reach the repository or the whole context", () => {
    for (const sub of [
      "repo:acme/web:*",
      "repo:acme/*:ref:refs/heads/main",
      "repo:*:environment:production",
      "repo:acme/web:environment:*",
      "repo:acme/web:ref:*",
      "repo:acme/web:ref:refs/*",
      "repo:acme/web:ref:refs/heads/*",
      "*",
    ]) {
      expect(isWildcardRepositorySub(sub), sub).toBe(true);
      expect(() => trustPolicy(ACCOUNT, [{ value: sub, match: "StringLike" }]), sub).toThrow(
        UnsafeTrustError,
      );
    }
    expect(isWildcardRepositorySub("repo:acme/web:ref:refs/tags/v*")).toBe(false);
    expect(isWildcardRepositorySub("repo:acme/web:ref:refs/heads/release/*")).toBe(false);
  });

  it("a push to any branch is neither pinned to the default branch nor trusted on every branch: its keys stay", () => {
    const any: PlanInput = {
      repository: repo,
      accountId: ACCOUNT,
      workflows: [
        {
          path: ".github/workflows/any.yml",
          content: `on: push\njobs:\n  d:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: \${{ secrets.K }}\n    steps:\n      - run: aws s3 ls\n`,
        },
      ],
    };
    const plan = buildMigrationPlan(any, staticCatalogue([]));
    // Issue 11: pinning main would fail every other branch's run once the keys were gone.
    expect(plan.roles).toEqual([]);
    expect(plan.warnings.join("\n")).toMatch(/KEYS KEPT.*push to any branch/);
  });

  it("no generated trust policy in a whole plan lacks the aud condition or carries a wildcard repository sub", () => {
    const plan = buildMigrationPlan(
      {
        repository: repo,
        accountId: ACCOUNT,
        workflows: [{ path: ".github/workflows/d.yml", content: WORKFLOW }],
      },
      staticCatalogue([]),
    );
    expect(plan.roles.length).toBeGreaterThan(0);
    for (const file of plan.files.filter((f) => f.path.includes("trust-policy"))) {
      const policy = JSON.parse(file.content) as PolicyDocument;
      expect(validateTrustPolicy(policy)).toEqual([]);
      for (const statement of policy.Statement) {
        expect(statement.Condition?.StringEquals?.["token.actions.githubusercontent.com:aud"]).toBe(
          "sts.amazonaws.com",
        );
        const subs = [
          statement.Condition?.StringEquals?.["token.actions.githubusercontent.com:sub"] ?? [],
          statement.Condition?.StringLike?.["token.actions.githubusercontent.com:sub"] ?? [],
        ].flat();
        expect(subs.length).toBeGreaterThan(0);
        for (const sub of subs) expect(isWildcardRepositorySub(sub)).toBe(false);
      }
    }
  });
});

describe("pull requests get only the pull_request sub", () => {
  it("a job that runs on pull requests only gets a role trusting just that; a push-only job's role does not trust it", () => {
    const plan = buildMigrationPlan(
      {
        repository: repo,
        accountId: ACCOUNT,
        workflows: [{ path: ".github/workflows/d.yml", content: WORKFLOW }],
      },
      staticCatalogue([]),
    );
    // Issue 11: removing the pull-request job's keys without a role would break it.
    const roleOf = (job: string) =>
      plan.roles.find((role) => role.jobs.includes(`.github/workflows/d.yml#${job}`));
    expect(
      roleOf("deploy") &&
        trustAllows(roleOf("deploy")?.trustPolicy as PolicyDocument, claims(pullRequestSub(repo)), ACCOUNT),
    ).toBe(false);
    expect(roleOf("test")?.subs.map((sub) => sub.value)).toEqual([pullRequestSub(repo)]);
    expect(plan.warnings.join("\n")).toMatch(/job test runs on pull requests.*forks get no OIDC token/);
    // The pull-request job's keys are removed: it assumes its own role instead.
    const rewritten = plan.files.find((file) => file.path === "workflows/d.yml")?.content ?? "";
    expect(rewritten).not.toContain("AWS_ACCESS_KEY_ID");
  });
});

describe("the repository's sub format", () => {
  it("a repository created after 2026-07-15 presents OWNER@ID/REPO@ID (and only that)", () => {
    const fresh = { ...repo, createdAt: "2026-08-01T00:00:00Z" };
    const policy = policyFor(fresh, production);
    expect(trustAllows(policy, claims("repo:acme@4100/web@52000:environment:production"), ACCOUNT)).toBe(
      true,
    );
    expect(trustAllows(policy, claims("repo:acme/web:environment:production"), ACCOUNT)).toBe(false);
    // Another repository that took the name keeps a different id: not trusted.
    expect(trustAllows(policy, claims("repo:acme@4100/web@99999:environment:production"), ACCOUNT)).toBe(
      false,
    );
  });

  it("a renamed or transferred repository presents the id format too", () => {
    expect(repositoryFormats({ ...repo, renamedOrTransferred: true }).formats).toEqual(["id"]);
  });

  it("created on the switch day itself, or with an unknown date but known ids, both forms are trusted", () => {
    expect(repositoryFormats({ ...repo, createdAt: "2026-07-15T12:00:00Z" }).formats).toEqual([
      "default",
      "id",
    ]);
    const { createdAt: _dropped, ...undated } = repo;
    expect(repositoryFormats(undated).formats).toEqual(["default", "id"]);
  });

  it("offline, with neither date nor ids, the default format is used and the plan says to check", () => {
    const offline: PlanRepository = { owner: "acme", name: "web", defaultBranch: "main", environments: [] };
    const result = repositoryFormats(offline);
    expect(result.formats).toEqual(["default"]);
    expect(result.notes.join()).toMatch(/re-run online/);
  });

  it("customised claim keys change the sub to what the repository actually presents", () => {
    const custom = {
      ...repo,
      subClaim: { useDefault: false, includeClaimKeys: ["repo", "context", "job_workflow_ref"] },
    };
    const { values } = subValuesFor(custom, mainBranch, { workflowPath: ".github/workflows/deploy.yml" });
    expect(values).toEqual([
      {
        value:
          "repo:acme/web:ref:refs/heads/main:job_workflow_ref:acme/web/.github/workflows/deploy.yml@refs/heads/main",
        match: "StringEquals",
      },
    ]);
    const policy = trustPolicy(ACCOUNT, values);
    expect(trustAllows(policy, claims("repo:acme/web:ref:refs/heads/main"), ACCOUNT)).toBe(false);
    expect(
      trustAllows(
        policy,
        claims(
          "repo:acme/web:ref:refs/heads/main:job_workflow_ref:acme/web/.github/workflows/other.yml@refs/heads/main",
        ),
        ACCOUNT,
      ),
    ).toBe(false);
  });

  it("repository ids in the template are filled in", () => {
    const custom = {
      ...repo,
      subClaim: { useDefault: false, includeClaimKeys: ["repository_owner_id", "repository_id", "context"] },
    };
    expect(subValuesFor(custom, production).values.map((v) => v.value)).toEqual([
      "repository_owner_id:4100:repository_id:52000:environment:production",
    ]);
  });

  it("a template that does not name the repository is refused: no role, workflows left alone", () => {
    const custom = {
      ...repo,
      subClaim: { useDefault: false, includeClaimKeys: ["repository_owner", "context"] },
    };
    expect(subValuesFor(custom, production).refused).toMatch(/does not name the repository/);
    const plan = buildMigrationPlan(
      {
        repository: custom,
        accountId: ACCOUNT,
        workflows: [{ path: ".github/workflows/d.yml", content: WORKFLOW }],
      },
      staticCatalogue([]),
    );
    expect(plan.roles).toEqual([]);
    expect(plan.files).toEqual([]);
    expect(plan.nothingToMigrate).toBe(false);
    expect(plan.warnings[0]).toMatch(/no role can be planned/);
  });
});

describe("the evaluator itself", () => {
  it("implements StringLike as IAM does (* any run, ? one character, case-sensitive)", () => {
    expect(stringLike("repo:a/b:ref:refs/tags/v*", "repo:a/b:ref:refs/tags/v")).toBe(true);
    expect(stringLike("v?", "v1")).toBe(true);
    expect(stringLike("v?", "v12")).toBe(false);
    expect(stringLike("a.b", "axb")).toBe(false);
    expect(stringLike("Main", "main")).toBe(false);
  });

  it("lets an explicit deny win and refuses to guess at operators it does not know", () => {
    const base = policyFor(repo, mainBranch);
    const denied: PolicyDocument = {
      ...base,
      Statement: [
        ...base.Statement,
        {
          Effect: "Deny",
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { "token.actions.githubusercontent.com:sub": "repo:acme/web:ref:refs/heads/main" },
          },
        },
      ],
    };
    expect(trustAllows(denied, claims("repo:acme/web:ref:refs/heads/main"))).toBe(false);
    const odd: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: { ForAnyValueStringLike: { "token.actions.githubusercontent.com:sub": "x" } },
        },
      ],
    };
    expect(() => trustAllows(odd, claims("x"))).toThrow(/does not evaluate/);
  });
});

describe("environments named by expressions", () => {
  function plan(content: string) {
    return buildMigrationPlan(
      { repository: repo, accountId: ACCOUNT, workflows: [{ path: ".github/workflows/e.yml", content }] },
      staticCatalogue([]),
    );
  }
  const job = (environment: string, extra = "") => `on:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      target:
        type: choice
        options: [staging, production]
jobs:
  deploy:
    runs-on: ubuntu-latest
${extra}    environment: ${environment}
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
    steps:
      - run: aws s3 ls
`;

  it("a template over a matrix value trusts each name it can take, and picks the role with format()", () => {
    const result = plan(
      job(`deploy-\${{ matrix.region }}`, "    strategy:\n      matrix:\n        region: [us, eu]\n"),
    );
    expect(result.roles.flatMap((role) => role.subs.map((sub) => sub.value)).sort()).toEqual([
      "repo:acme/web:environment:deploy-eu",
      "repo:acme/web:environment:deploy-us",
    ]);
    const content = result.files.find((f) => f.path === "workflows/e.yml")?.content ?? "";
    expect(content).toContain("[format('deploy-{0}', matrix.region)] }}");
  });

  it("a workflow_dispatch choice input trusts exactly its options", () => {
    const result = plan(job(`\${{ inputs.target }}`));
    expect(result.roles.map((role) => role.slug).sort()).toEqual(["env-production", "env-staging"]);
    expect(result.files.find((f) => f.path === "workflows/e.yml")?.content).toContain("[inputs.target] }}");
  });

  it("an expression it cannot resolve falls back to the repository's environments, and says so", () => {
    const result = plan(job(`\${{ vars.DEPLOY_ENV }}`));
    expect(result.roles.map((role) => role.slug).sort()).toEqual(["env-production", "env-staging"]);
    expect(result.warnings.join("\n")).toMatch(
      /could not be resolved; trusting the repository's environments/,
    );
  });
});
