/**
 * Which `sub` claim values a job will present to AWS, derived from its triggers and environment
 * (facts.md, GitHub Actions OIDC):
 *   environment -> `repo:O/R:environment:NAME`; pull_request -> `repo:O/R:pull_request` (a fork's
 *   pull request gets no token at all); otherwise `repo:O/R:ref:refs/heads/BRANCH` or
 *   `ref:refs/tags/TAG`; a called workflow presents its caller's. Repositories created after
 *   2026-07-15, and renamed or transferred ones, present `repo:OWNER@OWNER_ID/REPO@REPO_ID:...`; a
 *   customised claim template changes the format. A job whose runs present a sub no pinned role
 *   can cover (a push to any branch, pull_request_target, a called workflow without callers here)
 *   keeps its keys: it is never left with neither.
 */
import type { ScannedJob, ScannedWorkflow, WorkflowTriggers } from "./workflow-scan.js";

export interface PlanRepository {
  owner: string;
  name: string;
  ownerId?: number;
  repoId?: number;
  /** ISO 8601. */
  createdAt?: string;
  defaultBranch: string;
  environments: string[];
  /** GET /repos/{o}/{r}/actions/oidc/customization/sub; absent = GitHub's default template. */
  subClaim?: { useDefault: boolean; includeClaimKeys?: string[] };
  renamedOrTransferred?: boolean;
  /** Offline without --default-branch: `defaultBranch` is a guess the plan must own up to. */
  defaultBranchAssumed?: boolean;
  visibility?: string;
}

export interface RefPattern {
  type: "branch" | "tag";
  /** A literal name, or a pattern translated to IAM's StringLike (`*`, `?`). */
  pattern: string;
}

export type DeploymentContext =
  | { kind: "environment"; name: string }
  /** `pullRequests`: the job also runs on pull_request, whose runs present `repo:O/R:pull_request`. */
  | { kind: "refs"; refs: RefPattern[]; pullRequests?: boolean };

export interface SubValue {
  value: string;
  match: "StringEquals" | "StringLike";
}

export interface JobContexts {
  /** One per environment the job can run in, or one refs context; empty means the job gets no role. */
  contexts: DeploymentContext[];
  /** Set when the environment comes from an expression: it selects the role at run time. */
  environmentExpression?: string;
  /** Events this job runs on that get a role (pull requests excluded). */
  events: string[];
  notes: string[];
  /**
   * Set when no role can trust every sub the job presents: its static keys stay, and this says why
   * (removing them would leave runs with nothing to authenticate with).
   */
  keepKeys?: string;
}

/** facts.md: repositories created after this day present the OWNER@ID/REPO@ID format. */
const ID_FORMAT_AFTER_DAY = "2026-07-15";
const PULL_REQUEST_EVENTS = new Set(["pull_request", "pull_request_target"]);
/** Events whose runs use the default branch's ref. */
const DEFAULT_BRANCH_EVENTS = new Set([
  "schedule",
  "workflow_dispatch",
  "workflow_run",
  "repository_dispatch",
  "issues",
  "issue_comment",
  "check_run",
  "check_suite",
  "discussion",
  "discussion_comment",
  "label",
  "milestone",
  "page_build",
  "project",
  "project_card",
  "project_column",
  "public",
  "registry_package",
  "status",
  "watch",
  "fork",
  "gollum",
  "delete",
  "branch_protection_rule",
]);
const MAX_SUB_VALUES = 24;

export function refKey(ref: RefPattern): string {
  return `${ref.type === "branch" ? "refs/heads" : "refs/tags"}/${ref.pattern}`;
}

export function contextKey(context: DeploymentContext): string {
  if (context.kind === "environment") return `environment:${context.name}`;
  return `refs:${context.refs.map(refKey).sort().join(",")}${context.pullRequests ? "+pull_request" : ""}`;
}

/** A GitHub branch/tag filter as an IAM StringLike pattern (GitHub's `**` and `*` both become `*`). */
export function filterToPattern(filter: string): { pattern: string; approximate: boolean } | undefined {
  if (filter.startsWith("!")) return undefined;
  let approximate = false;
  let pattern = filter.replace(/\*\*/g, "*").replace(/\*+/g, "*");
  if (/[[\]+?]/.test(pattern)) {
    approximate = true;
    pattern = pattern.replace(/\[[^\]]*\]/g, "?").replace(/\+/g, "*");
  }
  return { pattern, approximate };
}

interface RunsOn {
  events: string[];
  refs: RefPattern[];
  notes: string[];
  /** pull_request / pull_request_target runs: their sub is `repo:O/R:pull_request`, not a ref. */
  pullRequestEvents: string[];
  /** A push to any branch (no branch filter, or branches-ignore): no pinned ref covers it. */
  anyBranchPush: boolean;
  /** A called workflow with no caller in this repository: its callers decide its sub. */
  needsCallers: boolean;
}

function addRef(refs: RefPattern[], ref: RefPattern): void {
  if (!refs.some((r) => r.type === ref.type && r.pattern === ref.pattern)) refs.push(ref);
}

function refsFromTriggers(triggers: WorkflowTriggers, repo: PlanRepository, where: string): RunsOn {
  const out: RunsOn = {
    events: [],
    refs: [],
    notes: [],
    pullRequestEvents: [],
    anyBranchPush: false,
    needsCallers: false,
  };
  const defaultBranch: RefPattern = { type: "branch", pattern: repo.defaultBranch };
  for (const event of triggers.events) {
    if (PULL_REQUEST_EVENTS.has(event)) {
      out.pullRequestEvents.push(event);
      continue;
    }
    if (event === "workflow_call") continue;
    if (event === "push" && triggers.push) {
      const { branches, tags } = triggers.push;
      const anyBranch =
        branches === "any" ||
        (branches !== "none" &&
          branches.some((filter) => /^[*?]+$/.test(filterToPattern(filter)?.pattern ?? "")));
      // Every branch's push presents its own ref: pinning the default branch would fail the others.
      if (anyBranch) out.anyBranchPush = true;
      else if (Array.isArray(branches)) {
        for (const filter of branches) {
          const translated = filterToPattern(filter);
          if (!translated) continue;
          if (translated.approximate)
            out.notes.push(`${where}: branch filter "${filter}" approximated as "${translated.pattern}"`);
          addRef(out.refs, { type: "branch", pattern: translated.pattern });
        }
      }
      if (tags === "any") addRef(out.refs, { type: "tag", pattern: "*" });
      else if (tags !== "none") {
        for (const filter of tags) {
          const translated = filterToPattern(filter);
          if (!translated) continue;
          if (translated.approximate)
            out.notes.push(`${where}: tag filter "${filter}" approximated as "${translated.pattern}"`);
          addRef(out.refs, { type: "tag", pattern: translated.pattern });
        }
      }
      out.events.push(event);
    } else if (event === "release") {
      addRef(out.refs, { type: "tag", pattern: "*" });
      out.events.push(event);
    } else if (DEFAULT_BRANCH_EVENTS.has(event)) {
      addRef(out.refs, defaultBranch);
      out.events.push(event);
      if (event === "workflow_dispatch") {
        out.notes.push(
          `${where} can be dispatched on any branch: its role trusts only ${repo.defaultBranch}`,
        );
      }
    } else {
      out.notes.push(`${where} also runs on "${event}": those runs get no role (their ref cannot be pinned)`);
    }
  }
  return out;
}

/** Narrows refs and events by a job's `if:` when it is a plain conjunction (no `||`). */
function applyIf(runsOn: RunsOn, condition: string | undefined): RunsOn {
  if (!condition || condition.includes("||")) return runsOn;
  let { refs, events, pullRequestEvents, anyBranchPush } = runsOn;
  const branch = /github\.ref\s*==\s*'refs\/heads\/([^']+)'/.exec(condition);
  if (branch?.[1]) refs = [{ type: "branch", pattern: branch[1] }];
  const tag = /github\.ref\s*==\s*'refs\/tags\/([^']+)'/.exec(condition);
  if (tag?.[1]) refs = [{ type: "tag", pattern: tag[1] }];
  if (
    /startsWith\(\s*github\.ref\s*,\s*'refs\/tags\/'\s*\)/.test(condition) &&
    !/!\s*startsWith/.test(condition)
  ) {
    refs = refs.filter((ref) => ref.type === "tag");
    anyBranchPush = false;
  }
  if (branch?.[1] || tag?.[1]) anyBranchPush = false;
  const event = /github\.event_name\s*==\s*'([^']+)'/.exec(condition);
  if (event?.[1]) {
    events = events.filter((e) => e === event[1]);
    pullRequestEvents = pullRequestEvents.filter((e) => e === event[1]);
    if (event[1] !== "push") anyBranchPush = false;
  }
  const notEvent = /github\.event_name\s*!=\s*'([^']+)'/.exec(condition);
  if (notEvent?.[1]) {
    events = events.filter((e) => e !== notEvent[1]);
    pullRequestEvents = pullRequestEvents.filter((e) => e !== notEvent[1]);
    if (notEvent[1] === "push") anyBranchPush = false;
  }
  if (ifExcludesPullRequests(condition)) pullRequestEvents = [];
  if (events.length === 0) refs = [];
  return { ...runsOn, refs, events, pullRequestEvents, anyBranchPush };
}

/** An `if:` that pins the ref to a branch or tag, or the event to something else, never runs for a PR. */
function ifExcludesPullRequests(condition: string | undefined): boolean {
  if (!condition || condition.includes("||")) return false;
  if (/github\.ref\s*==\s*'refs\/(heads|tags)\//.test(condition)) return true;
  if (/github\.event_name\s*!=\s*'pull_request'/.test(condition)) return true;
  const event = /github\.event_name\s*==\s*'([^']+)'/.exec(condition);
  return event?.[1] !== undefined && !PULL_REQUEST_EVENTS.has(event[1]);
}

/** Callers of a reusable workflow in this repository: `jobs.<id>.uses: ./.github/workflows/<file>`. */
export function callersOf(
  workflow: ScannedWorkflow,
  all: ScannedWorkflow[],
): Array<{ workflow: ScannedWorkflow; job: ScannedJob }> {
  const callers: Array<{ workflow: ScannedWorkflow; job: ScannedJob }> = [];
  for (const other of all) {
    for (const job of other.jobs)
      if (job.reusable?.localPath === workflow.path) callers.push({ workflow: other, job });
  }
  return callers;
}

/** When and on which refs a job runs (callers' triggers for a called workflow), `if:` applied. */
export function jobRunsOn(
  job: ScannedJob,
  workflow: ScannedWorkflow,
  all: ScannedWorkflow[],
  repo: PlanRepository,
  depth = 0,
): RunsOn {
  const where = `${workflow.path} job ${job.id}`;
  const own = refsFromTriggers(workflow.triggers, repo, where);
  if (workflow.triggers.events.includes("workflow_call") && depth < 4) {
    // The token of a called workflow carries its caller's sub.
    for (const caller of callersOf(workflow, all)) {
      const from = jobRunsOn(caller.job, caller.workflow, all, repo, depth + 1);
      for (const ref of from.refs) addRef(own.refs, ref);
      for (const event of from.events) if (!own.events.includes(event)) own.events.push(event);
      for (const event of from.pullRequestEvents)
        if (!own.pullRequestEvents.includes(event)) own.pullRequestEvents.push(event);
      own.anyBranchPush ||= from.anyBranchPush;
      own.needsCallers ||= from.needsCallers;
      own.notes.push(...from.notes);
    }
    if (callersOf(workflow, all).length === 0) own.needsCallers = true;
  }
  return applyIf(own, job.ifCondition);
}

function quotedLiterals(expression: string): string[] {
  return [...expression.matchAll(/'((?:[^']|'')*)'/g)].map((m) => (m[1] ?? "").replace(/''/g, "'"));
}

/** Environment names an expression can take: matrix values, input options, callers' inputs, literals. */
function environmentCandidates(
  expression: string,
  job: ScannedJob,
  workflow: ScannedWorkflow,
  all: ScannedWorkflow[],
  repo: PlanRepository,
): { names: string[]; guessed: boolean } {
  const names = new Set<string>();
  for (const match of expression.matchAll(/\bmatrix\.([\w-]+)/g)) {
    for (const value of job.matrix[match[1] ?? ""] ?? []) names.add(value);
  }
  for (const match of expression.matchAll(/\b(?:github\.event\.)?inputs\.([\w-]+)/g)) {
    const input = match[1] ?? "";
    for (const spec of [workflow.triggers.dispatchInputs[input], workflow.triggers.callInputs[input]]) {
      if (!spec) continue;
      for (const option of spec.options) names.add(option);
      if (spec.type === "environment") for (const env of repo.environments) names.add(env);
    }
    for (const caller of callersOf(workflow, all)) {
      const value = caller.job.reusable?.with[input];
      if (value !== undefined && !value.includes("${{")) names.add(value);
    }
  }
  for (const literal of quotedLiterals(expression)) {
    if (literal && !literal.startsWith("refs/") && !/[\s/]/.test(literal)) names.add(literal);
  }
  if (names.size > 0) return { names: [...names], guessed: false };
  return { names: [...repo.environments], guessed: true };
}

interface EnvironmentTemplate {
  /** Literal text around the expressions: one more than there are expressions. */
  literals: string[];
  expressions: string[];
  /** A GitHub expression that evaluates to the environment name (for choosing the role). */
  selector: string;
}

/** `a-${{ x }}-b` -> literals ["a-", "-b"], expressions ["x"], selector `format('a-{0}-b', x)`. */
export function parseTemplate(value: string): EnvironmentTemplate {
  const literals: string[] = [];
  const expressions: string[] = [];
  let rest = value.trim();
  for (let match = /\$\{\{([\s\S]*?)\}\}/.exec(rest); match; match = /\$\{\{([\s\S]*?)\}\}/.exec(rest)) {
    literals.push(rest.slice(0, match.index));
    expressions.push((match[1] ?? "").trim());
    rest = rest.slice(match.index + match[0].length);
  }
  literals.push(rest);
  const [only] = expressions;
  if (expressions.length === 1 && only !== undefined && literals.every((literal) => literal === "")) {
    return { literals, expressions, selector: only };
  }
  const quote = (text: string) => text.replace(/'/g, "''").replace(/\{/g, "{{").replace(/\}/g, "}}");
  const format = literals
    .map((literal, i) => `${quote(literal)}${i < expressions.length ? `{${i}}` : ""}`)
    .join("");
  return { literals, expressions, selector: `format('${format}', ${expressions.join(", ")})` };
}

function cartesianNames(literals: string[], parts: string[][]): string[] {
  let names = [literals[0] ?? ""];
  parts.forEach((options, i) => {
    names = names.flatMap((prefix) => options.map((option) => `${prefix}${option}${literals[i + 1] ?? ""}`));
  });
  return names.slice(0, MAX_SUB_VALUES);
}

export function jobContexts(
  job: ScannedJob,
  workflow: ScannedWorkflow,
  all: ScannedWorkflow[],
  repo: PlanRepository,
): JobContexts {
  const where = `${workflow.path} job ${job.id}`;
  const runsOn = jobRunsOn(job, workflow, all, repo);
  const notes = [...runsOn.notes];
  const kept = (why: string): JobContexts => ({
    contexts: [],
    events: runsOn.events,
    notes,
    keepKeys: `**KEYS KEPT**: ${where} ${why}`,
  });
  if (runsOn.needsCallers) {
    // Its token carries the caller's sub (and repository), which only the callers can tell.
    return kept(
      "is a reusable workflow with no caller in this repository: it needs its callers to be migrated first (their triggers decide its sub), so its configure step, role and declared secrets are left as they are",
    );
  }
  if (job.environment?.literal !== undefined) {
    if (runsOn.pullRequestEvents.length > 0) {
      notes.push(
        `${where} also runs on pull requests with environment "${job.environment.literal}": restrict the environment's deployment branches`,
      );
    }
    return {
      contexts: [{ kind: "environment", name: job.environment.literal }],
      events: runsOn.events,
      notes,
    };
  }
  if (job.environment?.expression !== undefined) {
    const template = parseTemplate(job.environment.expression);
    let guessed = false;
    const perPart = template.expressions.map((expression) => {
      const found = environmentCandidates(expression, job, workflow, all, repo);
      guessed ||= found.guessed;
      return found.names;
    });
    // `prod-${{ matrix.region }}` is a template: its names are the literal text around each value.
    // When a part cannot be resolved, the repository's environments that fit the template stand in.
    const fits = new RegExp(
      `^${template.literals.map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`,
    );
    const names = guessed
      ? repo.environments.filter((name) => fits.test(name))
      : cartesianNames(template.literals, perPart);
    const inner = template.selector;
    if (guessed) {
      notes.push(
        `${where}: environment "${job.environment.expression}" could not be resolved; trusting the repository's environments (${names.join(", ") || "none"}): review`,
      );
    }
    return {
      contexts: names.map((name) => ({ kind: "environment" as const, name })),
      environmentExpression: inner,
      events: runsOn.events,
      notes,
    };
  }
  if (runsOn.anyBranchPush) {
    return kept(
      `runs on a push to any branch (no \`branches:\` filter, or \`branches-ignore\`): a role would have to trust every branch (\`repo:${repo.owner}/${repo.name}:ref:refs/heads/*\`), which this plan never writes, and pinning ${repo.defaultBranch} would fail every other branch's run. Its keys are kept: give the job a \`branches:\` filter, an \`if: github.ref == ...\` or an environment, then re-run the plan`,
    );
  }
  if (runsOn.pullRequestEvents.includes("pull_request_target")) {
    return kept(
      "runs on pull_request_target, which runs for a fork's pull request with this repository's token: no role is planned for it and its keys are kept. Move its AWS steps to a job that does not run on pull_request_target",
    );
  }
  const pullRequests = runsOn.pullRequestEvents.length > 0;
  if (runsOn.refs.length === 0 && !pullRequests) {
    return kept("has no trigger whose ref can be pinned: no role is planned and its keys are kept");
  }
  if (pullRequests) {
    notes.push(
      `${where} runs on pull requests: its role trusts \`${pullRequestSub(repo)}\`, which every pull request from a branch of this repository presents; pull requests from forks get no OIDC token, so once the keys are gone this job fails on them (it never got the secrets on forks either, unless the keys were written into the file)`,
    );
  }
  return {
    contexts: [{ kind: "refs", refs: runsOn.refs, ...(pullRequests ? { pullRequests: true } : {}) }],
    events: runsOn.events,
    notes,
  };
}

type RepoFormat = "default" | "id";

/** Which repository segment(s) the tokens carry (facts.md: the new format after 2026-07-15). */
export function repositoryFormats(repo: PlanRepository): { formats: RepoFormat[]; notes: string[] } {
  const haveIds = repo.ownerId !== undefined && repo.repoId !== undefined;
  const notes: string[] = [];
  const wantId = (why: string): { formats: RepoFormat[]; notes: string[] } => {
    if (haveIds) return { formats: ["id"], notes };
    notes.push(
      `${why}, so it presents OWNER@ID/REPO@ID, but the ids are unknown: run the plan online to fill them in`,
    );
    return { formats: ["default"], notes };
  };
  if (repo.renamedOrTransferred) return wantId("the repository was renamed or transferred");
  if (repo.createdAt) {
    const day = repo.createdAt.slice(0, 10);
    if (day > ID_FORMAT_AFTER_DAY) return wantId(`the repository was created on ${day}`);
    // Created on the day itself: the hour of the switch is not known, trust both forms.
    if (day === ID_FORMAT_AFTER_DAY && haveIds) return { formats: ["default", "id"], notes };
    return { formats: ["default"], notes };
  }
  if (haveIds) {
    notes.push(
      "the repository's creation date is unknown: both sub formats (OWNER/REPO and OWNER@ID/REPO@ID) are trusted",
    );
    return { formats: ["default", "id"], notes };
  }
  notes.push(
    "the repository's creation date and ids are unknown (offline plan): if it was created after 2026-07-15 or renamed, re-run online",
  );
  return { formats: ["default"], notes };
}

function repoSegment(repo: PlanRepository, format: RepoFormat): string {
  return format === "id"
    ? `${repo.owner}@${repo.ownerId}/${repo.name}@${repo.repoId}`
    : `${repo.owner}/${repo.name}`;
}

/** The default template's context part for one deployment context (facts.md). */
function contextSegments(context: DeploymentContext): string[] {
  if (context.kind === "environment") return [`environment:${context.name}`];
  const refs = context.refs.map((ref) => `ref:${refKey(ref)}`);
  return context.pullRequests ? [...refs, "pull_request"] : refs;
}

const IDENTIFYING_KEYS = new Set(["repo", "repository", "repository_id", "job_workflow_ref", "workflow_ref"]);

export interface SubOptions {
  /** The workflow file whose job presents the token (for job_workflow_ref / workflow_ref). */
  workflowPath?: string;
  workflowName?: string;
  events?: string[];
}

export interface SubResult {
  values: SubValue[];
  notes: string[];
  /** Set when no safe trust can be written: the sub would not name the repository. */
  refused?: string;
}

function withMatch(value: string): SubValue {
  return { value, match: /[*?]/.test(value) ? "StringLike" : "StringEquals" };
}

/** One claim template segment's possible values for a context and a single ref/environment. */
function customSegment(
  key: string,
  repo: PlanRepository,
  format: RepoFormat,
  context: DeploymentContext,
  ctxSegment: string,
  options: SubOptions,
  notes: string[],
): string[] {
  const ref = ctxSegment.startsWith("ref:") ? ctxSegment.slice(4) : undefined;
  switch (key) {
    case "repo":
      return [`repo:${repoSegment(repo, format)}`];
    case "context":
      return [ctxSegment];
    case "repository":
      return [`repository:${repo.owner}/${repo.name}`];
    case "repository_id":
      return [`repository_id:${repo.repoId ?? "*"}`];
    case "repository_owner":
      return [`repository_owner:${repo.owner}`];
    case "repository_owner_id":
      return [`repository_owner_id:${repo.ownerId ?? "*"}`];
    case "repository_visibility":
      return [`repository_visibility:${repo.visibility ?? "*"}`];
    case "environment":
      if (context.kind !== "environment")
        notes.push("the template includes `environment` for a job without one: check it with the smoke test");
      return [`environment:${context.kind === "environment" ? context.name : "*"}`];
    case "ref":
      return [`ref:${ref ?? "*"}`];
    case "ref_type":
      return [`ref_type:${ref === undefined ? "*" : ref.startsWith("refs/tags/") ? "tag" : "branch"}`];
    case "event_name": {
      if (ctxSegment === "pull_request") return ["event_name:pull_request"];
      const events = (options.events ?? []).filter((event) => !PULL_REQUEST_EVENTS.has(event));
      return events.length > 0 ? events.map((event) => `event_name:${event}`) : ["event_name:*"];
    }
    case "job_workflow_ref":
    case "workflow_ref":
      return [
        `${key}:${repo.owner}/${repo.name}/${options.workflowPath ?? ".github/workflows/*"}@${ref ?? "*"}`,
      ];
    case "workflow":
      return [`workflow:${options.workflowName ?? "*"}`];
    default:
      notes.push(`claim "${key}" in the sub template cannot be predicted from the workflow: matched with *`);
      return [`${key}:*`];
  }
}

function cartesian(parts: string[][]): string[] {
  let out = [""];
  for (const options of parts) {
    const next: string[] = [];
    for (const prefix of out)
      for (const option of options) next.push(prefix ? `${prefix}:${option}` : option);
    out = next;
    if (out.length > MAX_SUB_VALUES) return out.slice(0, MAX_SUB_VALUES);
  }
  return out;
}

/** The sub values a job in this context presents, in the format the repository actually uses. */
export function subValuesFor(
  repo: PlanRepository,
  context: DeploymentContext,
  options: SubOptions = {},
): SubResult {
  const { formats, notes } = repositoryFormats(repo);
  const claim = repo.subClaim;
  const keys = claim && !claim.useDefault ? claim.includeClaimKeys : undefined;
  if (claim && !claim.useDefault && (!keys || keys.length === 0)) {
    notes.push(
      "the repository opts out of the default sub template without keys: the organisation's template applies and is not visible here; the default format is assumed: verify with the smoke test",
    );
  }
  const values: SubValue[] = [];
  if (keys && keys.length > 0) {
    if (!keys.some((key) => IDENTIFYING_KEYS.has(key))) {
      return {
        values: [],
        notes,
        refused: `the customised sub claim (${keys.join(", ")}) does not name the repository: a trust policy on it would trust other repositories too`,
      };
    }
    for (const format of formats) {
      for (const segment of contextSegments(context)) {
        const parts = keys.map((key) => customSegment(key, repo, format, context, segment, options, notes));
        for (const value of cartesian(parts)) values.push(withMatch(value));
      }
    }
  } else {
    for (const format of formats) {
      for (const segment of contextSegments(context))
        values.push(withMatch(`repo:${repoSegment(repo, format)}:${segment}`));
    }
  }
  const unique = new Map(values.map((value) => [value.value, value]));
  return { values: [...unique.values()], notes: [...new Set(notes)] };
}

/** What a pull request run presents: used by tests and the summary to show it is never trusted. */
export function pullRequestSub(repo: PlanRepository): string {
  const [format = "default"] = repositoryFormats(repo).formats;
  return `repo:${repoSegment(repo, format)}:pull_request`;
}
