/**
 * What the declared templates (serverless.yml, infra/member-role.yml) promise about the responder's
 * power and timing, read straight from the YAML (cfn-lint is not available here). CloudFormation
 * tags (!GetAtt, !Sub) are kept as their plain values.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FOLLOW_THROUGH_TASK } from "../../src/intake/queued-work.js";

const root = join(import.meta.dirname, "..", "..");

function loadTemplate(file: string): Record<string, unknown> {
  return parse(readFileSync(join(root, file), "utf8"), { logLevel: "silent" }) as Record<string, unknown>;
}

describe("serverless.yml", () => {
  it("hands the respond function one alert per invocation, so one slow snapshot never delays another key's containment", () => {
    const service = loadTemplate("serverless.yml") as {
      functions: { respond: { events: Array<{ sqs?: { batchSize?: number } }> } };
    };
    const queues = service.functions.respond.events.flatMap((event) => (event.sqs ? [event.sqs] : []));
    expect(queues).toHaveLength(1);
    expect(queues[0]?.batchSize).toBe(1);
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
 * The responder's own roles (respond, intake, deploy: all named leak-responder-*). When the StackSet
 * also deploys the member role in the home account, a policy written on one of these would hand the
 * member role's holder the responder's own power, or the deploy role's.
 */
const RESPONDER_ROLE_PATTERN = "role/leak-responder-*";

describe("infra/member-role.yml", () => {
  const template = loadTemplate("infra/member-role.yml") as {
    Resources: {
      MemberRole: { Properties: { Policies: Array<{ PolicyDocument: { Statement: PolicyStatement[] } }> } };
    };
  };
  const statements = template.Resources.MemberRole.Properties.Policies.flatMap(
    (p) => p.PolicyDocument.Statement,
  );

  it("explicitly denies writing role policies on its own role, the responder's roles and every platform-owned role", () => {
    const deniedRoles = statements
      .filter((s) => s.Effect === "Deny" && list(s.Action).includes("iam:PutRolePolicy"))
      .flatMap((s) => list(s.Resource))
      .map((arn) => arn.replace(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:`, ""));
    expect(deniedRoles.sort()).toEqual(
      [...PLATFORM_ROLE_PATTERNS, `role/\${RoleName}`, RESPONDER_ROLE_PATTERN].sort(),
    );
  });

  it("grants no wildcard action and no Delete action", () => {
    const actions = statements.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action));
    expect(actions.filter((a) => a.includes("*"))).toEqual([]);
    expect(actions.filter((a) => /:Delete/.test(a))).toEqual([]);
  });
});

describe("serverless.yml: the respond function's own role (home account)", () => {
  const service = loadTemplate("serverless.yml") as {
    resources: {
      Resources: {
        RespondRole: {
          Properties: { Policies: Array<{ PolicyDocument: { Statement: PolicyStatement[] } }> };
        };
      };
    };
  };
  const statements = service.resources.Resources.RespondRole.Properties.Policies.flatMap(
    (p) => p.PolicyDocument.Statement,
  );
  const denied = (action: string) =>
    statements
      .filter((s) => s.Effect === "Deny" && list(s.Action).includes(action))
      .flatMap((s) => list(s.Resource))
      .map((arn) => arn.replace(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:`, ""));

  it("can write a deny on no responder role (deploy, intake, itself), no member role and no platform role", () => {
    expect(denied("iam:PutRolePolicy").sort()).toEqual(
      [...PLATFORM_ROLE_PATTERNS, RESPONDER_ROLE_PATTERN, "role/${param:memberRoleName}"].sort(),
    );
  });

  it("never assumes the member role of its own account, whose role/* power would reach the responder's roles", () => {
    expect(denied("sts:AssumeRole")).toEqual(["role/${param:memberRoleName}"]);
  });
});

describe("serverless.yml: the AWS Health trigger", () => {
  const service = loadTemplate("serverless.yml") as {
    resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  };
  const resources = service.resources.Resources;

  it("routes only AWS_RISK_CREDENTIALS_EXPOSED and the daily follow-through to the alert queue, and the queue admits only those rules", () => {
    const rule = resources.CredentialsExposedRule;
    expect(rule?.Type).toBe("AWS::Events::Rule");
    expect(rule?.Properties.EventPattern).toEqual({
      source: ["aws.health"],
      "detail-type": ["AWS Health Event"],
      detail: { eventTypeCode: ["AWS_RISK_CREDENTIALS_EXPOSED"] },
    });
    expect(rule?.Properties.Targets).toEqual([{ Id: "alert-queue", Arn: "AlertQueue.Arn" }]);
    const schedule = resources.FollowThroughSchedule?.Properties;
    expect(schedule?.ScheduleExpression).toBe("rate(1 day)");
    const targets = (schedule?.Targets ?? []) as Array<{ Input: string }>;
    expect(JSON.parse(String(targets[0]?.Input))).toEqual(FOLLOW_THROUGH_TASK);
    const policy = resources.AlertQueuePolicy?.Properties.PolicyDocument as { Statement: unknown[] };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Condition: {
          ArnEquals: { "aws:SourceArn": ["CredentialsExposedRule.Arn", "FollowThroughSchedule.Arn"] },
        },
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
