/**
 * AWS calls a job's own steps will make, read from its `aws` commands and well-known actions. Two
 * uses: CloudTrail's LookupEvents shows management events only (facts.md), so data-plane calls such
 * as S3 object writes never appear in the snapshot; and when the snapshot is empty, these are the
 * clearly marked starting point. Never the sole source when evidence exists for management calls.
 */
import type { TrailEvent } from "../forensics/trail-event.js";
import { resourcesOf } from "./observed-calls.js";
import type { ScannedJob, ScannedStep, ScannedWorkflow } from "./workflow-scan.js";

export interface InferredCall {
  service: string;
  action: string;
  resources: string[];
  /** Where it came from, for the plan's reader: `deploy.yml job deploy: aws s3 sync`. */
  source: string;
}

/** Calls CloudTrail's management-event history cannot show (data events). */
export function isDataEvent(service: string, action: string): boolean {
  if (service === "s3") {
    return /^(GetObject|PutObject|DeleteObject|ListBucket|ListBucketVersions|PutObjectAcl|GetObjectVersion|DeleteObjectVersion|AbortMultipartUpload|ListMultipartUploadParts|RestoreObject)$/.test(
      action,
    );
  }
  if (service === "lambda") return action === "InvokeFunction";
  if (service === "dynamodb") return /Item$|^(Query|Scan)$/.test(action);
  if (service === "sqs") return /^(SendMessage|ReceiveMessage|DeleteMessage)$/.test(action);
  if (service === "sns") return action === "Publish";
  return false;
}

const CLI_SERVICE: Record<string, string> = {
  s3api: "s3",
  elbv2: "elasticloadbalancing",
  elb: "elasticloadbalancing",
  deploy: "codedeploy",
  configservice: "config",
  stepfunctions: "states",
};
/** Global options that take a value and come before the service name. */
const GLOBAL_WITH_VALUE = new Set([
  "--region",
  "--profile",
  "--output",
  "--endpoint-url",
  "--query",
  "--color",
  "--ca-bundle",
]);
const FLAG_PARAMETER: Record<string, string> = {
  "--bucket": "bucketName",
  "--key": "key",
  "--function-name": "functionName",
  "--stack-name": "stackName",
  "--distribution-id": "distributionId",
  "--cluster": "cluster",
  "--service": "service",
  "--services": "services",
  "--repository-name": "repositoryName",
  "--table-name": "tableName",
  "--name": "name",
  "--names": "names",
  "--secret-id": "secretId",
  "--topic-arn": "topicArn",
  "--queue-url": "queueUrl",
  "--role-arn": "roleArn",
  "--log-group-name": "logGroupName",
};
const ALIAS: Record<string, string> = {
  "s3:ListObjects": "ListBucket",
  "s3:ListObjectsV2": "ListBucket",
  "s3:HeadObject": "GetObject",
  "s3:HeadBucket": "ListBucket",
  "s3:ListBuckets": "ListAllMyBuckets",
  "lambda:Invoke": "InvokeFunction",
};

function pascal(command: string): string {
  return command
    .split("-")
    .map((part) => (part ? part[0]?.toUpperCase() + part.slice(1) : ""))
    .join("");
}

/** Shell words, quotes removed; good enough for `aws` command lines in workflows. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

/** Replaces `${{ env.X }}`, `$X` and `${X}` with known literal values; unknown ones stay (and are dropped). */
function substitute(value: string, env: Record<string, string>): string {
  return value
    .replace(/\$\{\{\s*(?:env|vars)\.([A-Za-z_][\w]*)\s*\}\}/g, (whole, name: string) => env[name] ?? whole)
    .replace(
      /\$\{([A-Za-z_][\w]*)\}|\$([A-Za-z_][\w]*)/g,
      (whole, a?: string, b?: string) => env[a ?? b ?? ""] ?? whole,
    );
}

function known(value: string | undefined): value is string {
  return value !== undefined && value.length > 0 && !/[$]/.test(value);
}

function s3Target(value: string | undefined): { bucket: string; key: boolean } | undefined {
  const match = value ? /^s3:\/\/([^/\s]+)(\/.*)?$/.exec(value) : null;
  return match?.[1] ? { bucket: match[1], key: (match[2] ?? "/").length > 1 } : undefined;
}

/** Calls made by one `aws ...` command line. */
function awsCommand(line: string, env: Record<string, string>, region: string, account: string | undefined) {
  const tokens = words(substitute(line, env));
  if (tokens[0] === "sudo") tokens.shift();
  if (tokens[0] !== "aws") return [];
  let i = 1;
  let commandRegion = region;
  while (tokens[i]?.startsWith("--")) {
    const flag = tokens[i] ?? "";
    if (flag === "--region" && tokens[i + 1]) commandRegion = tokens[i + 1] ?? region;
    i += GLOBAL_WITH_VALUE.has(flag) ? 2 : 1;
  }
  const cli = tokens[i];
  const command = tokens[i + 1];
  if (!cli || !command || cli === "configure" || cli === "help" || command === "wait" || command === "help")
    return [];
  const args = tokens.slice(i + 2);
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let j = 0; j < args.length; j++) {
    const arg = args[j] ?? "";
    if (arg.startsWith("--")) {
      const [flag = "", inline] = arg.split("=", 2);
      const next = args[j + 1];
      if (inline !== undefined) flags.set(flag, inline);
      else if (next !== undefined && !next.startsWith("--")) {
        flags.set(flag, next);
        j++;
      } else flags.set(flag, "");
    } else positional.push(arg);
  }
  const region2 = flags.get("--region") ?? commandRegion;
  const out: Array<{ service: string; action: string; resources: string[] }> = [];
  const s3 = (action: string, target: { bucket: string } | undefined, object: boolean) =>
    out.push({
      service: "s3",
      action,
      resources: target && known(target.bucket) ? [`arn:aws:s3:::${target.bucket}${object ? "/*" : ""}`] : [],
    });

  if (cli === "s3") {
    const [first, second] = positional.map(s3Target);
    const recursive = flags.has("--recursive");
    switch (command) {
      case "sync":
        if (second) {
          s3("ListBucket", second, false);
          s3("PutObject", second, true);
          if (flags.has("--delete")) s3("DeleteObject", second, true);
        }
        if (first) {
          s3("ListBucket", first, false);
          s3("GetObject", first, true);
        }
        break;
      case "cp":
      case "mv":
        if (second) s3("PutObject", second, true);
        if (first) {
          s3("GetObject", first, true);
          if (recursive) s3("ListBucket", first, false);
          if (command === "mv") s3("DeleteObject", first, true);
        }
        break;
      case "rm":
        if (first) {
          s3("DeleteObject", first, true);
          if (recursive) s3("ListBucket", first, false);
        }
        break;
      case "ls":
        if (first) s3("ListBucket", first, false);
        else s3("ListAllMyBuckets", undefined, false);
        break;
      case "mb":
        s3("CreateBucket", first, false);
        break;
      case "rb":
        s3("DeleteBucket", first, false);
        break;
      default:
        break;
    }
    return out;
  }
  if (cli === "ecr" && command === "get-login-password")
    return [{ service: "ecr", action: "GetAuthorizationToken", resources: [] }];
  if (cli === "eks" && command === "update-kubeconfig") {
    const name = flags.get("--name");
    return [
      {
        service: "eks",
        action: "DescribeCluster",
        resources: known(name) ? [`arn:aws:eks:${region2}:${account ?? "*"}:cluster/${name}`] : [],
      },
    ];
  }
  const service = CLI_SERVICE[cli] ?? cli;
  const parameters: Record<string, unknown> = {};
  for (const [flag, parameter] of Object.entries(FLAG_PARAMETER)) {
    const value = flags.get(flag);
    if (known(value)) parameters[parameter] = value;
  }
  const resources = (actionName: string) =>
    resourcesOf(
      {
        eventId: "inferred",
        eventTime: "",
        eventName: actionName,
        eventSource: `${service}.amazonaws.com`,
        awsRegion: region2,
        userIdentity: account === undefined ? {} : { accountId: account },
        requestParameters: parameters,
      } satisfies TrailEvent,
      account,
    );
  if (cli === "cloudformation" && (command === "deploy" || command === "package")) {
    const bucket = flags.get("--s3-bucket");
    if (known(bucket)) s3("PutObject", { bucket }, true);
    if (command === "package") return out;
    for (const action of [
      "CreateChangeSet",
      "DescribeChangeSet",
      "ExecuteChangeSet",
      "DescribeStacks",
      "DescribeStackEvents",
      "GetTemplateSummary",
    ]) {
      out.push({ service, action, resources: resources(action) });
    }
    return out;
  }
  const action = pascal(command);
  const aliased = ALIAS[`${service}:${action}`] ?? action;
  out.push({ service, action: aliased, resources: resources(aliased) });
  return out;
}

/** Logical command lines: continuations joined, then split on shell separators. */
function commandLines(run: string): string[] {
  return run
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n|&&|\|\||;|\|/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"));
}

const ECR_PUSH = [
  "BatchCheckLayerAvailability",
  "InitiateLayerUpload",
  "UploadLayerPart",
  "CompleteLayerUpload",
  "PutImage",
  "BatchGetImage",
];

function fromUses(
  step: ScannedStep,
  env: Record<string, string>,
  region: string,
  account: string | undefined,
) {
  const uses = (step.uses ?? "").toLowerCase();
  const out: Array<{ service: string; action: string; resources: string[] }> = [];
  if (uses.startsWith("aws-actions/amazon-ecr-login@"))
    out.push({ service: "ecr", action: "GetAuthorizationToken", resources: [] });
  if (uses.startsWith("aws-actions/amazon-ecs-deploy-task-definition@")) {
    const cluster = substitute(step.with.cluster ?? "default", env);
    const service = substitute(step.with.service ?? "", env);
    const arn =
      known(service) && known(cluster)
        ? [`arn:aws:ecs:${region}:${account ?? "*"}:service/${cluster}/${service}`]
        : [];
    out.push({ service: "ecs", action: "RegisterTaskDefinition", resources: [] });
    out.push({ service: "ecs", action: "UpdateService", resources: arn });
    out.push({ service: "ecs", action: "DescribeServices", resources: arn });
    out.push({ service: "iam", action: "PassRole", resources: [] });
  }
  if (uses.startsWith("aws-actions/aws-cloudformation-github-deploy@")) {
    const name = substitute(step.with.name ?? "", env);
    const arn = known(name) ? [`arn:aws:cloudformation:${region}:${account ?? "*"}:stack/${name}/*`] : [];
    for (const action of [
      "CreateChangeSet",
      "DescribeChangeSet",
      "ExecuteChangeSet",
      "DescribeStacks",
      "CreateStack",
      "UpdateStack",
    ]) {
      out.push({ service: "cloudformation", action, resources: arn });
    }
  }
  if (uses.startsWith("jakejarvis/s3-sync-action@")) {
    const bucket = substitute(step.env.AWS_S3_BUCKET ?? "", env);
    const target = known(bucket) ? [`arn:aws:s3:::${bucket}`] : [];
    out.push({ service: "s3", action: "ListBucket", resources: target });
    out.push({ service: "s3", action: "PutObject", resources: target.map((arn) => `${arn}/*`) });
  }
  if (uses.startsWith("docker/build-push-action@") && /^(true)$/i.test(step.with.push ?? "")) {
    for (const action of ECR_PUSH) out.push({ service: "ecr", action, resources: [] });
  }
  return out;
}

/** Every AWS call the job's steps will make, as far as their text tells. */
export function inferJobCalls(
  workflow: ScannedWorkflow,
  job: ScannedJob,
  options: { region: string; accountId?: string },
): InferredCall[] {
  const calls = new Map<string, InferredCall>();
  const where = `${workflow.path.split("/").pop()} job ${job.id}`;
  const add = (call: { service: string; action: string; resources: string[] }, what: string) => {
    const k = `${call.service}:${call.action}`;
    const entry = calls.get(k) ?? { ...call, resources: [], source: `${where}: ${what}` };
    for (const arn of call.resources) if (!entry.resources.includes(arn)) entry.resources.push(arn);
    calls.set(k, entry);
  };
  for (const step of job.steps) {
    const env = { ...workflow.env, ...job.env, ...step.env };
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? step.with["aws-region"] ?? options.region;
    for (const call of fromUses(step, env, region, options.accountId)) add(call, step.uses ?? step.label);
    for (const line of commandLines(step.run ?? "")) {
      if (/^docker\s+push\b/.test(line) && /\.dkr\.ecr\./.test(substitute(line, env))) {
        for (const action of ECR_PUSH) add({ service: "ecr", action, resources: [] }, "docker push");
      }
      if (/\bcdk\s+deploy\b/.test(line)) {
        // CDK deploys through its bootstrap roles (cdk-<qualifier>-deploy-role-...): assuming them is all it needs.
        add(
          {
            service: "sts",
            action: "AssumeRole",
            resources: [`arn:aws:iam::${options.accountId ?? "*"}:role/cdk-*`],
          },
          "cdk deploy",
        );
      }
      const aws = /(?:^|\s)(aws\s.*)$/.exec(line)?.[1];
      if (!aws) continue;
      for (const call of awsCommand(aws, env, region, options.accountId)) {
        add(call, aws.split(/\s+/).slice(0, 3).join(" "));
      }
    }
  }
  return [...calls.values()];
}
