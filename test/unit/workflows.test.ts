/**
 * The project's own GitHub Actions workflows (issue 11, deploy path): only the deploy job can mint an
 * OIDC token, it does so in the `production` environment that infra/deploy-role.yml trusts, nothing
 * from the repository runs as npm scripts once AWS credentials exist, every action is pinned to a
 * commit, and everything runs on Node 22 (the Lambda runtime). Read straight from the YAML.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = join(import.meta.dirname, "..", "..");
const workflowsDir = join(root, ".github", "workflows");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

interface Job {
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  needs?: string | string[];
  uses?: string;
  steps?: Step[];
}

interface Workflow {
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

const workflowFiles = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));

function readWorkflow(file: string): { text: string; workflow: Workflow } {
  const text = readFileSync(join(workflowsDir, file), "utf8");
  return { text, workflow: parse(text) as Workflow };
}

const workflows = workflowFiles.map((file) => ({ file, ...readWorkflow(file) }));

/** A job's token permissions: its own block, else the workflow's (GitHub's rule: the job's replaces). */
function effectivePermissions(workflow: Workflow, job: Job): Record<string, string> | string | undefined {
  return job.permissions ?? workflow.permissions;
}

function mintsOidcToken(workflow: Workflow, job: Job): boolean {
  const permissions = effectivePermissions(workflow, job);
  if (permissions === undefined) return false;
  if (typeof permissions === "string") return permissions === "write-all";
  return permissions["id-token"] === "write";
}

function environmentName(job: Job): string | undefined {
  return typeof job.environment === "string" ? job.environment : job.environment?.name;
}

function deployJobs(): { job: Job; packageJob: Job | undefined } {
  const deploy = workflows.find((w) => w.file === "deploy.yml");
  if (!deploy) throw new Error(".github/workflows/deploy.yml is missing");
  const job = deploy.workflow.jobs.deploy;
  if (!job) throw new Error("deploy.yml has no `deploy` job");
  return { job, packageJob: deploy.workflow.jobs.package };
}

/**
 * Actions not pinned to a commit, each with why. Add an entry only when the SHA of a release could
 * not be confirmed from two independent sources; a tag can be moved by whoever controls the action.
 */
const UNVERIFIED_ACTIONS = new Map<string, string>([]);

describe("OIDC tokens (id-token: write)", () => {
  it("can be minted by the deploy job only: tests and packaging run repository code without it", () => {
    const minting = workflows.flatMap(({ file, workflow }) =>
      Object.entries(workflow.jobs)
        .filter(([, job]) => mintsOidcToken(workflow, job))
        .map(([name]) => `${file}:${name}`),
    );
    expect(minting).toEqual(["deploy.yml:deploy"]);
  });

  it("are never granted at workflow level, where every job (including a new one) would inherit them", () => {
    for (const { file, workflow } of workflows) {
      const permissions = workflow.permissions;
      expect(permissions, file).not.toBe("write-all");
      expect(typeof permissions === "object" ? permissions["id-token"] : undefined, file).toBeUndefined();
    }
  });

  it("come with contents: read and nothing else in the deploy job", () => {
    expect(deployJobs().job.permissions).toEqual({ "id-token": "write", contents: "read" });
  });
});

describe("the deploy job", () => {
  it("runs in the production environment, whose branch rule and reviewers gate the deployment", () => {
    expect(environmentName(deployJobs().job)).toBe("production");
  });

  it("deploys the package built without credentials: it needs the package job and never re-packages", () => {
    const { job, packageJob } = deployJobs();
    expect(packageJob, "deploy.yml has a `package` job").toBeDefined();
    expect([job.needs].flat()).toContain("package");
    const runs = (job.steps ?? []).flatMap((s) => (s.run ? [s.run] : []));
    const deploys = runs.filter((r) => /\bosls deploy\b/.test(r));
    expect(deploys).toHaveLength(1);
    expect(deploys[0]).toMatch(/--package \.serverless\b/);
    expect(runs.some((r) => /\bosls package\b/.test(r))).toBe(false);
    const download = (job.steps ?? []).find((s) => s.uses?.startsWith("actions/download-artifact@"));
    expect(download?.with).toMatchObject({ path: ".serverless" });
  });

  it("runs no npm scripts from the repository: install without lifecycle scripts, and only osls once AWS credentials exist", () => {
    const steps = deployJobs().job.steps ?? [];
    for (const run of steps.flatMap((s) => (s.run ? [s.run] : []))) {
      if (/\bnpm (ci|install|i)\b/.test(run)) expect(run, run).toMatch(/--ignore-scripts\b/);
      expect(run, run).not.toMatch(/\bnpm (test|run|start|exec)\b|\bnpm t\b/);
    }
    const credentials = steps.findIndex((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(credentials).toBeGreaterThan(-1);
    const after = steps.slice(credentials + 1);
    expect(after.length).toBeGreaterThan(0);
    for (const step of after) {
      expect(step.uses, `${step.name ?? "step"} after the credentials`).toBeUndefined();
      const commands = (step.run ?? "")
        .split("\n")
        .filter((line) => /\b(npm|npx|node|yarn|pnpm)\b/.test(line));
      for (const command of commands) expect(command.trim()).toMatch(/^npx osls deploy\b/);
    }
  });
});

describe("the package job", () => {
  it("cannot mint an OIDC token and reads the same environment's variables (osls bakes them into the package)", () => {
    const deploy = workflows.find((w) => w.file === "deploy.yml");
    const { job, packageJob } = deployJobs();
    if (!deploy || !packageJob) throw new Error("deploy.yml has no `package` job");
    expect(mintsOidcToken(deploy.workflow, packageJob)).toBe(false);
    expect(packageJob.permissions).toEqual({ contents: "read" });
    expect(environmentName(packageJob)).toBe(environmentName(job));
  });

  it("packages for the production stage and uploads .serverless, hidden directory included", () => {
    const { packageJob } = deployJobs();
    const steps = packageJob?.steps ?? [];
    const runs = steps.flatMap((s) => (s.run ? [s.run] : []));
    expect(runs.some((r) => /npx osls package --stage prod\b/.test(r))).toBe(true);
    const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    // upload-artifact skips paths starting with "." unless told otherwise: the artifact would be empty.
    expect(upload?.with).toMatchObject({ path: ".serverless", "include-hidden-files": true });
  });
});

describe("infra/deploy-role.yml", () => {
  interface TrustStatement {
    Effect: string;
    Action: string;
    Condition: Record<string, Record<string, string>>;
  }
  // CloudFormation tags (!Sub) are kept as their plain values.
  const template = parse(readFileSync(join(root, "infra", "deploy-role.yml"), "utf8"), {
    logLevel: "silent",
  }) as {
    Parameters: { Repository: { AllowedPattern: string } };
    Resources: { DeployRole: { Properties: { AssumeRolePolicyDocument: { Statement: TrustStatement[] } } } };
  };
  const trust = template.Resources.DeployRole.Properties.AssumeRolePolicyDocument.Statement;

  it("accepts the repository as the token names it, the immutable OWNER@ID/REPO@ID form included, and nothing wider", () => {
    // facts.md: repositories created after 2026-07-15 (and renamed or transferred ones) present
    // repo:OWNER@OWNER_ID/REPO@REPO_ID:... in the sub claim.
    const allowed = new RegExp(template.Parameters.Repository.AllowedPattern);
    for (const repository of ["octo-org/leak-responder", "octo-org@4521/leak-responder@88123"]) {
      expect(allowed.test(repository), repository).toBe(true);
    }
    for (const repository of ["octo-org/*", "octo-org", "octo-org/app:ref:refs/heads/main", "octo@x/app"]) {
      expect(allowed.test(repository), repository).toBe(false);
    }
  });

  it("trusts the deploy job's environment, by exact subject and audience, not a branch or a wildcard", () => {
    const environment = environmentName(deployJobs().job);
    expect(trust).toHaveLength(1);
    const [statement] = trust;
    expect(statement?.Action).toBe("sts:AssumeRoleWithWebIdentity");
    expect(Object.keys(statement?.Condition ?? {})).toEqual(["StringEquals"]);
    expect(statement?.Condition.StringEquals).toEqual({
      "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
      "token.actions.githubusercontent.com:sub": `repo:\${Repository}:environment:${environment}`,
    });
  });
});

describe("third-party actions", () => {
  const references = workflows.flatMap(({ file, text }) =>
    [...text.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)(?:[ \t]+#[ \t]*(\S+))?[ \t]*$/gm)].map((m) => ({
      file,
      uses: m[1] ?? "",
      comment: m[2],
    })),
  );
  const remote = references.filter(({ uses }) => !uses.startsWith("./") && !uses.startsWith("docker://"));

  it("are each pinned to a full commit SHA with its release in a comment, or listed as unverified with a reason", () => {
    expect(remote.length).toBeGreaterThan(0);
    const unpinned = remote.filter(({ uses, comment }) => {
      if (UNVERIFIED_ACTIONS.has(uses)) return false;
      const ref = uses.split("@")[1] ?? "";
      return !/^[0-9a-f]{40}$/.test(ref) || !/^v\d+\.\d+\.\d+$/.test(comment ?? "");
    });
    expect(unpinned).toEqual([]);
    for (const [uses, reason] of UNVERIFIED_ACTIONS) expect(reason.length, uses).toBeGreaterThan(20);
  });

  it("are pinned to the same commit and release wherever the same action is used", () => {
    const pins = new Map<string, Set<string>>();
    for (const { uses, comment } of remote) {
      const [action = "", ref = ""] = uses.split("@");
      pins.set(action, (pins.get(action) ?? new Set()).add(`${ref} ${comment ?? ""}`));
    }
    const inconsistent = [...pins].filter(([, refs]) => refs.size > 1).map(([action]) => action);
    expect(inconsistent).toEqual([]);
  });
});

describe("Node", () => {
  it("is 22 in every workflow job that sets it up, and every job that runs npm sets it up", () => {
    for (const { file, workflow } of workflows) {
      for (const [name, job] of Object.entries(workflow.jobs)) {
        const steps = job.steps ?? [];
        const setups = steps.filter((s) => s.uses?.startsWith("actions/setup-node@"));
        for (const setup of setups)
          expect(String(setup.with?.["node-version"]), `${file}:${name}`).toMatch(/^22(\.|$)/);
        const runsNode = steps.some((s) => /\b(npm|npx|node)\b|\.ci\/run\b/.test(s.run ?? ""));
        if (runsNode) expect(setups.length, `${file}:${name} sets up Node`).toBeGreaterThan(0);
      }
    }
  });
});
