/**
 * The workflow corpus (test/fixtures/workflows): every style of static key the issue lists, run
 * through the whole generator. What a user would notice: the rewritten files parse, hold no key,
 * keep every untouched step byte-for-byte, apply as diffs, and a second run finds nothing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { applyPatch } from "diff";
import { beforeAll, describe, expect, it } from "vitest";
import { isMap, isSeq, parse } from "yaml";
import { loadActionCatalogue } from "../../src/oidc-plan/action-catalogue.js";
import {
  actionsToLookUp,
  buildMigrationPlan,
  type MigrationPlan,
  type PlanInput,
} from "../../src/oidc-plan/plan.js";
import { scanWorkflow } from "../../src/oidc-plan/workflow-scan.js";
import { rangeOf, type WorkflowFile, WorkflowSource } from "../../src/oidc-plan/workflow-yaml.js";
import { ACCOUNT, acmeWeb } from "../support/plan-repository.js";

const CORPUS = join(import.meta.dirname, "../fixtures/workflows");

const corpus: WorkflowFile[] = readdirSync(CORPUS)
  .filter((name) => name.endsWith(".yml"))
  .sort()
  .map((name) => ({ path: `.github/workflows/${name}`, content: readFileSync(join(CORPUS, name), "utf8") }));

function input(workflows: WorkflowFile[]): PlanInput {
  return {
    repository: acmeWeb(["staging", "production"]),
    workflows,
    accountId: ACCOUNT,
    region: "us-east-1",
  };
}

async function plan(workflows: WorkflowFile[]): Promise<MigrationPlan> {
  const request = input(workflows);
  return buildMigrationPlan(request, await loadActionCatalogue(actionsToLookUp(request)));
}

function file(result: MigrationPlan, path: string): string {
  const found = result.files.find((candidate) => candidate.path === path);
  if (!found)
    throw new Error(`the plan has no ${path}; it has ${result.files.map((f) => f.path).join(", ")}`);
  return found.content;
}

function rewritten(result: MigrationPlan, name: string): string {
  return file(result, `workflows/${name}`);
}

/** Each step's exact source text, by job: the unit "byte-for-byte" is judged on. */
function stepTexts(content: string): Map<string, string[]> {
  const source = WorkflowSource.parse({ path: "x.yml", content });
  const out = new Map<string, string[]>();
  for (const pair of source.pairs(source.map(source.get(source.root, "jobs")))) {
    const steps = source.seq(source.get(source.map(pair.value), "steps"));
    out.set(
      source.keyOf(pair) ?? "",
      (steps?.items ?? []).map((item) => {
        const range = rangeOf(item);
        if (!range) return "";
        return content.slice(source.lineStart(range[0]), source.endOfLines(range[1]));
      }),
    );
  }
  return out;
}

/** Anything that still reads as a static AWS key: key env names, key inputs, key secrets, configure set. */
function staticKeyReferences(content: string): string[] {
  return content
    .split("\n")
    .filter(
      (line) =>
        /\bAWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)\s*:/.test(line) ||
        /aws-(access-key-id|secret-access-key|session-token)\s*:\s*\$\{\{\s*secrets\./.test(line) ||
        /secrets\.[A-Z_]*AWS[A-Z_]*(KEY|SECRET|TOKEN)/.test(line) ||
        /aws configure set (aws_access_key_id|aws_secret_access_key|aws_session_token)/.test(line),
    );
}

let result: MigrationPlan;
beforeAll(async () => {
  result = await plan(corpus);
});

describe("the corpus covers the workflow styles the issue lists", () => {
  it("has at least 12 workflow files, each with a distinct way of using keys (or none)", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(12);
    const kinds = new Set(
      corpus.flatMap((workflow) => scanWorkflow(workflow).findings.map((finding) => finding.kind)),
    );
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining([
        "aws-env",
        "aws-action-inputs",
        "aws-input-to-action",
        "aws-run-line",
        "aws-reusable-secret",
        "aws-declared-secret",
        "azure-client-secret",
        "gcp-json-key",
      ]),
    );
    const levels = new Set(
      corpus.flatMap((workflow) =>
        scanWorkflow(workflow)
          .findings.filter((finding) => finding.kind === "aws-env")
          .map((finding) => finding.level),
      ),
    );
    expect([...levels].sort()).toEqual(["job", "step", "workflow"]);
  });
});

describe("every rewritten workflow", () => {
  it("exists for each workflow with static keys, and not for the one already on OIDC", () => {
    const changed = result.workflows.filter((workflow) => workflow.changed).map((workflow) => workflow.path);
    expect(changed).toHaveLength(corpus.length - 1);
    expect(changed).not.toContain(".github/workflows/already-oidc.yml");
    expect(result.findings.every((finding) => finding.resolved)).toBe(true);
  });

  for (const workflow of corpus.filter((w) => !w.path.endsWith("already-oidc.yml"))) {
    const name = workflow.path.split("/").pop() ?? "";
    describe(name, () => {
      it("parses as YAML and has no static key reference left", () => {
        const content = rewritten(result, name);
        expect(() => parse(content)).not.toThrow();
        expect(staticKeyReferences(content)).toEqual([]);
        expect(scanWorkflow({ path: workflow.path, content }).findings).toEqual([]);
      });

      it("keeps every step it did not need to touch byte-for-byte, and every full-line comment", () => {
        const before = stepTexts(workflow.content);
        const after = rewritten(result, name);
        const touched = new Set(
          scanWorkflow(workflow).findings.flatMap((finding) =>
            finding.stepIndex === undefined ? [] : [`${finding.job}#${finding.stepIndex}`],
          ),
        );
        for (const [job, steps] of before) {
          steps.forEach((text, index) => {
            if (!touched.has(`${job}#${index}`)) expect(after).toContain(text);
          });
        }
        for (const line of workflow.content.split("\n")) {
          if (/^\s*#/.test(line)) expect(after).toContain(line);
        }
      });

      it("comes with a unified diff that turns the original into the rewrite", () => {
        const diff = file(result, `workflows/${name.replace(/\.yml$/, "")}.diff`);
        expect(diff).toContain(`--- a/${workflow.path}`);
        expect(applyPatch(workflow.content, diff)).toBe(rewritten(result, name));
      });
    });
  }

  it("a second run of the generator over its own output finds nothing left to migrate", async () => {
    const output = corpus.map((workflow) => {
      const name = workflow.path.split("/").pop() ?? "";
      const again = result.files.find((f) => f.path === `workflows/${name}`);
      return again ? { path: workflow.path, content: again.content } : workflow;
    });
    const smoke = file(result, "workflows/oidc-smoke-test.yml");
    const second = await plan([...output, { path: ".github/workflows/oidc-smoke-test.yml", content: smoke }]);
    expect(second.findings).toEqual([]);
    expect(second.nothingToMigrate).toBe(true);
    expect(second.files).toEqual([]);
  });
});

describe("what each style turns into", () => {
  it("workflow-level env: keys leave the env, only the AWS job gets id-token and the v6 step", () => {
    const content = rewritten(result, "env-workflow-level.yml");
    const doc = parse(content) as {
      env: Record<string, string>;
      jobs: Record<string, Record<string, unknown>>;
    };
    expect(doc.env).toEqual({ AWS_REGION: "eu-west-1", SITE_BUCKET: "acme-site-production" });
    expect(doc.jobs.lint?.permissions).toBeUndefined();
    expect(doc.jobs.deploy?.permissions).toEqual({ "id-token": "write", contents: "read" });
    const steps = doc.jobs.deploy?.steps as Array<Record<string, unknown>>;
    const configure = steps.find((step) =>
      String(step.uses).startsWith("aws-actions/configure-aws-credentials"),
    );
    expect(configure).toMatchObject({
      uses: "aws-actions/configure-aws-credentials@v6",
      with: {
        "role-to-assume": `arn:aws:iam::${ACCOUNT}:role/gh-acme-web-branch-main`,
        "aws-region": `\${{ env.AWS_REGION }}`,
      },
    });
    expect(String((configure?.with as Record<string, string> | undefined)?.["role-session-name"])).toContain(
      `\${{ github.run_id }}`,
    );
    // Inserted after checkout, before anything that could call AWS.
    expect(steps.indexOf(configure ?? {})).toBe(1);
  });

  it("configure-aws-credentials@v1 with key inputs becomes @v6 with role-to-assume, same step, same region", () => {
    const doc = parse(rewritten(result, "configure-aws-credentials-v1.yml")) as {
      jobs: { image: { permissions: unknown; steps: Array<Record<string, unknown>> } };
    };
    const step = doc.jobs.image.steps[1];
    expect(step).toMatchObject({
      name: "Configure AWS credentials",
      uses: "aws-actions/configure-aws-credentials@v6",
    });
    expect(step?.with).toEqual({
      "role-to-assume": `arn:aws:iam::${ACCOUNT}:role/gh-acme-web-tags-v`,
      "role-session-name": `web-\${{ github.run_id }}-\${{ github.run_attempt }}`,
      "aws-region": "us-east-1",
    });
    expect(doc.jobs.image.permissions).toEqual({ "id-token": "write", contents: "read" });
  });

  it("a SHA-pinned step loses its stale version comment and the session token input, keeps its other inputs", () => {
    const content = rewritten(result, "configure-aws-credentials-pinned.yml");
    expect(content).toContain("      - uses: aws-actions/configure-aws-credentials@v6\n");
    expect(content).not.toContain("# v4.0.2");
    expect(content).toContain("role-duration-seconds: 1800");
    // The workflow's own permissions are carried into the job, plus id-token.
    const doc = parse(content) as { jobs: { apply: { permissions: Record<string, string> } } };
    expect(doc.jobs.apply.permissions).toEqual({
      contents: "read",
      "pull-requests": "write",
      "id-token": "write",
    });
    expect(result.warnings.join("\n")).toMatch(/pinned to a commit/);
  });

  it("a matrix over environments picks the environment's role at run time", () => {
    const doc = parse(rewritten(result, "matrix-environments.yml")) as {
      jobs: { deploy: { steps: Array<{ with?: Record<string, string> }> } };
    };
    const role = doc.jobs.deploy.steps[1]?.with?.["role-to-assume"] ?? "";
    expect(role).toMatch(/^\$\{\{ fromJSON\('.*'\)\[matrix\.environment\] \}\}$/);
    const map = JSON.parse(/fromJSON\('(.*)'\)/.exec(role)?.[1] ?? "{}") as Record<string, string>;
    expect(map).toEqual({
      staging: `arn:aws:iam::${ACCOUNT}:role/gh-acme-web-env-staging`,
      production: `arn:aws:iam::${ACCOUNT}:role/gh-acme-web-env-production`,
    });
  });

  it("a reusable workflow: callers stop passing keys and grant id-token; the called workflow stops declaring them", () => {
    const caller = parse(rewritten(result, "reusable-caller.yml")) as {
      jobs: Record<string, Record<string, unknown>>;
    };
    for (const job of ["deploy-staging", "deploy-production"]) {
      expect(caller.jobs[job]?.secrets).toEqual({ SLACK_WEBHOOK: `\${{ secrets.SLACK_WEBHOOK }}` });
      expect(caller.jobs[job]?.permissions).toEqual({ "id-token": "write", contents: "read" });
    }
    expect(caller.jobs.test?.permissions).toBeUndefined();
    const called = parse(rewritten(result, "reusable-deploy.yml")) as {
      on: { workflow_call: { secrets: Record<string, unknown> } };
      jobs: { deploy: { steps: Array<{ with?: Record<string, string> }> } };
    };
    expect(Object.keys(called.on.workflow_call.secrets)).toEqual(["SLACK_WEBHOOK"]);
    expect(called.jobs.deploy.steps[1]?.with?.["role-to-assume"]).toContain("[inputs.environment]");
  });

  it("a composite or marketplace action fed keys gets the role's temporary credentials through outputs", () => {
    for (const name of ["composite-action.yml", "third-party-action-inputs.yml"]) {
      const content = rewritten(result, name);
      expect(content).toContain("id: aws-credentials");
      expect(content).toContain("output-credentials: true");
      expect(content).toContain(`\${{ steps.aws-credentials.outputs.aws-access-key-id }}`);
      expect(content).toContain(`\${{ steps.aws-credentials.outputs.aws-secret-access-key }}`);
    }
  });

  it("jobs with different environments get different roles; the pull-request job gets a pull_request role", () => {
    const doc = parse(rewritten(result, "multi-job-environments.yml")) as {
      jobs: Record<string, Record<string, unknown>>;
    };
    const roleOf = (job: string) =>
      ((doc.jobs[job]?.steps ?? []) as Array<{ with?: Record<string, string> }>).find(
        (step) => step.with?.["role-to-assume"],
      )?.with?.["role-to-assume"];
    expect(roleOf("deploy-staging")).toBe(`arn:aws:iam::${ACCOUNT}:role/gh-acme-web-env-staging`);
    expect(roleOf("deploy-production")).toBe(`arn:aws:iam::${ACCOUNT}:role/gh-acme-web-env-production`);
    // Issue 11: a job never loses its keys without a role trusting the sub it presents.
    expect(roleOf("integration")).toBe(`arn:aws:iam::${ACCOUNT}:role/gh-acme-web-pull-requests`);
    expect(doc.jobs.integration?.env).toBeUndefined();
    const pullRequests = result.roles.find((role) => role.slug === "pull-requests");
    expect(pullRequests?.jobs).toContain(".github/workflows/multi-job-environments.yml#integration");
    expect(pullRequests?.subs.map((sub) => sub.value)).toEqual(["repo:acme/web:pull_request"]);
  });

  it("tags and releases get tag-pinned roles, never a branch or wildcard", () => {
    const tags = result.roles.find((role) => role.slug === "tags-v");
    expect(tags?.subs).toEqual([{ value: "repo:acme/web:ref:refs/tags/v*", match: "StringLike" }]);
    const release = result.roles.find((role) => role.slug === "tags-all");
    expect(release?.jobs).toEqual([".github/workflows/tags-release.yml#upload"]);
  });

  it("aws configure set lines go, the region line stays, a step that only set a key goes", () => {
    const content = rewritten(result, "cli-aws-configure.yml");
    expect(content).toContain("aws configure set region ap-southeast-2");
    expect(content).not.toContain("Tidy up");
    // configure-aws-credentials exports AWS_REGION; the CLI's configured region is kept by using it.
    expect(content).toContain("aws-region: ap-southeast-2");
  });

  it("Azure and GCP static credentials get their federated equivalents and setup scripts", () => {
    const content = rewritten(result, "mixed-clouds.yml");
    expect(content).toContain("uses: azure/login@v2");
    expect(content).toContain(`client-id: \${{ vars.AZURE_CLIENT_ID }}`);
    expect(content).not.toContain("creds:");
    expect(content).toContain("uses: google-github-actions/auth@v3");
    expect(content).toContain(`workload_identity_provider: \${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}`);
    expect(content).not.toContain("credentials_json");
    const doc = parse(content) as { jobs: Record<string, { permissions?: unknown }> };
    for (const job of ["aws", "azure", "gcp"])
      expect(doc.jobs[job]?.permissions).toEqual({ "id-token": "write", contents: "read" });
    expect(file(result, "azure/setup-federated-credentials.sh")).toContain(
      '"subject":"repo:acme/web:environment:production"',
    );
    expect(file(result, "gcp/setup-workload-identity.sh")).toContain(
      "/subject/repo:acme/web:environment:production",
    );
    expect(file(result, "gcp/setup-workload-identity.sh")).toContain("assertion.repository_id == '2002'");
  });

  it("an anchored env block shared by alias is emptied once, and a flow-style env keeps its other entries", () => {
    const content = rewritten(result, "anchors-and-flow.yml");
    expect(content).toContain("env: &aws-keys {}");
    expect(content).toContain("env: *aws-keys");
    // Written one entry per line (as Biome formats it), the flow map loses just the key lines.
    expect(content).toContain("        env:\n          {\n            AWS_REGION: us-east-1,\n          }\n");
    const doc = parse(content) as { jobs: Record<string, { env?: unknown; permissions?: unknown }> };
    expect(doc.jobs.eu?.env).toEqual({});
    expect(doc.jobs.report?.permissions).toEqual({ "id-token": "write", contents: "read" });
  });

  it("writes the provider three ways, without a thumbprint", () => {
    expect(file(result, "oidc-provider/create-provider.sh")).toContain(
      "create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com",
    );
    for (const path of [
      "oidc-provider/create-provider.sh",
      "oidc-provider/cloudformation.yml",
      "oidc-provider/terraform.tf",
    ]) {
      const code = file(result, path)
        .split("\n")
        .filter((line) => !/^\s*#/.test(line))
        .join("\n");
      expect(code).not.toMatch(/thumbprint[-_]?list/i);
    }
    const cfn = parse(file(result, "oidc-provider/cloudformation.yml"), {
      customTags: [{ tag: "!Ref", resolve: (v: string) => v }],
    }) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    expect(cfn.Resources.GitHubActionsOidcProvider).toEqual({
      Type: "AWS::IAM::OIDCProvider",
      Properties: { Url: "https://token.actions.githubusercontent.com", ClientIdList: ["sts.amazonaws.com"] },
    });
    expect(file(result, "oidc-provider/terraform.tf")).toContain('client_id_list = ["sts.amazonaws.com"]');
  });

  it("MIGRATION.md lists the steps in the safe order", () => {
    const guide = file(result, "MIGRATION.md");
    const order = [
      "## 1. Stand up the roles beside the user",
      "## 2. Prove it on a test branch",
      "## 3. Switch one workflow at a time",
      "## 4. After a week of green runs: deactivate the remaining keys",
      "## 5. After another week: delete the user",
    ].map((heading) => guide.indexOf(heading));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Staging-only workflows are switched before the ones that deploy production or main.
    const step3 = guide.slice(order[2], order[3]);
    expect(step3.indexOf("pull-request-only.yml")).toBeLessThan(step3.indexOf("env-workflow-level.yml"));
  });

  it("the smoke test workflow assumes every role from the test branch and is itself key-free", () => {
    const smoke = parse(file(result, "workflows/oidc-smoke-test.yml")) as {
      on: { push: { branches: string[] } };
      jobs: Record<string, { steps: Array<{ with?: Record<string, string> }> }>;
    };
    expect(smoke.on.push.branches).toEqual(["oidc-migration-test"]);
    const assumed = Object.values(smoke.jobs).map(
      (job) => job.steps.find((s) => s.with)?.with?.["role-to-assume"],
    );
    expect(assumed.sort()).toEqual(result.roles.map((role) => role.arn).sort());
    for (const role of result.roles) {
      const trust = JSON.parse(file(result, `roles/${role.slug}/trust-policy.test-branch.json`)) as {
        Statement: unknown[];
      };
      expect(JSON.stringify(trust)).toContain("repo:acme/web:ref:refs/heads/oidc-migration-test");
      expect(JSON.stringify(JSON.parse(file(result, `roles/${role.slug}/trust-policy.json`)))).not.toContain(
        "oidc-migration-test",
      );
    }
  });
});

describe("the rewritten YAML keeps its shape", () => {
  it("steps stay a sequence of mappings and jobs stay mappings", () => {
    for (const f of result.files.filter((x) => x.path.startsWith("workflows/") && x.path.endsWith(".yml"))) {
      const source = WorkflowSource.parse({ path: f.path, content: f.content });
      const jobs = source.map(source.get(source.root, "jobs"));
      expect(isMap(jobs)).toBe(true);
      for (const pair of source.pairs(jobs)) {
        const steps = source.get(source.map(pair.value), "steps");
        if (steps) {
          expect(isSeq(steps)).toBe(true);
          for (const item of source.seq(steps)?.items ?? []) expect(isMap(source.resolve(item))).toBe(true);
        }
      }
    }
  });
});
