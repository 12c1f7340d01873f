/**
 * `leak-responder plan --repo OWNER/REPO [--workflows DIR] [--events FILE] [--account ID] [--out DIR]`:
 * the OIDC migration plan for a repository without an incident (design.md: the CLI). Offline from a
 * local copy of the workflows when --workflows is given; otherwise online through the GitHub API
 * (GITHUB_TOKEN, or the GitHub App variables). The incident's plan comes from the same generator.
 */
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { githubClients } from "../adapters/github/octokit.js";
import { GitHubRepositorySource } from "../adapters/github/repository-source.js";
import { loadGitHubAuthConfig } from "../config.js";
import { REPOSITORY_FULL_NAME } from "../domain/alert-job.js";
import { InvalidInputError } from "../domain/errors.js";
import { DEFAULT_MAX_TRAIL_BYTES, parseTrail } from "../forensics/parse-trail.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import { type MigrationPlan, type PlanInput, planMigration } from "../oidc-plan/plan.js";
import type { PlanRepository } from "../oidc-plan/sub-claims.js";
import { MAX_WORKFLOW_BYTES, type WorkflowFile } from "../oidc-plan/workflow-yaml.js";

const HELP = `usage: leak-responder plan --repo OWNER/REPO [--workflows DIR] [--events FILE] [--account ID] [--out DIR]

Writes a plan to move the repository's GitHub Actions workflows from static cloud keys to OIDC:
the IAM OIDC provider, one role per deployment context with a pinned trust policy, permissions
derived from what the key did, the workflows rewritten (file and diff), and MIGRATION.md.
  --repo            the repository, OWNER/REPO
  --workflows DIR   read DIR/*.yml and DIR/*.yaml instead of asking GitHub (offline)
  --events FILE     a CloudTrail export (LookupEvents output or log file) of the key's activity
  --account ID      the AWS account of the roles (default: the account the events name)
  --out DIR         where to write the plan (default: ./oidc-plan-OWNER-REPO)
  --region NAME     aws-region for workflows that name none (default: the events' main region)
  --user NAME       the IAM user whose keys the workflows use
  --leaked-at TIME  calls at or after this ISO time never become permissions
  --default-branch NAME      offline only (default: main, and the plan says it was assumed)
  --environments A,B         offline only: the repository's environments
  --installation-id N        GitHub App mode: the installation that can read the repository
  --json            print the plan (without file contents) as JSON instead of the summary

Online, GitHub credentials come from GITHUB_TOKEN or GITHUB_APP_ID/GITHUB_APP_PRIVATE_KEY
(and GITHUB_API_URL for GitHub Enterprise).`;

async function readWorkflowDir(dir: string): Promise<{ workflows: WorkflowFile[]; skipped: string[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new InvalidInputError(`--workflows ${dir}: not a readable directory`);
  }
  const workflows: WorkflowFile[] = [];
  const skipped: string[] = [];
  for (const name of names.filter((n) => /\.ya?ml$/i.test(n)).sort()) {
    const path = join(dir, name);
    const info = await stat(path);
    if (!info.isFile()) continue;
    // Checked before reading: a huge file is refused without holding it in memory.
    if (info.size > MAX_WORKFLOW_BYTES) {
      skipped.push(`${name} (${info.size} bytes, over the limit)`);
      continue;
    }
    workflows.push({ path: `.github/workflows/${name}`, content: await readFile(path, "utf8") });
  }
  return { workflows, skipped };
}

async function readEvents(file: string): Promise<{ events: TrailEvent[]; note?: string }> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new InvalidInputError(`--events ${file}: not a readable file`);
  }
  if (size > DEFAULT_MAX_TRAIL_BYTES) {
    throw new InvalidInputError(`--events ${file} is larger than the trail limit: split it by region or day`);
  }
  const parsed = parseTrail(await readFile(file, "utf8"));
  const skipped = Object.values(parsed.skipped).reduce((sum, count) => sum + count, 0);
  return {
    events: parsed.events,
    ...(skipped > 0 ? { note: `${skipped} entries of ${file} were not usable events and were skipped` } : {}),
  };
}

async function writePlan(out: string, plan: MigrationPlan): Promise<void> {
  const root = resolve(out);
  for (const file of plan.files) {
    const target = resolve(root, file.path);
    // Paths are the plan's own, but workflow names come from the repository: stay inside --out.
    if (!target.startsWith(`${root}${sep}`))
      throw new InvalidInputError(`refusing to write outside ${root}: ${file.path}`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content, "utf8");
    if (target.endsWith(".sh")) await chmod(target, 0o755);
  }
}

export const planCommand = {
  summary: "plan a repository's move from static cloud keys to GitHub Actions OIDC",
  async run(argv: string[]): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        repo: { type: "string" },
        workflows: { type: "string" },
        events: { type: "string" },
        account: { type: "string" },
        out: { type: "string" },
        region: { type: "string" },
        user: { type: "string" },
        "leaked-at": { type: "string" },
        "default-branch": { type: "string" },
        environments: { type: "string" },
        "installation-id": { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const repository = values.repo?.trim() ?? "";
    if (!REPOSITORY_FULL_NAME.test(repository)) throw new InvalidInputError("--repo must be OWNER/REPO");
    const [owner = "", name = ""] = repository.split("/");
    if (values.account !== undefined && !/^\d{12}$/.test(values.account)) {
      throw new InvalidInputError("--account must be a 12-digit AWS account id");
    }
    if (values.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(values.region)) {
      throw new InvalidInputError(`--region is not an AWS region name: "${values.region}"`);
    }
    if (values["leaked-at"] !== undefined && Number.isNaN(Date.parse(values["leaked-at"]))) {
      throw new InvalidInputError("--leaked-at must be an ISO 8601 time");
    }
    const installationId =
      values["installation-id"] === undefined ? undefined : Number(values["installation-id"]);
    if (installationId !== undefined && !(Number.isSafeInteger(installationId) && installationId > 0)) {
      throw new InvalidInputError("--installation-id must be a positive whole number");
    }

    const notes: string[] = [];
    let repositoryInfo: PlanRepository;
    let workflows: WorkflowFile[];
    if (values.workflows !== undefined) {
      const read = await readWorkflowDir(values.workflows);
      workflows = read.workflows;
      notes.push(...read.skipped.map((file) => `skipped ${file}`));
      repositoryInfo = {
        owner,
        name,
        defaultBranch: values["default-branch"] ?? "main",
        ...(values["default-branch"] === undefined ? { defaultBranchAssumed: true } : {}),
        environments: (values.environments ?? "")
          .split(",")
          .map((env) => env.trim())
          .filter(Boolean),
      };
    } else {
      const source = new GitHubRepositorySource(githubClients(loadGitHubAuthConfig(process.env)));
      // On stderr, so a --json plan can be piped: reading a large repository's workflows takes a while.
      console.error(`Reading ${repository}'s workflows from GitHub...`);
      const snapshot = await source.load(repository, installationId);
      console.error(`Read ${snapshot.workflows.length} workflow file(s) of ${repository}`);
      repositoryInfo = snapshot.repository;
      workflows = snapshot.workflows;
      notes.push(...snapshot.skipped.map((file) => `skipped ${file.path}: ${file.reason}`));
    }
    const events = values.events === undefined ? undefined : await readEvents(values.events);
    if (events?.note) notes.push(events.note);

    const input: PlanInput = {
      repository: repositoryInfo,
      workflows,
      ...(events === undefined ? {} : { events: events.events }),
      ...(values.account === undefined ? {} : { accountId: values.account }),
      ...(values.region === undefined ? {} : { region: values.region }),
      ...(values.user === undefined ? {} : { userName: values.user }),
      ...(values["leaked-at"] === undefined ? {} : { leakedAt: values["leaked-at"] }),
    };
    const plan = await planMigration(input);
    const out = values.out ?? `oidc-plan-${owner}-${name}`;
    if (plan.files.length > 0) await writePlan(out, plan);

    if (values.json) {
      const { files, ...rest } = plan;
      console.log(
        JSON.stringify({ ...rest, files: files.map((file) => file.path), out: resolve(out), notes }, null, 2),
      );
    } else {
      console.log(plan.summary);
      for (const note of notes) console.log(`note: ${note}`);
      if (plan.files.length > 0)
        console.log(`Wrote ${plan.files.length} files to ${resolve(out)} (start with MIGRATION.md).`);
    }
    return 0;
  },
};
