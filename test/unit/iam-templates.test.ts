/**
 * What the declared templates (serverless.yml, infra/member-role.yml) promise about the responder's
 * power and timing, read straight from the YAML (cfn-lint is not available here). CloudFormation
 * tags (!GetAtt, !Sub) are kept as their plain values.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FOLLOW_THROUGH_GROUP, FOLLOW_THROUGH_TASK } from "../../src/domain/stage-task.js";
import { PLANNED_ROLE_PREFIX } from "../../src/oidc-plan/plan.js";
import { OIDC_PROVIDER_HOST } from "../../src/oidc-plan/trust-policy.js";
import { AWS_ACTIONS, CONTAINMENT_GRANTEES } from "../../src/permissions.js";

const root = join(import.meta.dirname, "..", "..");

function loadTemplate(file: string): Record<string, unknown> {
  return parse(readFileSync(join(root, file), "utf8"), { logLevel: "silent" }) as Record<string, unknown>;
}

interface SqsEvent {
  arn?: string;
  batchSize?: number;
  maximumBatchingWindow?: number;
  functionResponseType?: string;
}

function sqsEventsOf(fn: string): SqsEvent[] {
  const service = loadTemplate("serverless.yml") as {
    functions: Record<string, { events?: Array<{ sqs?: SqsEvent }> }>;
  };
  return (service.functions[fn]?.events ?? []).flatMap((event) => (event.sqs ? [event.sqs] : []));
}

describe("serverless.yml: the three stages and their queues", () => {
  const service = loadTemplate("serverless.yml") as {
    resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  };
  const resources = service.resources.Resources;

  it("hands contain one alert per invocation, so one slow run never delays another key's containment", () => {
    expect(sqsEventsOf("contain")).toEqual([
      expect.objectContaining({
        arn: "AlertQueue.Arn",
        batchSize: 1,
        functionResponseType: "ReportBatchItemFailures",
      }),
    ]);
  });

  it("feeds investigate and notify up to ten messages from their FIFO queues, with no batching window (Lambda refuses one on FIFO)", () => {
    expect(sqsEventsOf("investigate")).toEqual([
      expect.objectContaining({ arn: "InvestigationQueue.Arn", batchSize: 10 }),
    ]);
    expect(sqsEventsOf("notify")).toEqual([
      expect.objectContaining({ arn: "NotificationQueue.Arn", batchSize: 10 }),
    ]);
    for (const fn of ["investigate", "notify"]) {
      for (const event of sqsEventsOf(fn)) {
        expect(event.maximumBatchingWindow, fn).toBeUndefined();
        expect(event.functionResponseType, fn).toBe("ReportBatchItemFailures");
      }
    }
  });

  it("makes the investigation and notification queues FIFO, and their dead-letter queues FIFO too (SQS refuses a standard DLQ for a FIFO queue)", () => {
    for (const queue of ["InvestigationQueue", "NotificationQueue"]) {
      const props = resources[queue]?.Properties ?? {};
      expect(props.FifoQueue, queue).toBe(true);
      const redrive = props.RedrivePolicy as { deadLetterTargetArn: string; maxReceiveCount: unknown };
      const dlq = redrive.deadLetterTargetArn.replace(/\.Arn$/, "");
      expect(dlq, queue).not.toBe("AlertDeadLetterQueue");
      expect(resources[dlq]?.Properties.FifoQueue, dlq).toBe(true);
      expect(String(redrive.maxReceiveCount)).toBe(`\${self:custom.stageMaxReceiveCount}`);
    }
  });
});
interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** The roles an organisation's platform owns: writing a policy on one could break account access or landing-zone automation. */
const PLATFORM_ROLE_PATTERNS = [
  "role/OrganizationAccountAccessRole",
  "role/AWSControlTower*",
  "role/stacksets-exec-*",
  "role/AWSCloudFormationStackSetExecutionRole",
  "role/aws-reserved/*",
];

/**
 * The responder's own roles (contain, investigate, notify, intake, deploy: all named leak-responder-*). When the StackSet
 * also deploys the member role in the home account, a policy written on one of these would hand the
 * member role's holder the responder's own power, or the deploy role's.
 */
const RESPONDER_ROLE_PATTERN = "role/leak-responder-*";

type RoleResources = Record<
  string,
  {
    Type: string;
    Properties: {
      RoleName?: string;
      AssumeRolePolicyDocument?: { Statement: unknown[] };
      Policies?: Array<{ PolicyDocument: { Statement: Array<PolicyStatement | unknown[]> } }>;
    };
  }
>;

/** A role's statements; a conditional one (`!If [condition, statement, NoValue]`) counts as its statement. */
function roleStatements(resources: RoleResources, role: string): PolicyStatement[] {
  return (resources[role]?.Properties.Policies ?? [])
    .flatMap((p) => p.PolicyDocument.Statement)
    .flatMap((s) =>
      Array.isArray(s)
        ? s.filter((x): x is PolicyStatement => typeof x === "object" && x !== null && "Effect" in x)
        : [s],
    );
}

function allowedActions(statements: PolicyStatement[]): string[] {
  return statements.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action));
}

/** The resources a role may call iam:GetRole and iam:GetOpenIDConnectProvider on. */
function oidcReads(statements: PolicyStatement[]): { role: string[]; provider: string[] } {
  const on = (action: string) =>
    statements
      .filter((s) => s.Effect === "Allow" && list(s.Action).includes(action))
      .flatMap((s) => list(s.Resource));
  return { role: on("iam:GetRole"), provider: on("iam:GetOpenIDConnectProvider") };
}

/** The follow-through reads the roles the plan names and GitHub's provider, in its own account only. */
const PLANNED_OIDC_READS = {
  role: [`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${PLANNED_ROLE_PREFIX}*`],
  provider: [`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:oidc-provider/${OIDC_PROVIDER_HOST}`],
};

/** Roles (of either template) allowed to change a key: deactivate it or write a user policy. */
function rolesThatChangeKeys(resources: RoleResources): string[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === "AWS::IAM::Role")
    .filter(([id]) =>
      allowedActions(roleStatements(resources, id)).some(
        (a) => a === "iam:UpdateAccessKey" || a === "iam:PutUserPolicy",
      ),
    )
    .map(([id]) => id);
}

describe("infra/member-role.yml", () => {
  const template = loadTemplate("infra/member-role.yml") as { Resources: RoleResources };
  const statementsOf = (role: string) => roleStatements(template.Resources, role);

  it("has two roles: the containment role (RoleName) and the investigator role (InvestigatorRoleName)", () => {
    expect(Object.keys(template.Resources).sort()).toEqual(["InvestigatorRole", "MemberRole"]);
    expect(template.Resources.MemberRole?.Properties.RoleName).toBe("RoleName");
    expect(template.Resources.InvestigatorRole?.Properties.RoleName).toBe("InvestigatorRoleName");
  });

  it.each(["MemberRole", "InvestigatorRole"])(
    "%s explicitly denies writing role policies on both member roles, the responder's roles and every platform-owned role",
    (role) => {
      const deniedRoles = statementsOf(role)
        .filter((s) => s.Effect === "Deny" && list(s.Action).includes("iam:PutRolePolicy"))
        .flatMap((s) => list(s.Resource))
        .map((arn) => arn.replace(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:`, ""));
      expect(deniedRoles.sort()).toEqual(
        [
          ...PLATFORM_ROLE_PATTERNS,
          `role/\${RoleName}`,
          `role/\${InvestigatorRoleName}`,
          RESPONDER_ROLE_PATTERN,
        ].sort(),
      );
    },
  );

  it("grants no wildcard action and no Delete action", () => {
    const actions = [
      ...allowedActions(statementsOf("MemberRole")),
      ...allowedActions(statementsOf("InvestigatorRole")),
    ];
    expect(actions.filter((a) => a.includes("*"))).toEqual([]);
    expect(actions.filter((a) => /:Delete/.test(a))).toEqual([]);
  });

  it("lets the investigator role read key status and CloudTrail and revoke role sessions, and never change a key", () => {
    expect(allowedActions(statementsOf("InvestigatorRole")).sort()).toEqual([
      "account:ListRegions",
      "cloudtrail:LookupEvents",
      "iam:GetAccessKeyLastUsed",
      "iam:GetOpenIDConnectProvider",
      "iam:GetRole",
      "iam:ListAccessKeys",
      "iam:PutRolePolicy",
    ]);
    expect(rolesThatChangeKeys(template.Resources)).toEqual(["MemberRole"]);
  });

  it("lets the investigator role, and not the containment role, read only the planned OIDC roles (gh-*) and GitHub's provider", () => {
    expect(oidcReads(statementsOf("InvestigatorRole"))).toEqual(PLANNED_OIDC_READS);
    expect(oidcReads(statementsOf("MemberRole"))).toEqual({ role: [], provider: [] });
  });

  it("has the containment role trusted by ResponderRoleArn only and the investigator role by InvestigatorRoleArn only", () => {
    const trusted = (role: string) => {
      const statements = template.Resources[role]?.Properties.AssumeRolePolicyDocument?.Statement ?? [];
      expect(statements, role).toHaveLength(1);
      // Both branches of the ExternalId condition pin the principal's ARN.
      return [...JSON.stringify(statements).matchAll(/"aws:PrincipalArn":"(\w+)"/g)].map((m) => m[1]);
    };
    expect(trusted("MemberRole")).toEqual(["ResponderRoleArn", "ResponderRoleArn"]);
    expect(trusted("InvestigatorRole")).toEqual(["InvestigatorRoleArn", "InvestigatorRoleArn"]);
  });
});

describe("serverless.yml: the functions' own roles (home account)", () => {
  const service = loadTemplate("serverless.yml") as {
    functions: Record<string, { role?: string; environment?: Record<string, unknown> }>;
    resources: { Resources: RoleResources };
  };
  const statementsOf = (role: string) => roleStatements(service.resources.Resources, role);
  const denied = (role: string, action: string) =>
    statementsOf(role)
      .filter((s) => s.Effect === "Deny" && list(s.Action).includes(action))
      .flatMap((s) => list(s.Resource))
      .map((arn) => arn.replace(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:`, ""));
  const memberRoles = [`role/\${param:memberRoleName}`, `role/\${param:memberInvestigatorRoleName}`];

  it("gives each function its own role", () => {
    expect(
      Object.fromEntries(Object.entries(service.functions).map(([name, fn]) => [name, fn.role])),
    ).toEqual({
      intake: "IntakeRole",
      contain: "ContainRole",
      investigate: "InvestigateRole",
      notify: "NotifyRole",
    });
  });

  it.each(["ContainRole", "InvestigateRole"])(
    "%s can write a deny on no responder role (deploy, intake, the functions), no member role and no platform role",
    (role) => {
      expect(denied(role, "iam:PutRolePolicy").sort()).toEqual(
        [...PLATFORM_ROLE_PATTERNS, RESPONDER_ROLE_PATTERN, ...memberRoles].sort(),
      );
    },
  );

  it.each(["ContainRole", "InvestigateRole"])(
    "%s never assumes a member role of its own account, whose role/* power would reach the responder's roles",
    (role) => {
      expect(denied(role, "sts:AssumeRole").sort()).toEqual([...memberRoles].sort());
    },
  );

  it("lets investigate assume only the investigator member role, by the name its MEMBER_ROLE_NAME gives", () => {
    const assumed = statementsOf("InvestigateRole")
      .filter((s) => s.Effect === "Allow" && list(s.Action).includes("sts:AssumeRole"))
      .flatMap((s) => list(s.Resource));
    expect(assumed).toEqual([`arn:\${AWS::Partition}:iam::*:role/\${param:memberInvestigatorRoleName}`]);
    expect(service.functions.investigate?.environment?.MEMBER_ROLE_NAME).toBe(
      `\${param:memberInvestigatorRoleName}`,
    );
    expect(service.functions.contain?.environment?.MEMBER_ROLE_NAME).toBe(`\${param:memberRoleName}`);
  });

  it("lets only the containment identities change a key (iam:UpdateAccessKey, iam:PutUserPolicy), here and in src/permissions.ts", () => {
    expect(rolesThatChangeKeys(service.resources.Resources)).toEqual(["ContainRole"]);
    for (const action of ["iam:UpdateAccessKey", "iam:PutUserPolicy"]) {
      const entry = AWS_ACTIONS.find((a) => a.action === action);
      expect([...(entry?.grantedTo ?? [])].sort(), action).toEqual([...CONTAINMENT_GRANTEES].sort());
    }
  });

  it("lets investigate, and no other function, read only the planned OIDC roles (gh-*) and GitHub's provider", () => {
    expect(oidcReads(statementsOf("InvestigateRole"))).toEqual(PLANNED_OIDC_READS);
    for (const role of ["IntakeRole", "ContainRole", "NotifyRole"])
      expect(oidcReads(statementsOf(role)), role).toEqual({ role: [], provider: [] });
  });

  it("gives notify no IAM, STS, CloudTrail, Account or Organizations action: it posts and writes reports", () => {
    const actions = allowedActions(statementsOf("NotifyRole"));
    expect(actions).toContain("ssm:GetParameters");
    expect(actions.filter((a) => /^(iam|sts|cloudtrail|account|organizations):/.test(a))).toEqual([]);
  });
});

describe("serverless.yml: the AWS Health trigger and the daily schedule", () => {
  const service = loadTemplate("serverless.yml") as {
    resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  };
  const resources = service.resources.Resources;

  it("routes only AWS_RISK_CREDENTIALS_EXPOSED to the alert queue, and the queue admits only that rule", () => {
    const rule = resources.CredentialsExposedRule;
    expect(rule?.Type).toBe("AWS::Events::Rule");
    expect(rule?.Properties.EventPattern).toEqual({
      source: ["aws.health"],
      "detail-type": ["AWS Health Event"],
      detail: { eventTypeCode: ["AWS_RISK_CREDENTIALS_EXPOSED"] },
    });
    expect(rule?.Properties.Targets).toEqual([{ Id: "alert-queue", Arn: "AlertQueue.Arn" }]);
    const policy = resources.AlertQueuePolicy?.Properties.PolicyDocument as { Statement: unknown[] };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Condition: { ArnEquals: { "aws:SourceArn": "CredentialsExposedRule.Arn" } },
      }),
    ]);
  });

  it("sends the daily follow-through to the investigation queue with a message group, and that queue admits only the schedule", () => {
    const schedule = resources.FollowThroughSchedule?.Properties;
    expect(schedule?.ScheduleExpression).toBe("rate(1 day)");
    const targets = (schedule?.Targets ?? []) as Array<{
      Arn: string;
      Input: string;
      SqsParameters?: { MessageGroupId?: string };
    }>;
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toBe("InvestigationQueue.Arn");
    expect(JSON.parse(String(targets[0]?.Input))).toEqual(FOLLOW_THROUGH_TASK);
    // A FIFO target needs a message group. EventBridge cannot send a deduplication id, so the queue
    // must deduplicate by content (EventBridge API reference, Target.SqsParameters).
    // The same group the follow-through's later parts are sent to (sqs-stage-queues.ts): one part at a time.
    expect(targets[0]?.SqsParameters?.MessageGroupId).toBe(FOLLOW_THROUGH_GROUP);
    expect(resources.InvestigationQueue?.Properties.ContentBasedDeduplication).toBe(true);
    expect(resources.InvestigationQueuePolicy?.Properties.Queues).toEqual(["InvestigationQueue"]);
    const policy = resources.InvestigationQueuePolicy?.Properties.PolicyDocument as { Statement: unknown[] };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: "InvestigationQueue.Arn",
        Condition: { ArnEquals: { "aws:SourceArn": "FollowThroughSchedule.Arn" } },
      }),
    ]);
  });
});

describe("infra/deploy-role.yml", () => {
  it("may create every kind of resource serverless.yml declares (a missing service is a deploy that rolls back)", () => {
    const service = loadTemplate("serverless.yml") as {
      resources: { Resources: Record<string, { Type: string }> };
    };
    const role = loadTemplate("infra/deploy-role.yml") as {
      Resources: {
        DeployRole: { Properties: { Policies: Array<{ PolicyDocument: { Statement: PolicyStatement[] } }> } };
      };
    };
    const granted = new Set(
      role.Resources.DeployRole.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement)
        .filter((s) => s.Effect === "Allow")
        .flatMap((s) => list(s.Action))
        .map((action) => action.split(":")[0]),
    );
    const prefix: Record<string, string> = { ApiGatewayV2: "apigateway", CloudWatch: "cloudwatch" };
    const needed = new Set(
      Object.values(service.resources.Resources).map((r) => {
        const name = r.Type.split("::")[1] ?? "";
        return prefix[name] ?? name.toLowerCase();
      }),
    );
    expect([...needed].filter((p) => !granted.has(p))).toEqual([]);
  });
});
