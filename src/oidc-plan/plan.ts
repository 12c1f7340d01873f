/**
 * The OIDC migration plan for one repository (design.md, step 7 "Prevent"): scan the workflows, work
 * out which sub each key-using job presents, one role per deployment context with a pinned trust
 * policy and permissions from what the key did, the workflows rewritten, and the steps in a safe
 * order. `buildMigrationPlan` is pure given the action catalogue; `planMigration` loads it.
 */
import { createHash } from "node:crypto";
import type { ActionUse } from "../forensics/findings.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import { type ActionCatalogue, loadActionCatalogue } from "./action-catalogue.js";
import { azureSetupScript, gcpSetupScript } from "./federated.js";
import { migrationGuide, planSummary, smokeTestWorkflow, TEST_BRANCH } from "./migration-guide.js";
import { callsFromAnalysis, type ObservedCalls, observeCalls } from "./observed-calls.js";
import { contextWords, permissionsPolicy, scopeCalls } from "./permissions-policy.js";
import {
  createProviderScript,
  createRoleScript,
  providerCloudFormation,
  providerTerraform,
  rolesTerraform,
} from "./provider-snippets.js";
import { type RewriteResult, rewriteWorkflow } from "./rewrite-workflow.js";
import {
  contextKey,
  type DeploymentContext,
  jobContexts,
  type PlanRepository,
  type SubValue,
  subValuesFor,
} from "./sub-claims.js";
import { type PolicyDocument, trustPolicy } from "./trust-policy.js";
import { inferJobCalls } from "./workflow-commands.js";
import { redactCredentials, workflowDiff } from "./workflow-diff.js";
import {
  type ScannedJob,
  type ScannedWorkflow,
  type StaticCredentialFinding,
  scanWorkflow,
} from "./workflow-scan.js";
import type { WorkflowFile } from "./workflow-yaml.js";

export type { ActionCatalogue } from "./action-catalogue.js";
export type { DeploymentContext, PlanRepository, SubValue } from "./sub-claims.js";
export type { PolicyDocument } from "./trust-policy.js";
export type { StaticCredentialFinding } from "./workflow-scan.js";
export type { WorkflowFile } from "./workflow-yaml.js";

/** More workflow files than any repository we plan for has; the rest are reported, not read. */
export const MAX_WORKFLOWS = 200;
export const ACCOUNT_PLACEHOLDER = "ACCOUNT_ID";

export interface PlanInput {
  repository: PlanRepository;
  workflows: WorkflowFile[];
  accountId?: string;
  /** The IAM user whose key leaked (or that the workflows' keys belong to). */
  userName?: string;
  /** The leaked access key id, named in the steps (an identifier, never the secret). */
  accessKeyId?: string;
  region?: string;
  /** The CloudTrail snapshot for the key. */
  events?: TrailEvent[];
  /**
   * The incident's analysis of that snapshot (forensics/analyze.ts `Findings.actions`): when given,
   * only the calls it judged expected become permissions. Without it the events are filtered here.
   */
  actionUses?: ActionUse[];
  /** Calls at or after this time may be the attacker's: they never become permissions. */
  leakedAt?: string;
  leakLocations?: Array<{ path: string; startLine?: number }>;
}

export interface PlanFile {
  path: string;
  content: string;
}

export interface PlannedRole {
  name: string;
  arn: string;
  /** Directory under roles/ and the role's short name. */
  slug: string;
  context: DeploymentContext;
  /** Human wording: `environment production`, `branch main`. */
  description: string;
  subs: SubValue[];
  /** `path#job` of the jobs that assume it. */
  jobs: string[];
  trustPolicy: PolicyDocument;
  permissionsPolicy: PolicyDocument;
  actions: string[];
  /** Of those, the ones CloudTrail showed. */
  seenInCloudTrail: string[];
  startingPoint: boolean;
  /** Actions granted on every resource because no event named one. */
  unscoped: string[];
  /** Actions the key used only on other contexts' resources, so not granted to this role. */
  withheld: string[];
  dropped: Array<{ action: string; reason: string }>;
}

export interface PlanFinding extends StaticCredentialFinding {
  /** The rewritten workflow no longer has it. */
  resolved: boolean;
  /** The alert's location points here. */
  leakLocation: boolean;
}

export interface PlannedWorkflow {
  path: string;
  changed: boolean;
  error?: string;
}

export interface MigrationPlan {
  repository: string;
  files: PlanFile[];
  /** Short, readable Markdown. */
  summary: string;
  roles: PlannedRole[];
  findings: PlanFinding[];
  workflows: PlannedWorkflow[];
  warnings: string[];
  /** No static cloud credential in any workflow that could be read. */
  nothingToMigrate: boolean;
}

function iamName(value: string): string {
  return value
    .replace(/\*/g, "all")
    .replace(/[^A-Za-z0-9+=,.@_-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
}

/** `v*` reads as `v`, a lone `*` as `all`: names a person can say. */
function patternWord(pattern: string): string {
  return pattern === "*" ? "all" : pattern.replace(/[*?]/g, "-");
}

function contextSlug(context: DeploymentContext): string {
  if (context.kind === "environment") return iamName(`env-${context.name}`).toLowerCase();
  const [only] = context.refs;
  if (context.refs.length === 1 && only) {
    return iamName(
      `${only.type === "branch" ? "branch" : "tags"}-${patternWord(only.pattern)}`,
    ).toLowerCase();
  }
  const parts = context.refs.map((ref) => `${ref.type === "tag" ? "tags-" : ""}${patternWord(ref.pattern)}`);
  return iamName(`refs-${parts.join("-")}`)
    .toLowerCase()
    .slice(0, 40)
    .replace(/-$/, "");
}

function describeContext(context: DeploymentContext): string {
  if (context.kind === "environment") return `environment ${context.name}`;
  return context.refs.map((ref) => `${ref.type} ${ref.pattern}`).join(", ");
}

/** IAM role names are at most 64 characters: long ones keep a hash so two never collide. */
function roleName(repo: PlanRepository, slug: string): string {
  const full = iamName(`gh-${repo.owner}-${repo.name}-${slug}`);
  if (full.length <= 64) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 6);
  return `${full.slice(0, 57)}-${hash}`;
}

function basename(path: string): string {
  return path.split("/").pop() ?? path;
}

interface JobKey {
  workflow: ScannedWorkflow;
  job: ScannedJob;
}

interface RoleDraft {
  context: DeploymentContext;
  slug: string;
  jobs: JobKey[];
  events: Set<string>;
}

/** Every `service:Action` the plan may name, so the catalogue can be loaded before building. */
export function actionsToLookUp(input: PlanInput): string[] {
  const names = new Set<string>();
  const observed = observedFor(input);
  for (const call of observed.calls) names.add(`${call.service}:${call.action}`);
  const scans = input.workflows.slice(0, MAX_WORKFLOWS).map(scanWorkflow);
  for (const workflow of scans) {
    for (const job of workflow.jobs) {
      for (const call of inferJobCalls(workflow, job, { region: input.region ?? "us-east-1" })) {
        names.add(`${call.service}:${call.action}`);
      }
    }
  }
  names.add("sts:GetCallerIdentity");
  return [...names];
}

function observedFor(input: PlanInput): ObservedCalls {
  const fromEvents = observeCalls(input.events ?? [], withLeak(input));
  if (!input.actionUses) return fromEvents;
  const analysed = callsFromAnalysis(input.actionUses, input.accountId ?? fromEvents.accountId);
  return {
    ...analysed,
    ...(fromEvents.mainRegion === undefined ? {} : { mainRegion: fromEvents.mainRegion }),
  };
}

function withLeak(input: PlanInput): { leakedAt?: string; accountId?: string } {
  return {
    ...(input.leakedAt === undefined ? {} : { leakedAt: input.leakedAt }),
    ...(input.accountId === undefined ? {} : { accountId: input.accountId }),
  };
}

export function buildMigrationPlan(input: PlanInput, catalogue: ActionCatalogue): MigrationPlan {
  const repo = input.repository;
  const full = `${repo.owner}/${repo.name}`;
  const warnings: string[] = [];
  if (input.workflows.length > MAX_WORKFLOWS) {
    warnings.push(`${input.workflows.length} workflow files: only the first ${MAX_WORKFLOWS} were read`);
  }
  const files = input.workflows.slice(0, MAX_WORKFLOWS);
  const scans = files.map(scanWorkflow);
  for (const scan of scans) if (scan.error) warnings.push(scan.error);
  const allFindings = scans.flatMap((scan) => scan.findings);
  const refused = scans.filter((scan) => scan.error);

  const observed = observedFor(input);
  const accountId = input.accountId ?? observed.accountId ?? ACCOUNT_PLACEHOLDER;
  const region = input.region ?? observed.mainRegion ?? "us-east-1";

  if (allFindings.length === 0) {
    const summary = planSummary({
      repo,
      findings: [],
      roles: [],
      scans,
      warnings,
      accountId,
      nothing: refused.length === 0,
    });
    return {
      repository: full,
      files: [],
      summary,
      roles: [],
      findings: [],
      workflows: scans.map((scan) => ({
        path: scan.path,
        changed: false,
        ...(scan.error ? { error: scan.error } : {}),
      })),
      warnings,
      nothingToMigrate: refused.length === 0,
    };
  }

  if (accountId === ACCOUNT_PLACEHOLDER) {
    warnings.push(
      `the AWS account is unknown: replace ${ACCOUNT_PLACEHOLDER} in the files (or pass --account)`,
    );
  }
  if (!input.region && !observed.mainRegion) {
    warnings.push("no region known: workflows that name none get aws-region us-east-1: check it");
  }

  // Which jobs get which role.
  const drafts = new Map<string, RoleDraft>();
  const jobRoleKeys = new Map<string, { keys: string[]; expression?: string }>();
  const cloudJobs = { azure: [] as JobKey[], gcp: [] as JobKey[] };
  const notes: string[] = [];
  for (const workflow of scans) {
    for (const job of workflow.jobs) {
      if (job.clouds.length === 0) continue;
      const result = jobContexts(job, workflow, scans, repo);
      notes.push(...result.notes);
      if (job.clouds.includes("azure")) cloudJobs.azure.push({ workflow, job });
      if (job.clouds.includes("gcp")) cloudJobs.gcp.push({ workflow, job });
      if (!job.clouds.includes("aws") || job.steps.length === 0) continue;
      const keys: string[] = [];
      for (const context of result.contexts) {
        const key = contextKey(context);
        const draft = drafts.get(key) ?? {
          context,
          slug: contextSlug(context),
          jobs: [],
          events: new Set<string>(),
        };
        draft.jobs.push({ workflow, job });
        for (const event of result.events) draft.events.add(event);
        drafts.set(key, draft);
        keys.push(key);
      }
      if (keys.length > 0) {
        jobRoleKeys.set(`${workflow.path}#${job.id}`, {
          keys,
          ...(result.environmentExpression === undefined ? {} : { expression: result.environmentExpression }),
        });
      }
    }
  }
  // Jobs that had the workflow-level keys but show no AWS use lose them without a role: say so.
  for (const workflow of scans) {
    if (!workflow.findings.some((finding) => finding.kind === "aws-env" && finding.level === "workflow"))
      continue;
    for (const job of workflow.jobs) {
      if (job.steps.length > 0 && !job.clouds.includes("aws")) {
        notes.push(
          `${workflow.path} job ${job.id} had the workflow's keys but shows no AWS use: it gets no role`,
        );
      }
    }
  }
  warnings.push(...new Set(notes));

  // Subs and trust per role.
  const roles: PlannedRole[] = [];
  const roleByKey = new Map<string, PlannedRole>();
  let refusal: string | undefined;
  const evidence = (input.events?.length ?? 0) > 0 || (input.actionUses?.length ?? 0) > 0;
  const allWords = [...drafts.values()].flatMap((draft) => wordsOf(draft.context));
  for (const [key, draft] of drafts) {
    const subs = new Map<string, SubValue>();
    for (const { workflow } of draft.jobs) {
      const result = subValuesFor(repo, draft.context, {
        workflowPath: workflow.path,
        ...(workflow.name === undefined ? {} : { workflowName: workflow.name }),
        events: [...draft.events],
      });
      if (result.refused) refusal = result.refused;
      warnings.push(...result.notes);
      for (const value of result.values) subs.set(value.value, value);
    }
    if (refusal) break;
    const name = roleName(repo, draft.slug);
    const own = wordsOf(draft.context);
    const scoped = scopeCalls(observed.calls, own, allWords);
    const inferred = draft.jobs.flatMap(({ workflow, job }) =>
      inferJobCalls(workflow, job, { region, ...(accountId === ACCOUNT_PLACEHOLDER ? {} : { accountId }) }),
    );
    const permissions = permissionsPolicy({ observed: scoped.calls, inferred, catalogue, evidence });
    warnings.push(...permissions.notes.map((note) => `${name}: ${note}`));
    const role: PlannedRole = {
      name,
      arn: `arn:aws:iam::${accountId}:role/${name}`,
      slug: draft.slug,
      context: draft.context,
      description: describeContext(draft.context),
      subs: [...subs.values()],
      jobs: draft.jobs.map(({ workflow, job }) => `${workflow.path}#${job.id}`),
      trustPolicy: trustPolicy(accountId, [...subs.values()], sidBase(draft.slug)),
      permissionsPolicy: permissions.policy,
      actions: permissions.actions,
      seenInCloudTrail: permissions.seenInCloudTrail,
      startingPoint: permissions.startingPoint,
      unscoped: permissions.unscoped,
      withheld: scoped.withheld,
      dropped: permissions.dropped,
    };
    roles.push(role);
    roleByKey.set(key, role);
  }
  if (refusal) {
    warnings.unshift(`no role can be planned: ${refusal}. Fix the repository's sub claim template first.`);
    const findings = allFindings.map((finding) => ({
      ...finding,
      resolved: false,
      leakLocation: isLeak(finding, input),
    }));
    return {
      repository: full,
      files: [],
      summary: planSummary({ repo, findings, roles: [], scans, warnings, accountId, nothing: false }),
      roles: [],
      findings,
      workflows: scans.map((scan) => ({ path: scan.path, changed: false })),
      warnings,
      nothingToMigrate: false,
    };
  }
  roles.sort((a, b) => a.slug.localeCompare(b.slug));

  // The role-to-assume each job writes: one ARN, or an expression that picks by environment.
  const roleValue = (path: string, jobId: string): string | undefined => {
    const entry = jobRoleKeys.get(`${path}#${jobId}`);
    if (!entry) return undefined;
    const chosen = entry.keys.flatMap((key) => roleByKey.get(key) ?? []);
    const [first] = chosen;
    if (!first) return undefined;
    if (chosen.length === 1 || entry.expression === undefined) return first.arn;
    const map: Record<string, string> = {};
    for (const role of chosen) if (role.context.kind === "environment") map[role.context.name] = role.arn;
    return `\${{ fromJSON('${JSON.stringify(map).replace(/'/g, "''")}')[${entry.expression}] }}`;
  };

  // Callers of local reusable workflows whose jobs assume a role must grant id-token themselves.
  const calledWithRoles = new Set(
    scans.filter((scan) => scan.jobs.some((job) => roleValue(scan.path, job.id))).map((scan) => scan.path),
  );
  const sessionName = `${iamName(repo.name).slice(0, 24)}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
  const rewrites = new Map<string, RewriteResult>();
  const outputFiles: PlanFile[] = [];
  for (const [index, scan] of scans.entries()) {
    const file = files[index];
    if (!file || scan.error || scan.findings.length === 0) continue;
    const awsRoles = new Map<string, string>();
    for (const job of scan.jobs) {
      const value = roleValue(scan.path, job.id);
      if (value) awsRoles.set(job.id, value);
    }
    const idTokenCallers = new Set(
      scan.jobs
        .filter((job) => job.reusable?.localPath && calledWithRoles.has(job.reusable.localPath))
        .map((job) => job.id),
    );
    const result = rewriteWorkflow(file, scan, { awsRoles, idTokenCallers, region, sessionName });
    rewrites.set(scan.path, result);
    warnings.push(...result.notes.map((note) => `${basename(scan.path)}: ${note}`));
  }

  // What is left after the rewrite decides which findings are resolved.
  const findings: PlanFinding[] = [];
  for (const scan of scans) {
    const rewrite = rewrites.get(scan.path);
    const remaining = rewrite?.changed
      ? scanWorkflow({ path: scan.path, content: rewrite.content }).findings
      : scan.findings;
    for (const finding of scan.findings) {
      const unresolved =
        !finding.autoFix ||
        !rewrite?.changed ||
        rewrite.unresolvedLines.includes(finding.line) ||
        remaining.some(
          (left) => left.kind === finding.kind && left.name === finding.name && left.job === finding.job,
        );
      findings.push({ ...finding, resolved: !unresolved, leakLocation: isLeak(finding, input) });
    }
    if (rewrite?.changed) {
      const name = basename(scan.path);
      // A literal key the rewrite could not remove must still not travel in the plan.
      const content = redactCredentials(rewrite.content);
      if (content !== rewrite.content)
        warnings.push(
          `${name}: a literal credential remains and is redacted in the plan's copy: edit it by hand`,
        );
      outputFiles.push({ path: `workflows/${name}`, content });
      outputFiles.push({
        path: `workflows/${name.replace(/\.ya?ml$/, "")}.diff`,
        content: workflowDiff(scan.path, sourceOf(files, scan.path), rewrite.content),
      });
    }
  }

  outputFiles.unshift(
    { path: "oidc-provider/create-provider.sh", content: createProviderScript(accountId) },
    { path: "oidc-provider/cloudformation.yml", content: providerCloudFormation() },
    { path: "oidc-provider/terraform.tf", content: providerTerraform() },
  );
  for (const role of roles) {
    const testSubs = subValuesFor(
      repo,
      { kind: "refs", refs: [{ type: "branch", pattern: TEST_BRANCH }] },
      {
        workflowPath: ".github/workflows/oidc-smoke-test.yml",
        workflowName: "OIDC smoke test",
        events: ["push", "workflow_dispatch"],
      },
    ).values;
    outputFiles.push(
      {
        path: `roles/${role.slug}/trust-policy.json`,
        content: `${JSON.stringify(role.trustPolicy, null, 2)}\n`,
      },
      {
        path: `roles/${role.slug}/trust-policy.test-branch.json`,
        content: `${JSON.stringify(trustPolicy(accountId, [...role.subs, ...testSubs], sidBase(role.slug)), null, 2)}\n`,
      },
      {
        path: `roles/${role.slug}/permissions-policy.json`,
        content: `${JSON.stringify(role.permissionsPolicy, null, 2)}\n`,
      },
      {
        path: `roles/${role.slug}/create-role.sh`,
        content: createRoleScript({ roleName: role.name, repository: full, context: role.description }),
      },
    );
  }
  if (roles.length > 0) {
    outputFiles.push({
      path: "roles/terraform.tf",
      content: rolesTerraform(roles.map((r) => ({ roleName: r.name, slug: r.slug }))),
    });
    outputFiles.push({ path: `workflows/oidc-smoke-test.yml`, content: smokeTestWorkflow(roles, region) });
  }
  const federatedSubs = (jobs: JobKey[]) => {
    const subs = new Map<string, SubValue>();
    for (const { workflow, job } of jobs) {
      for (const context of jobContexts(job, workflow, scans, repo).contexts) {
        for (const value of subValuesFor(repo, context, {
          workflowPath: workflow.path,
          events: workflow.triggers.events,
        }).values) {
          subs.set(value.value, value);
        }
      }
    }
    return [...subs.values()];
  };
  const secretsOf = (cloud: "azure" | "gcp") => [
    ...new Set(
      findings.filter((finding) => finding.cloud === cloud).flatMap((finding) => finding.secretNames),
    ),
  ];
  if (cloudJobs.azure.length > 0) {
    outputFiles.push({
      path: "azure/setup-federated-credentials.sh",
      content: azureSetupScript(repo, federatedSubs(cloudJobs.azure), secretsOf("azure")),
    });
  }
  if (cloudJobs.gcp.length > 0) {
    outputFiles.push({
      path: "gcp/setup-workload-identity.sh",
      content: gcpSetupScript(repo, federatedSubs(cloudJobs.gcp), secretsOf("gcp")),
    });
  }
  const workflows: PlannedWorkflow[] = scans.map((scan) => ({
    path: scan.path,
    changed: rewrites.get(scan.path)?.changed ?? false,
    ...(scan.error ? { error: scan.error } : {}),
  }));
  const uniqueWarnings = [...new Set(warnings)];
  const summary = planSummary({
    repo,
    findings,
    roles,
    scans,
    warnings: uniqueWarnings,
    accountId,
    nothing: false,
  });
  outputFiles.push({
    path: "MIGRATION.md",
    content: migrationGuide({
      repo,
      summary,
      roles,
      findings,
      workflows,
      accountId,
      warnings: uniqueWarnings,
      hasAzure: cloudJobs.azure.length > 0,
      hasGcp: cloudJobs.gcp.length > 0,
      ...(input.userName === undefined ? {} : { userName: input.userName }),
      ...(input.accessKeyId === undefined ? {} : { accessKeyId: input.accessKeyId }),
      ...(input.leakLocations === undefined ? {} : { leakLocations: input.leakLocations }),
      evidence,
      setAside: observed.setAside,
    }),
  });
  return {
    repository: full,
    files: outputFiles,
    summary,
    roles,
    findings,
    workflows,
    warnings: uniqueWarnings,
    nothingToMigrate: false,
  };
}

function sourceOf(files: WorkflowFile[], path: string): string {
  return files.find((file) => file.path === path)?.content ?? "";
}

function sidBase(slug: string): string {
  return `GitHubActions${slug
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("")}`.slice(0, 100);
}

function wordsOf(context: DeploymentContext): string[] {
  if (context.kind === "environment") return contextWords(context.name);
  return context.refs.flatMap((ref) => contextWords(ref.pattern));
}

function isLeak(finding: StaticCredentialFinding, input: PlanInput): boolean {
  return (input.leakLocations ?? []).some(
    (location) =>
      location.path === finding.path &&
      (location.startLine === undefined || location.startLine === finding.line),
  );
}

/** Loads IAM's action catalogue for what the plan may name, then builds it. */
export async function planMigration(
  input: PlanInput,
  load: (names: Iterable<string>) => Promise<ActionCatalogue> = loadActionCatalogue,
): Promise<MigrationPlan> {
  return buildMigrationPlan(input, await load(actionsToLookUp(input)));
}
