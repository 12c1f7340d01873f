/**
 * Issue 11, what the values in a workflow mean: a secret is an AWS key because of how it is used,
 * not what it is called, so MIGRATION.md only says to delete it once nothing else reads it; a
 * workflow in China or GovCloud gets roles, policies and an audience from its own partition; and a
 * step that blanks the key variables or a local test stack's dummy key is not a credential to migrate.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are workflow YAML, whose expressions look like template placeholders.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fakeAccessKeyId, fakeSecretAccessKey } from "../../sandbox/fake-ids.js";
import { loadActionCatalogue } from "../../src/oidc-plan/action-catalogue.js";
import {
  actionsToLookUp,
  buildMigrationPlan,
  type MigrationPlan,
  type PlanInput,
} from "../../src/oidc-plan/plan.js";
import { trustAllows } from "../../src/oidc-plan/trust-policy.js";
import type { WorkflowFile } from "../../src/oidc-plan/workflow-yaml.js";
import { ACCOUNT, acmeWeb } from "../support/plan-repository.js";

async function plan(workflows: WorkflowFile[], extra: Partial<PlanInput> = {}): Promise<MigrationPlan> {
  const request: PlanInput = {
    repository: acmeWeb([]),
    workflows,
    accountId: ACCOUNT,
    region: "us-east-1",
    ...extra,
  };
  return buildMigrationPlan(request, await loadActionCatalogue(actionsToLookUp(request)));
}

function workflow(name: string, lines: string[]): WorkflowFile {
  return { path: `.github/workflows/${name}`, content: `${lines.join("\n")}\n` };
}

/** A workflow of one job that runs on pushes to main; `steps` are its step lines. */
function pushToMain(fileName: string, name: string, job: string, steps: string[]): WorkflowFile {
  return workflow(fileName, [
    `name: ${name}`,
    "on:",
    "  push:",
    "    branches: [main]",
    "jobs:",
    `  ${job}:`,
    "    runs-on: ubuntu-latest",
    "    steps:",
    ...steps,
  ]);
}

function file(result: MigrationPlan, path: string): string {
  const found = result.files.find((candidate) => candidate.path === path);
  if (!found) throw new Error(`no ${path}; the plan has ${result.files.map((f) => f.path).join(", ")}`);
  return found.content;
}

/** The `gh secret delete` lines of step 4. */
function deletedSecrets(result: MigrationPlan): string[] {
  return [...file(result, "MIGRATION.md").matchAll(/^gh secret delete '?([\w-]+)'?/gm)].map(
    (match) => match[1] ?? "",
  );
}

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}

function steps(result: MigrationPlan, name: string, job: string): Step[] {
  const doc = parse(file(result, `workflows/${name}`)) as { jobs: Record<string, { steps: Step[] }> };
  return doc.jobs[job]?.steps ?? [];
}

const deploy = pushToMain("deploy.yml", "Deploy", "deploy", [
  "      - uses: actions/checkout@v4",
  "      - uses: aws-actions/configure-aws-credentials@v4",
  "        with:",
  "          aws-access-key-id: ${{ secrets.DEPLOY_ID }}",
  "          aws-secret-access-key: ${{ secrets.DEPLOY_PASSWORD }}",
  "          aws-region: us-east-1",
  "      - run: aws s3 sync dist s3://acme-web-site",
]);

describe("a secret is an AWS key by use, not by name", () => {
  it("does not say to delete a key secret that a docker login to ECR still reads, and lists that use", async () => {
    const images = pushToMain("images.yml", "Images", "push", [
      "      - uses: actions/checkout@v4",
      "      - name: Log in to ECR",
      "        env:",
      "          REGISTRY: ${{ vars.REGISTRY }}",
      "        run: |",
      '          docker login -u "${{ secrets.DEPLOY_ID }}" -p "${{ secrets.DEPLOY_PASSWORD }}" "$REGISTRY" && docker push "$REGISTRY/web:latest"',
    ]);
    const result = await plan([deploy, images]);
    const guide = file(result, "MIGRATION.md");
    expect(deletedSecrets(result)).not.toContain("DEPLOY_ID");
    expect(deletedSecrets(result)).not.toContain("DEPLOY_PASSWORD");
    expect(guide).toMatch(/DEPLOY_PASSWORD[^\n]*still[^\n]*\n(?:[^\n]*\n)*?[^\n]*images\.yml:14/);
    expect(result.findings.some((f) => f.path.endsWith("images.yml") && !f.resolved)).toBe(true);
  });

  it("rewrites a scripted docker login to ECR fed with the key into one that uses the role", async () => {
    const images = pushToMain("images.yml", "Images", "push", [
      "      - name: Log in to ECR",
      "        run: |",
      "          echo '${{ secrets.DEPLOY_PASSWORD }}' | docker login --username '${{ secrets.DEPLOY_ID }}' --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      "          docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:latest",
    ]);
    const result = await plan([deploy, images]);
    const [configure, login] = steps(result, "images.yml", "push");
    expect(configure?.uses).toMatch(/^aws-actions\/configure-aws-credentials@/);
    expect(login?.run).toBe(
      "aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com\ndocker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:latest\n",
    );
    expect(result.findings.filter((f) => f.path.endsWith("images.yml")).every((f) => f.resolved)).toBe(true);
    expect(deletedSecrets(result).sort()).toEqual(["DEPLOY_ID", "DEPLOY_PASSWORD"]);
  });

  it("rewrites docker/login-action's ECR login fed with the key to use the role, then deletes the secrets", async () => {
    const images = pushToMain("images.yml", "Images", "push", [
      "      - uses: docker/login-action@v3",
      "        with:",
      "          registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com",
      "          username: ${{ secrets.DEPLOY_ID }}",
      "          password: ${{ secrets.DEPLOY_PASSWORD }}",
      "      - run: docker push 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:latest",
    ]);
    const result = await plan([deploy, images]);
    expect(result.findings.filter((f) => f.path.endsWith("images.yml")).map((f) => f.resolved)).toEqual([
      true,
      true,
    ]);
    const [configure, login] = steps(result, "images.yml", "push");
    expect(configure?.uses).toMatch(/^aws-actions\/configure-aws-credentials@/);
    // With no username and password the action asks ECR with the job's credentials, session token included.
    expect(login?.with).toEqual({ registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com" });
    expect(deletedSecrets(result).sort()).toEqual(["DEPLOY_ID", "DEPLOY_PASSWORD"]);
  });

  it("follows the key into another action's inputs and the env of other steps before deleting it", async () => {
    const other = pushToMain("publish.yml", "Publish", "publish", [
      "      - uses: some-org/upload-to-bucket@v2",
      "        with:",
      "          key-id: ${{ secrets.DEPLOY_ID }}",
      "          key-secret: ${{ secrets.DEPLOY_PASSWORD }}",
      "          bucket: acme-artifacts",
      "      - name: Script with the key",
      "        env:",
      "          UPLOAD_SECRET: ${{ secrets.DEPLOY_PASSWORD }}",
      "        run: ./upload.sh",
    ]);
    const result = await plan([deploy, other]);
    const publish = result.findings.filter((f) => f.path.endsWith("publish.yml"));
    expect(publish.map((f) => f.line).sort((a, b) => a - b)).toEqual([11, 12, 16]);
    // The inputs now get the role's credentials; the script's env still reads the secret.
    const upload = steps(result, "publish.yml", "publish").find((step) => step.uses?.startsWith("some-org/"));
    expect(upload?.with?.["key-id"]).toMatch(/outputs\.aws-access-key-id/);
    expect(upload?.with?.["key-secret"]).toMatch(/outputs\.aws-secret-access-key/);
    expect(deletedSecrets(result)).toEqual(["DEPLOY_ID"]);
    expect(file(result, "MIGRATION.md")).toMatch(
      /Keep the secret `DEPLOY_PASSWORD`[^\n]*\n\n- publish\.yml:16/,
    );
  });

  it("follows the key through a caller into a reusable workflow and deletes it only when every use is rewritten", async () => {
    const called = workflow("called.yml", [
      "name: Called",
      "on:",
      "  workflow_call:",
      "    secrets:",
      "      id:",
      "        required: true",
      "      password:",
      "        required: true",
      "jobs:",
      "  sync:",
      "    runs-on: ubuntu-latest",
      "    steps:",
      "      - run: aws s3 sync dist s3://acme-web-site",
      "        env:",
      "          AWS_ACCESS_KEY_ID: ${{ secrets.id }}",
      "          AWS_SECRET_ACCESS_KEY: ${{ secrets.password }}",
      "          AWS_REGION: us-east-1",
    ]);
    const caller = workflow("release.yml", [
      "name: Release",
      "on:",
      "  push:",
      "    branches: [main]",
      "jobs:",
      "  ship:",
      "    uses: ./.github/workflows/called.yml",
      "    secrets:",
      "      id: ${{ secrets.RELEASE_ID }}",
      "      password: ${{ secrets.RELEASE_PASSWORD }}",
    ]);
    // A repository secret that shares a called workflow's parameter name is another secret.
    const database = workflow("db.yml", [
      "name: DB",
      "on: push",
      "jobs:",
      "  migrate:",
      "    runs-on: ubuntu-latest",
      "    steps:",
      "      - run: ./migrate.sh",
      "        env:",
      "          DB_PASSWORD: ${{ secrets.PASSWORD }}",
    ]);
    const result = await plan([called, caller, database]);
    expect(result.findings.filter((f) => f.path.endsWith("db.yml"))).toEqual([]);
    const release = result.findings.filter((f) => f.path.endsWith("release.yml"));
    expect(release.map((f) => f.name).sort()).toEqual(["id", "password"]);
    expect(release.every((f) => f.resolved)).toBe(true);
    expect(file(result, "workflows/release.yml")).not.toMatch(/RELEASE_(ID|PASSWORD)/);
    expect(deletedSecrets(result).sort()).toEqual(["RELEASE_ID", "RELEASE_PASSWORD"]);
  });

  it("still says to delete a key secret whose every use the rewrite removes", async () => {
    const result = await plan([deploy]);
    expect(deletedSecrets(result).sort()).toEqual(["DEPLOY_ID", "DEPLOY_PASSWORD"]);
  });
});

function regionWorkflow(name: string, region: string): WorkflowFile {
  return workflow(name, [
    `name: Deploy ${region}`,
    "on:",
    "  push:",
    "    branches: [main]",
    "jobs:",
    "  deploy:",
    "    runs-on: ubuntu-latest",
    "    env:",
    `      AWS_REGION: ${region}`,
    "    steps:",
    "      - run: aws s3 sync dist s3://acme-web-site",
    "        env:",
    "          AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}",
    "          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}",
  ]);
}

describe("China and GovCloud partitions", () => {
  it("gives a cn-* workflow arn:aws-cn: ARNs everywhere and the China audience", async () => {
    const result = await plan([regionWorkflow("deploy.yml", "cn-north-1")]);
    const [role] = result.roles;
    expect(role?.arn).toMatch(/^arn:aws-cn:iam::123456789012:role\//);
    const trust = JSON.stringify(role?.trustPolicy);
    expect(trust).toContain("arn:aws-cn:iam::123456789012:oidc-provider/token.actions.githubusercontent.com");
    expect(trust).toContain('"token.actions.githubusercontent.com:aud":"sts.amazonaws.com.cn"');
    const sub = "repo:acme/web:ref:refs/heads/main";
    if (!role) throw new Error("no role");
    expect(trustAllows(role.trustPolicy, { aud: "sts.amazonaws.com.cn", sub }, ACCOUNT)).toBe(true);
    expect(trustAllows(role.trustPolicy, { aud: "sts.amazonaws.com", sub }, ACCOUNT)).toBe(false);
    const permissions = JSON.stringify(role?.permissionsPolicy);
    expect(permissions).toContain("arn:aws-cn:s3:::acme-web-site");
    expect(permissions).not.toMatch(/arn:aws:/);
    const configure = steps(result, "deploy.yml", "deploy").find((step) =>
      step.uses?.startsWith("aws-actions/configure-aws-credentials@"),
    );
    expect(configure?.with?.audience).toBe("sts.amazonaws.com.cn");
    expect(configure?.with?.["role-to-assume"]).toBe(role?.arn);
    expect(file(result, "oidc-provider/create-provider.sh")).toContain("sts.amazonaws.com.cn");
    expect(file(result, "oidc-provider/create-provider.sh")).toContain("arn:aws-cn:iam::");
    expect(file(result, "oidc-provider/cloudformation.yml")).toContain("sts.amazonaws.com.cn");
    expect(file(result, "workflows/oidc-smoke-test.yml")).toContain("audience: sts.amazonaws.com.cn");
  });

  it("gives a us-gov-* workflow arn:aws-us-gov: ARNs and the usual audience", async () => {
    const result = await plan([regionWorkflow("deploy.yml", "us-gov-west-1")]);
    const [role] = result.roles;
    expect(role?.arn).toMatch(/^arn:aws-us-gov:iam::/);
    expect(JSON.stringify(role?.trustPolicy)).toContain("arn:aws-us-gov:iam::123456789012:oidc-provider/");
    expect(JSON.stringify(role?.trustPolicy)).toContain('"sts.amazonaws.com"');
    expect(JSON.stringify(role?.permissionsPolicy)).not.toMatch(/arn:aws:/);
    const configure = steps(result, "deploy.yml", "deploy").find((step) =>
      step.uses?.startsWith("aws-actions/configure-aws-credentials@"),
    );
    expect(configure?.with?.audience).toBeUndefined();
  });

  it("plans separate roles for workflows in different partitions and says the accounts differ", async () => {
    const result = await plan([
      regionWorkflow("deploy.yml", "us-east-1"),
      regionWorkflow("deploy-china.yml", "cn-northwest-1"),
    ]);
    const arns = result.roles.map((role) => role.arn.split(":")[1]).sort();
    expect(arns).toEqual(["aws", "aws-cn"]);
    expect(new Set(result.roles.map((role) => role.slug)).size).toBe(2);
    const china = result.roles.find((role) => role.arn.startsWith("arn:aws-cn:"));
    expect(china?.jobs).toEqual([".github/workflows/deploy-china.yml#deploy"]);
    expect(result.warnings.join("\n")).toMatch(/aws-cn[^\n]*different account/);
    expect(file(result, "oidc-provider/create-provider.aws-cn.sh")).toContain("sts.amazonaws.com.cn");
  });

  it("puts a job that names no region in the partition of the key it uses", async () => {
    const china = regionWorkflow("deploy.yml", "cn-north-1");
    const report = pushToMain("report.yml", "Report", "report", [
      "      - run: aws s3 cp report.html s3://acme-reports/",
      "        env:",
      "          AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}",
      "          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}",
    ]);
    const result = await plan([china, report]);
    expect(result.roles.map((role) => role.partition)).toEqual(["aws-cn"]);
    const configure = steps(result, "report.yml", "report").find((step) =>
      step.uses?.startsWith("aws-actions/configure-aws-credentials@"),
    );
    expect(configure?.with?.["aws-region"]).toBe("cn-north-1");
    expect(configure?.with?.audience).toBe("sts.amazonaws.com.cn");
  });
});

describe("values that are not credentials", () => {
  it("plans nothing for a step that only blanks the key variables", async () => {
    const result = await plan([
      workflow("ci.yml", [
        "name: CI",
        "on: push",
        "jobs:",
        "  test:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        "      - name: Make sure no ambient key is used",
        "        run: |",
        '          echo "AWS_ACCESS_KEY_ID=" >> $GITHUB_ENV',
        '          echo "AWS_SECRET_ACCESS_KEY=" >> "$GITHUB_ENV"',
        "          export AWS_SESSION_TOKEN=",
        "      - run: npm test",
      ]),
    ]);
    expect(result.nothingToMigrate).toBe(true);
    expect(result.roles).toEqual([]);
  });

  it("plans no role for LocalStack-style dummy keys and leaves them in place", async () => {
    const content = [
      "name: Integration",
      "on: push",
      "jobs:",
      "  integration:",
      "    runs-on: ubuntu-latest",
      "    env:",
      "      AWS_ACCESS_KEY_ID: test",
      "      AWS_SECRET_ACCESS_KEY: test",
      "      AWS_ENDPOINT_URL: http://localhost:4566",
      "    steps:",
      "      - run: aws s3 mb s3://local-bucket",
      "      - run: aws s3 ls",
      "        env:",
      "          AWS_ACCESS_KEY_ID: dummy",
      "          AWS_SECRET_ACCESS_KEY: fake",
      "      - run: export AWS_ACCESS_KEY_ID=localstack && npm test",
    ];
    const result = await plan([workflow("integration.yml", content)]);
    expect(result.findings).toEqual([]);
    expect(result.roles).toEqual([]);
    expect(result.nothingToMigrate).toBe(true);
  });

  it("still migrates a real key beside a dummy one in another job", async () => {
    const result = await plan([
      workflow("mixed.yml", [
        "name: Mixed",
        "on:",
        "  push:",
        "    branches: [main]",
        "jobs:",
        "  unit:",
        "    runs-on: ubuntu-latest",
        "    env:",
        "      AWS_ACCESS_KEY_ID: test",
        "      AWS_SECRET_ACCESS_KEY: test",
        "    steps:",
        "      - run: npm test",
        "  deploy:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        "      - run: aws s3 sync dist s3://acme-web-site",
        "        env:",
        "          AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}",
        "          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}",
      ]),
    ]);
    expect(result.roles.map((role) => role.jobs)).toEqual([[".github/workflows/mixed.yml#deploy"]]);
    const rewritten = parse(file(result, "workflows/mixed.yml")) as {
      jobs: Record<string, { env?: Record<string, string> }>;
    };
    expect(rewritten.jobs.unit?.env).toEqual({ AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });
  });
});

describe("literal keys in run lines", () => {
  it("never reach a plan file: the finding names the command, not the value", async () => {
    const keyId = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const result = await plan([
      pushToMain("deploy.yml", "Deploy", "deploy", [
        "      - run: |",
        `          export AWS_ACCESS_KEY_ID=${keyId}`,
        `          export AWS_SECRET_ACCESS_KEY=${secret}`,
        "          aws s3 sync site s3://acme-www",
      ]),
    ]);
    expect(result.findings.length).toBeGreaterThan(0);
    for (const file of result.files) {
      expect(file.content, file.path).not.toContain(secret);
      expect(file.content, file.path).not.toContain(keyId);
    }
    expect(JSON.stringify(result.findings)).not.toContain(secret);
  });
});
