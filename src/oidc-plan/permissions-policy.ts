/**
 * A role's permissions policy, derived from what the key actually did (facts.md: the least-privilege
 * anchor is the trail) and checked against IAM's action catalogue: unknown actions are dropped and
 * reported, never `*` or `service:*` (design.md: Never). Resources come from the events; where the
 * events name none, the statement says so in its Sid. With no evidence at all the policy is a
 * clearly marked starting point built from the workflow's own commands.
 */
import type { ActionCatalogue, CatalogueAction } from "./action-catalogue.js";
import { noPermissionNeeded, type ObservedCall } from "./observed-calls.js";
import { inPartition, type Partition } from "./partitions.js";
import type { PolicyDocument, PolicyStatement } from "./trust-policy.js";
import { type InferredCall, isDataEvent } from "./workflow-commands.js";

/** Inline policies on one role share this many characters (IAM quota). */
export const INLINE_POLICY_LIMIT = 10_240;

const CONTEXT_WORDS: string[][] = [
  ["production", "prod", "prd", "live"],
  ["staging", "stage", "stg"],
  ["development", "dev", "develop"],
  ["test", "testing", "qa"],
  ["preview", "review"],
  ["sandbox"],
];

/** Words that mark a resource as belonging to a deployment context (`acme-site-staging` -> staging). */
export function contextWords(name: string): string[] {
  const lower = name.toLowerCase();
  const tokens = lower.split(/[^a-z0-9]+/).filter(Boolean);
  const words = new Set<string>();
  for (const group of CONTEXT_WORDS)
    if (group.some((word) => word === lower || tokens.includes(word))) for (const w of group) words.add(w);
  return [...words];
}

function belongsTo(arn: string, words: readonly string[]): boolean {
  const tokens = arn.toLowerCase().split(/[^a-z0-9]+/);
  return words.some((word) => tokens.includes(word));
}

/**
 * The evidence one role gets: resources named after another role's context (a staging bucket for
 * the production role, and the reverse) are left out, resources named after no context are shared.
 * A call left with none of its resources is not granted to this role: that is how a staging role
 * ends up weaker than production.
 */
export function scopeCalls(
  calls: readonly ObservedCall[],
  ownWords: readonly string[],
  otherWords: readonly string[],
): { calls: ObservedCall[]; withheld: string[] } {
  const others = otherWords.filter((word) => !ownWords.includes(word));
  const scoped: ObservedCall[] = [];
  const withheld: string[] = [];
  for (const call of calls) {
    if (call.resources.length === 0) {
      scoped.push(call);
      continue;
    }
    const resources = call.resources.filter((arn) => belongsTo(arn, ownWords) || !belongsTo(arn, others));
    if (resources.length === 0) withheld.push(`${call.service}:${call.action}`);
    else scoped.push({ ...call, resources });
  }
  return { calls: scoped, withheld };
}

type Origin = "observed" | "inferred";

interface Entry {
  action: CatalogueAction;
  resources: string[];
  origin: Origin;
  /** The events or commands named no resource for an action that takes one. */
  unscoped: boolean;
  /** iam:PassRole: the services the role may be passed to. */
  passedTo: Set<string>;
}

const PASS_ROLE = "iam:PassRole";
/**
 * Who receives a role passed by a deploy of each service. iam:PassRole is never granted without an
 * `iam:PassedToService` condition: unconditioned, it lets the role hand any role to any service.
 */
const RECEIVING_SERVICE: Record<string, string> = {
  ecs: "ecs-tasks.amazonaws.com",
  lambda: "lambda.amazonaws.com",
  cloudformation: "cloudformation.amazonaws.com",
  ec2: "ec2.amazonaws.com",
  states: "states.amazonaws.com",
  codebuild: "codebuild.amazonaws.com",
  batch: "batch.amazonaws.com",
  glue: "glue.amazonaws.com",
  sagemaker: "sagemaker.amazonaws.com",
  elasticbeanstalk: "elasticbeanstalk.amazonaws.com",
  events: "events.amazonaws.com",
  scheduler: "scheduler.amazonaws.com",
};

/**
 * IAM writes that could hand the role more than it has: a role that may create a role, give it a
 * policy and pass it to Lambda makes itself admin. Granted only on identities that carry the
 * permissions boundary below (each of these actions takes the `iam:PermissionsBoundary` condition
 * key, IAM's service authorization reference).
 */
const IDENTITY_WRITERS = new Set([
  "iam:AttachRolePolicy",
  "iam:AttachUserPolicy",
  "iam:CreateRole",
  "iam:CreateUser",
  "iam:DeleteRolePolicy",
  "iam:DeleteUserPolicy",
  "iam:DetachRolePolicy",
  "iam:DetachUserPolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
  "iam:PutUserPermissionsBoundary",
  "iam:PutUserPolicy",
  "iam:UpdateAssumeRolePolicy",
]);
/** Lifting the boundary undoes it: never granted. */
const BOUNDARY_LIFTERS = new Set(["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"]);
const DEPLOY_BOUNDARY_POLICY = "github-actions-deploy-boundary";

function boundaryCondition(resources: string[]): Record<string, Record<string, string>> {
  const { arn, exact } = boundaryArn(resources);
  // An account the plan does not know is a wildcard: StringEquals would never match it.
  return { [exact ? "StringEquals" : "StringLike"]: { "iam:PermissionsBoundary": arn } };
}

/**
 * The boundary policy's ARN in the account the identity writers' resources name (written in the
 * standard partition, like every ARN here: the policy is placed in the role's partition at the end).
 */
function boundaryArn(resources: string[]): { arn: string; exact: boolean } {
  const account =
    resources.map((arn) => /^arn:aws[a-z-]*:iam::(\d{12}|\*):/.exec(arn)?.[1]).find((found) => found) ?? "*";
  return {
    arn: `arn:aws:iam::${account}:policy/${DEPLOY_BOUNDARY_POLICY}`,
    exact: account !== "*",
  };
}

export interface PermissionsResult {
  policy: PolicyDocument;
  /** No CloudTrail evidence: a starting point to review, not a derived policy. */
  startingPoint: boolean;
  /** Canonical `service:Action` names granted. */
  actions: string[];
  /** Of those, the ones CloudTrail showed (the rest come from the workflow's commands). */
  seenInCloudTrail: string[];
  dropped: Array<{ action: string; reason: string }>;
  /** Actions granted on every resource because nothing named one: narrow them. */
  unscoped: string[];
  notes: string[];
}

/** S3 takes bucket ARNs for bucket actions and `bucket/*` for object actions: fit what the events named. */
function fitResources(action: CatalogueAction, resources: string[]): string[] {
  if (!action.name.startsWith("s3:")) return resources;
  const object = action.resourceTypes.includes("object") && !action.resourceTypes.includes("bucket");
  const bucket = action.resourceTypes.includes("bucket") && !action.resourceTypes.includes("object");
  return [
    ...new Set(
      resources.map((arn) => {
        const [base = arn] = arn.split("/");
        if (object && !arn.includes("/")) return `${arn}/*`;
        if (bucket && arn.includes("/")) return base;
        return arn;
      }),
    ),
  ];
}

function sidPart(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}

export function permissionsPolicy(input: {
  observed: readonly ObservedCall[];
  inferred: readonly InferredCall[];
  catalogue: ActionCatalogue;
  /** True when a CloudTrail snapshot was given (even if this role's share of it is small). */
  evidence: boolean;
  /** The partition every ARN of the policy (and of its notes) is written in. */
  partition?: Partition;
}): PermissionsResult {
  const { catalogue } = input;
  const entries = new Map<string, Entry>();
  const dropped: Array<{ action: string; reason: string }> = [];
  const startingPoints = new Set<string>();
  const add = (
    service: string,
    name: string,
    resources: string[],
    origin: Origin,
    call: Pick<InferredCall, "passedToServices" | "startingPoint"> = {},
  ) => {
    if (noPermissionNeeded(`${service}:${name}`)) return;
    const action = catalogue.lookup(service, name);
    if (!action) {
      dropped.push({ action: `${service}:${name}`, reason: "not an action in IAM's catalogue" });
      return;
    }
    if (BOUNDARY_LIFTERS.has(action.name)) {
      dropped.push({
        action: action.name,
        reason: `it would lift the permissions boundary (${DEPLOY_BOUNDARY_POLICY}) that keeps the role from making itself admin`,
      });
      return;
    }
    const existing = entries.get(action.name);
    if (existing && existing.origin === "observed" && origin === "inferred") return;
    const fitted = action.wildcardOnly ? [] : fitResources(action, resources);
    const entry: Entry =
      existing && existing.origin === origin
        ? existing
        : { action, resources: [], origin, unscoped: false, passedTo: new Set() };
    for (const arn of fitted) if (!entry.resources.includes(arn)) entry.resources.push(arn);
    for (const receiver of call.passedToServices ?? []) entry.passedTo.add(receiver);
    if (call.startingPoint) startingPoints.add(call.startingPoint);
    entries.set(action.name, entry);
  };
  for (const call of input.observed) add(call.service, call.action, call.resources, "observed");
  for (const call of input.inferred) {
    // With evidence, commands only fill what LookupEvents cannot show (data events).
    if (!input.evidence || isDataEvent(call.service, call.action))
      add(call.service, call.action, call.resources, "inferred", call);
  }
  const passRole = entries.get(PASS_ROLE);
  if (passRole && passRole.passedTo.size === 0) {
    for (const other of entries.keys()) {
      const receiver = RECEIVING_SERVICE[other.split(":")[0] ?? ""];
      if (receiver) passRole.passedTo.add(receiver);
    }
    if (passRole.passedTo.size === 0) {
      entries.delete(PASS_ROLE);
      dropped.push({
        action: PASS_ROLE,
        reason:
          "no service it passes the role to is known: add it by hand with an iam:PassedToService condition",
      });
    }
  }

  const groups = new Map<
    string,
    {
      origin: Origin;
      service: string;
      resources: string[];
      actions: string[];
      unscoped: boolean;
      passedTo: string[];
    }
  >();
  const unscoped: string[] = [];
  for (const entry of entries.values()) {
    entry.unscoped = !entry.action.wildcardOnly && entry.resources.length === 0;
    if (entry.unscoped) unscoped.push(entry.action.name);
    const resources = entry.resources.length > 0 ? [...entry.resources].sort() : ["*"];
    const [service = ""] = entry.action.name.split(":");
    const passedTo = [...entry.passedTo].sort();
    // PassRole and the identity writers stand apart: their conditions must not narrow the actions beside them.
    const apart =
      entry.action.name === PASS_ROLE ? PASS_ROLE : IDENTITY_WRITERS.has(entry.action.name) ? "boundary" : "";
    const groupKey = `${entry.origin}|${service}|${entry.unscoped}|${resources.join(",")}|${apart}`;
    const group = groups.get(groupKey) ?? {
      origin: entry.origin,
      service,
      resources,
      actions: [],
      unscoped: entry.unscoped,
      passedTo,
    };
    group.actions.push(entry.action.name);
    groups.set(groupKey, group);
  }
  const statements: PolicyStatement[] = [];
  const sids = new Map<string, number>();
  // Evidence first, then what the commands add; within each, by service.
  const rank = (origin: Origin) => (origin === "observed" ? "0" : "1");
  const sorted = [...groups.values()].sort((a, b) =>
    `${rank(a.origin)}${a.service}${a.resources.join()}`.localeCompare(
      `${rank(b.origin)}${b.service}${b.resources.join()}`,
    ),
  );
  for (const group of sorted) {
    const base = `${sidPart(group.service)}${group.origin === "observed" ? "SeenInCloudTrail" : input.evidence ? "DataCallsFromWorkflowReview" : "FromWorkflowStartingPointReview"}${group.unscoped ? "AnyResourceReview" : ""}`;
    const n = (sids.get(base) ?? 0) + 1;
    sids.set(base, n);
    statements.push({
      Sid: n === 1 ? base : `${base}${n}`,
      Effect: "Allow",
      Action: [...group.actions].sort(),
      Resource: group.resources.length === 1 && group.resources[0] === "*" ? "*" : group.resources,
      ...(group.actions.some((action) => IDENTITY_WRITERS.has(action))
        ? { Condition: boundaryCondition(group.resources) }
        : {}),
      ...(group.actions.includes(PASS_ROLE)
        ? {
            Condition: {
              StringEquals: {
                "iam:PassedToService":
                  group.passedTo.length === 1 ? (group.passedTo[0] ?? "") : group.passedTo,
              },
            },
          }
        : {}),
    });
  }
  const notes: string[] = [];
  const placed = inPartition({ Version: "2012-10-17", Statement: statements }, input.partition ?? "aws");
  // The boundary as the policy requires it, in the role's partition.
  const arn = placed.Statement.flatMap((statement) =>
    Object.values(statement.Condition ?? {}).flatMap((test) => {
      const value = (test as Record<string, unknown>)["iam:PermissionsBoundary"];
      return typeof value === "string" ? [value] : [];
    }),
  )[0];
  if (arn) {
    notes.push(
      `permissions boundary: the role may create and change IAM roles and users only when they carry ${arn} (without it a deploy could create an admin role and hand it to Lambda). Create that managed policy with the most the stack's own roles may ever do, and set it on them (SAM: PermissionsBoundary on each function or in Globals; serverless: provider.iam.role.permissionsBoundary; CDK: cdk bootstrap --custom-permissions-boundary)`,
    );
  }
  for (const command of [...startingPoints].sort()) {
    notes.push(
      command.startsWith("cdk")
        ? `${command}: the role only assumes CDK's bootstrap roles (cdk-*), which hold the deploy permissions: a starting point; tighten those roles with IAM Access Analyzer policy generation once they have run`
        : `${command}: its statements are the usual starting point for such deploys (CloudFormation, the artifact bucket, Lambda, IAM roles for the stack, logs, API Gateway), not evidence: tighten them with IAM Access Analyzer policy generation once the role has run`,
    );
  }
  if (placed.Statement.length === 0) {
    // IAM rejects an empty policy; this grants nothing beyond what any identity can do.
    placed.Statement.push({
      Sid: "StartingPointNoEvidenceReviewBeforeUse",
      Effect: "Allow",
      Action: ["sts:GetCallerIdentity"],
      Resource: "*",
    });
    notes.push(
      "neither CloudTrail nor the workflow's commands name an AWS call: add what the jobs need before switching",
    );
  }
  const policy = placed;
  if (JSON.stringify(policy).length > INLINE_POLICY_LIMIT) {
    notes.push(
      `the policy is over IAM's ${INLINE_POLICY_LIMIT}-character inline limit: split it into managed policies by service`,
    );
  }
  return {
    policy,
    startingPoint: !input.evidence,
    actions: [...entries.keys()].sort(),
    seenInCloudTrail: [...entries.values()]
      .filter((entry) => entry.origin === "observed")
      .map((entry) => entry.action.name)
      .sort(),
    dropped,
    unscoped: unscoped.sort(),
    notes,
  };
}
