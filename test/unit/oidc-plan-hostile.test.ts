/**
 * Input the generator must survive: alias bombs, huge and absurdly nested files, broken YAML, and
 * workflows that leak a literal key. Refusals are bounded in time and memory; a literal secret never
 * travels into the plan (design.md: never render the secret).
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fakeAccessKeyId, fakeSecretAccessKey } from "../../sandbox/fake-ids.js";
import { staticCatalogue } from "../../src/oidc-plan/action-catalogue.js";
import { buildMigrationPlan, type PlanInput } from "../../src/oidc-plan/plan.js";
import { scanWorkflow } from "../../src/oidc-plan/workflow-scan.js";
import { MAX_WORKFLOW_BYTES, WorkflowRefused, WorkflowSource } from "../../src/oidc-plan/workflow-yaml.js";

const GOOD = `on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
    steps:
      - run: aws s3 ls
`;

function plan(workflows: PlanInput["workflows"], extra: Partial<PlanInput> = {}) {
  return buildMigrationPlan(
    {
      repository: { owner: "acme", name: "web", defaultBranch: "main", environments: [] },
      workflows,
      accountId: "123456789012",
      ...extra,
    },
    staticCatalogue([]),
  );
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

describe("hostile YAML is refused in bounded time", () => {
  it("an alias bomb (billion laughs)", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(",")}]`);
    }
    lines.push("jobs:", "  j:", "    runs-on: ubuntu-latest", "    steps: *l");
    const { value, ms } = timed(() => scanWorkflow({ path: "bomb.yml", content: `${lines.join("\n")}\n` }));
    expect(value.error).toMatch(/excessive aliases|too large/);
    expect(value.findings).toEqual([]);
    expect(ms).toBeLessThan(2000);
  });

  it("a file over the size limit, before parsing it", () => {
    const huge = `name: x\n# ${"a".repeat(MAX_WORKFLOW_BYTES)}\n`;
    expect(() => WorkflowSource.parse({ path: "huge.yml", content: huge })).toThrow(WorkflowRefused);
    expect(scanWorkflow({ path: "huge.yml", content: huge }).error).toMatch(/over the \d+-byte limit/);
  });

  it("absurd nesting, without a crash", () => {
    const deep = `x: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`;
    const { value, ms } = timed(() => scanWorkflow({ path: "deep.yml", content: deep }));
    expect(value.error).toBeDefined();
    expect(ms).toBeLessThan(5000);
  });

  it("broken YAML and non-workflow shapes", () => {
    expect(scanWorkflow({ path: "dup.yml", content: "on: push\non: pull_request\n" }).error).toMatch(
      /not valid YAML/,
    );
    expect(scanWorkflow({ path: "tab.yml", content: "jobs:\n\tj: {}\n" }).error).toMatch(/not valid YAML/);
    expect(scanWorkflow({ path: "list.yml", content: "- a\n- b\n" }).error).toMatch(/not a mapping/);
  });

  it("one refused file does not stop the plan for the others, and the plan says so", () => {
    const result = plan([
      { path: ".github/workflows/broken.yml", content: "on: [push\n" },
      { path: ".github/workflows/deploy.yml", content: GOOD },
    ]);
    expect(result.roles).toHaveLength(1);
    expect(result.warnings.join("\n")).toMatch(/broken\.yml is not valid YAML/);
    expect(result.workflows.find((w) => w.path.endsWith("broken.yml"))?.error).toBeDefined();
    expect(result.files.some((f) => f.path === "workflows/deploy.yml")).toBe(true);
  });

  it("a repository with only unreadable workflows is not reported as having nothing to migrate", () => {
    const result = plan([{ path: ".github/workflows/broken.yml", content: "on: [push\n" }]);
    expect(result.nothingToMigrate).toBe(false);
  });
});

describe("a workflow that leaks a literal key", () => {
  const keyId = fakeAccessKeyId();
  const secret = fakeSecretAccessKey();
  const leaky = `on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: ${keyId}
      AWS_SECRET_ACCESS_KEY: ${secret}
    steps:
      - run: aws s3 ls
`;

  it("is found, removed from the rewrite, and never copied into any plan file, the summary or the findings", () => {
    const result = plan([{ path: ".github/workflows/leaky.yml", content: leaky }], {
      leakLocations: [{ path: ".github/workflows/leaky.yml", startLine: 8 }],
    });
    const findings = result.findings.filter((finding) => finding.kind === "aws-env");
    expect(findings.map((finding) => [finding.name, finding.literal, finding.resolved])).toEqual([
      ["AWS_ACCESS_KEY_ID", true, true],
      ["AWS_SECRET_ACCESS_KEY", true, true],
    ]);
    expect(findings[0]?.leakLocation).toBe(true);
    const everything = [
      result.summary,
      JSON.stringify(result.findings),
      JSON.stringify(result.warnings),
      ...result.files.map((f) => f.content),
    ].join("\n");
    expect(everything).not.toContain(keyId);
    expect(everything).not.toContain(secret);
    const diff = result.files.find((f) => f.path === "workflows/leaky.diff")?.content ?? "";
    expect(diff).toContain("-      AWS_ACCESS_KEY_ID: [redacted]");
    expect(diff).toContain("literal credentials redacted");
    expect(result.summary).toContain(".github/workflows/leaky.yml:8");
  });

  it("a key id written where the rewrite cannot reach is left for a person, and redacted in the plan's copy", () => {
    const elsewhere = GOOD.replace(
      "      - run: aws s3 ls",
      `      - run: ./deploy.sh --key ${keyId}\n      - run: aws s3 ls`,
    );
    const result = plan([{ path: ".github/workflows/deploy.yml", content: elsewhere }]);
    const manual = result.findings.filter((finding) => !finding.resolved);
    expect(manual).toMatchObject([{ kind: "aws-secret-reference", literal: true, line: 11 }]);
    const copy = result.files.find((f) => f.path === "workflows/deploy.yml")?.content ?? "";
    expect(copy).not.toContain(keyId);
    expect(copy).toContain("--key [redacted]");
    expect(result.warnings.join("\n")).toMatch(/literal credential remains/);
    expect(result.files.find((f) => f.path === "MIGRATION.md")?.content).toContain("### Left for a person");
  });
});

describe("rewrites keep the file's own conventions", () => {
  it("CRLF line endings stay CRLF, and four-space indentation stays four", () => {
    const four = GOOD.replace(/^( +)/gm, (spaces) => " ".repeat(spaces.length * 2)).replace(/\n/g, "\r\n");
    const result = plan([{ path: ".github/workflows/crlf.yml", content: four }]);
    const content = result.files.find((f) => f.path === "workflows/crlf.yml")?.content ?? "";
    expect(content.replace(/\r\n/g, "")).not.toContain("\n");
    expect(content).toContain("\r\n        permissions:\r\n            id-token: write\r\n");
    expect(parse(content)).toMatchObject({
      jobs: { deploy: { permissions: { "id-token": "write", contents: "read" } } },
    });
  });

  it("a one-line flow map keeps its other entries on one line", () => {
    const flow = GOOD.replace(
      / {4}env:\n.*\n.*\n/,
      `    env: { AWS_ACCESS_KEY_ID: "\${{ secrets.AWS_ACCESS_KEY_ID }}", AWS_REGION: eu-west-1, AWS_SECRET_ACCESS_KEY: "\${{ secrets.AWS_SECRET_ACCESS_KEY }}" }\n`,
    );
    expect(flow).toContain("env: { AWS_ACCESS_KEY_ID");
    const result = plan([{ path: ".github/workflows/f.yml", content: flow }]);
    const content = result.files.find((f) => f.path === "workflows/f.yml")?.content ?? "";
    expect(content).toContain("    env: { AWS_REGION: eu-west-1 }\n");
    expect(content).toContain(`aws-region: \${{ env.AWS_REGION }}`);
  });

  it("an existing job permissions block is extended, not replaced", () => {
    const withPermissions = GOOD.replace(
      "    runs-on: ubuntu-latest\n",
      "    runs-on: ubuntu-latest\n    permissions:\n      contents: read # checkout only\n      packages: write\n",
    );
    const result = plan([{ path: ".github/workflows/p.yml", content: withPermissions }]);
    const content = result.files.find((f) => f.path === "workflows/p.yml")?.content ?? "";
    expect(content).toContain(
      "      contents: read # checkout only\n      packages: write\n      id-token: write\n",
    );
  });
});
