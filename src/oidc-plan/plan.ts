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
import { jobRegion, type Partition, partitionOf } from "./partitions.js";
import { contextWords, permissionsPolicy, scopeCalls } from "./permissions-policy.js";
import {
  createProviderScript,
  createRoleScript,
  providerCloudFormation,
  providerTerraform,
  rolesTerraform,
} from "./provider-snippets.js";
import { redactCredentials } from "./redact-credentials.js";
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
import { workflowDiff } from "./workflow-diff.js";
import {
  isAwsKeySecretName,
  type KeyPart,
  type KeySecrets,
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
  /** China and GovCloud regions live in their own partitions (and accounts): partitions.ts. */
  partition: Partition;
  /** The region its jobs work in, for the smoke test. */
  region: string;
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
  if (context.pullRequests) {
    const refs = contextSlug({ kind: "refs", refs: context.refs });
    return context.refs.length === 0 ? "pull-requests" : `${refs.slice(0, 32)}-and-prs`;
  }
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
  const refs = context.refs.map((ref) => `${ref.type} ${ref.pattern}`);
  return [...refs, ...(context.pullRequests ? ["pull requests"] : [])].join(", ");
}

/**
 * Every planned role's name starts with this: the follow-through may read roles (iam:GetRole) on
 * `role/gh-*` only (src/permissions.ts).
 */
export const PLANNED_ROLE_PREFIX = "gh-";

/** IAM role names are at most 64 characters: long ones keep a hash so two never collide. */
function roleName(repo: PlanRepository, slug: string): string {
  const full = iamName(`${PLANNED_ROLE_PREFIX}${repo.owner}-${repo.name}-${slug}`);
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
  partition: Partition;
  region: string;
  slug: string;
  jobs: JobKey[];
  events: Set<string>;
}

/** Every `service:Action` the plan may name, so the catalogue can be loaded before building. */
export function actionsToLookUp(input: PlanInput): string[] {
  const names = new Set<string>();
  const observed = observedFor(input);
  for (const call of observed.calls) names.add(`${call.service}:${call.action}`);
  const scans = input.workflows.slice(0, MAX_WORKFLOWS).map((file) => scanWorkflow(file));
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
  const { scans, keySecrets } = scanByUse(files);
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
  if (repo.defaultBranchAssumed) {
    warnings.push(
      `the default branch was assumed to be ${repo.defaultBranch} (offline plan): scheduled, dispatched and similar jobs are trusted on it. If the repository's default branch is another, re-run with --default-branch NAME`,
    );
  }
  if (!input.region && !observed.mainRegion) {
    warnings.push("no region known: workflows that name none get aws-region us-east-1: check it");
  }

  // A key lives in one partition: a job that names no region works where its key's other jobs do.
  const keyRegions = new Map<string, string>();
  for (const workflow of scans) {
    for (const job of workflow.jobs) {
      const named = jobRegion(workflow, job);
      if (named === undefined) continue;
      for (const name of secretsOfJob(workflow, job.id))
        if (!keyRegions.has(name)) keyRegions.set(name, named);
    }
  }
  /** Regions taken from the key, by `path#job`: the rewrite has nothing else to go on. */
  const regionsFromKeys = new Map<string, string>();

  // Which jobs get which role.
  const drafts = new Map<string, RoleDraft>();
  const jobRoleKeys = new Map<string, { keys: string[]; expression?: string }>();
  const cloudJobs = { azure: [] as JobKey[], gcp: [] as JobKey[] };
  const notes: string[] = [];
  /** Jobs whose keys stay because no role can trust what they present, by workflow path. */
  const keptJobs = new Map<string, Set<string>>();
  const keptReasons: string[] = [];
  const keep = (path: string, jobId: string) =>
    keptJobs.set(path, (keptJobs.get(path) ?? new Set()).add(jobId));
  for (const workflow of scans) {
    for (const job of workflow.jobs) {
      if (job.clouds.length === 0) continue;
      const result = jobContexts(job, workflow, scans, repo);
      notes.push(...result.notes);
      if (job.clouds.includes("azure")) cloudJobs.azure.push({ workflow, job });
      if (job.clouds.includes("gcp")) cloudJobs.gcp.push({ workflow, job });
      if (!job.clouds.includes("aws") || job.steps.length === 0) continue;
      if (result.keepKeys) {
        keep(workflow.path, job.id);
        keptReasons.push(result.keepKeys);
        continue;
      }
      const keys: string[] = [];
      // A role lives in one partition: jobs in China or GovCloud get their own.
      const fromKey = secretsOfJob(workflow, job.id)
        .map((name) => keyRegions.get(name))
        .find((candidate) => candidate !== undefined);
      const written = jobRegion(workflow, job);
      const jobWorksIn = written ?? fromKey ?? region;
      if (written === undefined && fromKey !== undefined)
        regionsFromKeys.set(`${workflow.path}#${job.id}`, fromKey);
      const partition = partitionOf(jobWorksIn);
      for (const context of result.contexts) {
        const key = partition === "aws" ? contextKey(context) : `${partition}|${contextKey(context)}`;
        const draft = drafts.get(key) ?? {
          context,
          partition,
          region: jobWorksIn,
          slug:
            partition === "aws"
              ? contextSlug(context)
              : `${contextSlug(context)}-${partitionSuffix(partition)}`,
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
  // A local caller keeps passing the keys to a called workflow that keeps them.
  for (const workflow of scans) {
    for (const job of workflow.jobs) {
      const called = job.reusable?.localPath;
      if (called && keptJobs.has(called)) keep(workflow.path, job.id);
    }
  }
  // First, so they lead the summary too: these jobs still hold a static key after the migration.
  warnings.unshift(...new Set(keptReasons));
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
      inferJobCalls(workflow, job, {
        region: draft.region,
        ...(accountId === ACCOUNT_PLACEHOLDER ? {} : { accountId }),
      }),
    );
    const { partition } = draft;
    const permissions = permissionsPolicy({
      observed: scoped.calls,
      inferred,
      catalogue,
      evidence,
      partition,
    });
    warnings.push(...permissions.notes.map((note) => `${name}: ${note}`));
    const role: PlannedRole = {
      name,
      arn: `arn:${partition}:iam::${accountId}:role/${name}`,
      partition,
      region: draft.region,
      slug: draft.slug,
      context: draft.context,
      description: describeContext(draft.context),
      subs: [...subs.values()],
      jobs: draft.jobs.map(({ workflow, job }) => `${workflow.path}#${job.id}`),
      trustPolicy: trustPolicy(accountId, [...subs.values()], sidBase(draft.slug), partition),
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
    const idTokenCallers = new Set(
      scan.jobs
        .filter((job) => job.reusable?.localPath && calledWithRoles.has(job.reusable.localPath))
        .map((job) => job.id),
    );
    // A caller with `secrets: inherit` has no finding of its own but must still grant id-token.
    if (!file || scan.error || (scan.findings.length === 0 && idTokenCallers.size === 0)) continue;
    const awsRoles = new Map<string, string>();
    for (const job of scan.jobs) {
      const value = roleValue(scan.path, job.id);
      if (value) awsRoles.set(job.id, value);
    }
    const result = rewriteWorkflow(file, scan, {
      awsRoles,
      idTokenCallers,
      keptJobs: keptJobs.get(scan.path) ?? new Set(),
      jobRegions: new Map(
        scan.jobs.flatMap((job) => {
          const found = regionsFromKeys.get(`${scan.path}#${job.id}`);
          return found === undefined ? [] : [[job.id, found] as const];
        }),
      ),
      region,
      sessionName,
      keySecrets,
    });
    rewrites.set(scan.path, result);
    warnings.push(...result.notes.map((note) => `${basename(scan.path)}: ${note}`));
  }

  // What is left after the rewrite decides which findings are resolved.
  const findings: PlanFinding[] = [];
  for (const scan of scans) {
    const rewrite = rewrites.get(scan.path);
    const remaining = rewrite?.changed
      ? scanWorkflow({ path: scan.path, content: rewrite.content }, keySecrets).findings
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

  // One provider per account, and a partition is always another account: the first set of files
  // serves the main partition, suffixed ones the others.
  const partitions = [...new Set(roles.map((role) => role.partition))].sort();
  const [mainPartition = "aws"] = partitions.includes("aws") ? ["aws"] : partitions;
  const providerFiles = partitions
    .filter((partition) => partition !== mainPartition)
    .flatMap((partition) => [
      {
        path: `oidc-provider/create-provider.${partition}.sh`,
        content: createProviderScript(accountId, partition),
      },
      { path: `oidc-provider/cloudformation.${partition}.yml`, content: providerCloudFormation(partition) },
      { path: `oidc-provider/terraform.${partition}.tf`, content: providerTerraform(partition) },
    ]);
  outputFiles.unshift(
    { path: "oidc-provider/create-provider.sh", content: createProviderScript(accountId, mainPartition) },
    { path: "oidc-provider/cloudformation.yml", content: providerCloudFormation(mainPartition) },
    { path: "oidc-provider/terraform.tf", content: providerTerraform(mainPartition) },
    ...providerFiles,
  );
  for (const partition of partitions.filter((candidate) => candidate !== mainPartition)) {
    const slugs = roles.filter((role) => role.partition === partition).map((role) => role.slug);
    warnings.push(
      `roles ${slugs.join(", ")} are in partition ${partition}, a different account from ${accountId}: put that account's id in their ARNs and roles/<role>/ files, and create the provider there with oidc-provider/create-provider.${partition}.sh`,
    );
  }
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
        content: `${JSON.stringify(trustPolicy(accountId, [...role.subs, ...testSubs], sidBase(role.slug), role.partition), null, 2)}\n`,
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

/**
 * A secret is an AWS key because of how it is used, not what it is called: scan, learn which
 * secrets feed key env, key inputs, key run lines and callers' key secrets, and scan again until
 * every other use of them (a docker login, another action's inputs, another step's env) is found.
 */
function scanByUse(files: WorkflowFile[]): { scans: ScannedWorkflow[]; keySecrets: KeySecrets } {
  const known = new Map<string, KeyPart>();
  let scans = files.map((file) => scanWorkflow(file));
  // Each round can only add names (a caller's secret feeding a called workflow's key): a few suffice.
  for (let round = 0; round < 4; round++) {
    let learned = false;
    for (const scan of scans) {
      for (const [name, part] of Object.entries(scan.keySecrets)) {
        if (known.has(name)) continue;
        known.set(name, part);
        // Names that read as keys are found on every scan already.
        if (!isAwsKeySecretName(name.split("|").pop() ?? name)) learned = true;
      }
    }
    if (!learned) break;
    scans = files.map((file) => scanWorkflow(file, known));
  }
  return { scans, keySecrets: known };
}

/** The key secrets a job's findings read (workflow-level ones included), upper-cased. */
function secretsOfJob(workflow: ScannedWorkflow, jobId: string): string[] {
  return workflow.findings
    .filter((finding) => finding.cloud === "aws" && (finding.job === undefined || finding.job === jobId))
    .flatMap((finding) => finding.secretNames.map((name) => name.toUpperCase()));
}

function partitionSuffix(partition: Exclude<Partition, "aws">): string {
  return partition === "aws-cn" ? "cn" : "gov";
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
