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
  /** iam:PassRole only: the services the role is handed to (its `iam:PassedToService` condition). */
  passedToServices?: string[];
  /** Part of a framework's conventional starting policy (`sam deploy`): to tighten after use. */
  startingPoint?: string;
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
/**
 * Switches that take no value (`aws s3` high-level commands and common CLI booleans): the word after
 * one is a path, not its value (`aws s3 sync --delete ./public s3://bucket`).
 */
const SWITCHES = new Set([
  "--delete",
  "--recursive",
  "--dryrun",
  "--quiet",
  "--only-show-errors",
  "--no-progress",
  "--follow-symlinks",
  "--no-follow-symlinks",
  "--no-guess-mime-type",
  "--exact-timestamps",
  "--size-only",
  "--force",
  "--force-glacier-transfer",
  "--ignore-glacier-warnings",
  "--human-readable",
  "--summarize",
  "--no-paginate",
  "--no-verify-ssl",
  "--no-sign-request",
  "--debug",
  "--no-cli-pager",
  "--no-fail-on-empty-changeset",
  "--fail-on-empty-changeset",
  "--no-execute-changeset",
  "--publish",
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

/**
 * Shell words with quotes removed, as the shell would split them: `"s3://b/p"`, `'s3://b/p'` and
 * `s3://"$B"/p` are each one word. A `${{ ... }}` expression is one unit: GitHub substitutes it
 * before the shell runs, so its spaces never split a word.
 */
function shellWords(command: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  let i = 0;
  const take = (text: string) => {
    word = (word ?? "") + text;
  };
  while (i < command.length) {
    const char = command[i] ?? "";
    if (command.startsWith("${{", i)) {
      const end = command.indexOf("}}", i + 3);
      const stop = end < 0 ? command.length : end + 2;
      take(command.slice(i, stop));
      i = stop;
    } else if (/\s/.test(char)) {
      if (word !== undefined) out.push(word);
      word = undefined;
      i++;
    } else if (char === "'") {
      const end = command.indexOf("'", i + 1);
      const stop = end < 0 ? command.length : end;
      take(command.slice(i + 1, stop));
      i = stop + 1;
    } else if (char === '"') {
      let text = "";
      i++;
      while (i < command.length && command[i] !== '"') {
        if (command.startsWith("${{", i)) {
          const end = command.indexOf("}}", i + 3);
          const stop = end < 0 ? command.length : end + 2;
          text += command.slice(i, stop);
          i = stop;
          continue;
        }
        if (command[i] === "\\" && /["\\$`]/.test(command[i + 1] ?? "")) i++;
        text += command[i] ?? "";
        i++;
      }
      take(text);
      i++;
    } else if (char === "\\") {
      take(command[i + 1] ?? "");
      i += 2;
    } else {
      take(char);
      i++;
    }
  }
  if (word !== undefined) out.push(word);
  return out;
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
  const tokens = shellWords(substitute(line, env));
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
      else if (next !== undefined && !next.startsWith("--") && !SWITCHES.has(flag)) {
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

type Call = { service: string; action: string; resources: string[]; passedToService?: string };

/** `ACCOUNT.dkr.ecr.REGION.amazonaws.com/repo:tag` -> the repository's ARN parts. */
const ECR_IMAGE = /^([^/\s]*)\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@\s]+)/;
/** Registries that are not ECR: a push there needs no AWS permission. */
const OTHER_REGISTRY =
  /^(ghcr\.io|docker\.io|quay\.io|registry\.gitlab\.com|[\w.-]+\.azurecr\.io|[\w.-]*gcr\.io|[\w.-]+-docker\.pkg\.dev)\//;

/**
 * The ECR push permissions for one image reference (facts: a docker push to ECR needs a token and
 * the layer-upload actions), on its repository when the reference names one. `undefined` when the
 * image plainly goes elsewhere; unknown references count as ECR only in a job that logged in to it.
 */
function ecrPush(image: string, ecrLogin: boolean, account: string | undefined): Call[] | undefined {
  const match = ECR_IMAGE.exec(image);
  let arn: string[] = [];
  if (match) {
    const [, host = "", region = "", repository = ""] = match;
    const owner = /^\d{12}$/.test(host) ? host : (account ?? "*");
    if (/^[a-z0-9][a-z0-9._/-]*$/.test(repository))
      arn = [`arn:aws:ecr:${region}:${owner}:repository/${repository}`];
  } else if (!ecrLogin || OTHER_REGISTRY.test(image) || !/[$]/.test(image)) {
    return undefined;
  }
  return [
    { service: "ecr", action: "GetAuthorizationToken", resources: [] },
    ...ECR_PUSH.map((action) => ({ service: "ecr", action, resources: arn })),
  ];
}

/** Images a docker command line pushes: `docker push X`, `docker image push X`, `build --push -t X`. */
function pushedImages(tokens: string[]): string[] {
  const words = tokens[0] === "sudo" ? tokens.slice(1) : tokens;
  if (words[0] !== "docker") return [];
  const rest = words[1] === "image" || words[1] === "buildx" ? words.slice(2) : words.slice(1);
  if (rest[0] === "push")
    return rest
      .slice(1)
      .filter((word) => !word.startsWith("-"))
      .slice(0, 1);
  if (rest[0] === "build" && rest.includes("--push")) {
    return rest.flatMap((word, i) => (word === "-t" || word === "--tag" ? [rest[i + 1] ?? ""] : []));
  }
  return [];
}

/**
 * `sam deploy` and `serverless deploy` act with the job's own credentials through CloudFormation on
 * whatever the stack holds: no command line says which. This is the conventional starting point
 * (CloudFormation change sets, the artifact bucket, and the services such stacks usually create),
 * scoped to the stack's name where the command gives one; the plan says to tighten it with IAM
 * Access Analyzer policy generation once the role has run.
 */
function frameworkDeploy(
  framework: "sam" | "serverless",
  stack: string | undefined,
  region: string,
  account: string | undefined,
): Call[] {
  const acct = account ?? "*";
  const prefix = stack && known(stack) ? `${stack}-*` : "*";
  const stackArn = stack && known(stack) ? `${stack}/*` : "*";
  const cfn = [`arn:aws:cloudformation:${region}:${acct}:stack/${stackArn}`];
  const calls: Call[] = [];
  const each = (service: string, actions: string[], resources: string[], passedToService?: string) => {
    for (const action of actions)
      calls.push({ service, action, resources, ...(passedToService ? { passedToService } : {}) });
  };
  each(
    "cloudformation",
    [
      "CreateChangeSet",
      "DescribeChangeSet",
      "ExecuteChangeSet",
      "DeleteChangeSet",
      "DescribeStacks",
      "DescribeStackEvents",
      "DescribeStackResource",
      "ListStackResources",
      "GetTemplate",
      "GetTemplateSummary",
      "CreateStack",
      "UpdateStack",
    ],
    framework === "sam"
      ? [
          ...cfn,
          // SAM templates are expanded by AWS's transform, itself a change-set resource.
          `arn:aws:cloudformation:${region}:aws:transform/Serverless-2016-10-31`,
          `arn:aws:cloudformation:${region}:${acct}:stack/aws-sam-cli-managed-default/*`,
        ]
      : cfn,
  );
  each("cloudformation", ["ValidateTemplate"], []);
  const buckets =
    framework === "sam"
      ? ["arn:aws:s3:::aws-sam-cli-managed-default-samclisourcebucket-*"]
      : [
          // v3 keeps a bucket in each stack; v4 one per region for all services.
          `arn:aws:s3:::${prefix === "*" ? "*" : prefix}serverlessdeploymentbucket*`,
          `arn:aws:s3:::serverless-framework-deployments-${region}-*`,
        ];
  each(
    "s3",
    [
      "CreateBucket",
      "ListBucket",
      "GetBucketLocation",
      "PutObject",
      "GetObject",
      "PutBucketPolicy",
      "PutBucketVersioning",
      "PutEncryptionConfiguration",
      "PutBucketPublicAccessBlock",
      "PutBucketTagging",
    ],
    buckets,
  );
  each(
    "lambda",
    [
      "CreateFunction",
      "UpdateFunctionCode",
      "UpdateFunctionConfiguration",
      "GetFunction",
      "GetFunctionConfiguration",
      "DeleteFunction",
      "AddPermission",
      "RemovePermission",
      "PublishVersion",
      "ListVersionsByFunction",
      "CreateAlias",
      "UpdateAlias",
      "TagResource",
    ],
    [`arn:aws:lambda:${region}:${acct}:function:${prefix}`],
  );
  const roles = [`arn:aws:iam::${acct}:role/${prefix}`];
  each(
    "iam",
    [
      "CreateRole",
      "GetRole",
      "DeleteRole",
      "TagRole",
      "PutRolePolicy",
      "DeleteRolePolicy",
      "AttachRolePolicy",
      "DetachRolePolicy",
    ],
    roles,
  );
  each("iam", ["PassRole"], roles, "lambda.amazonaws.com");
  each(
    "logs",
    ["CreateLogGroup", "DeleteLogGroup", "PutRetentionPolicy", "TagResource"],
    [`arn:aws:logs:${region}:${acct}:log-group:/aws/lambda/${prefix}`],
  );
  each("logs", ["DescribeLogGroups"], []);
  each("apigateway", ["GET", "POST", "PUT", "PATCH", "DELETE"], [`arn:aws:apigateway:${region}::/*`]);
  return calls;
}

/** `sam deploy ...` / `serverless deploy ...` (also through npx and `sls`), with the stack it names. */
function frameworkCommand(tokens: string[]): { framework: "sam" | "serverless"; stack?: string } | undefined {
  const words =
    tokens[0] === "npx" || tokens[0] === "pnpm" || tokens[0] === "yarn" ? tokens.slice(1) : tokens;
  const [tool, command] = words;
  const flag = (name: string) => {
    const at = words.findIndex((word) => word === name || word.startsWith(`${name}=`));
    const word = words[at] ?? "";
    return at < 0 ? undefined : word.includes("=") ? word.slice(name.length + 1) : words[at + 1];
  };
  if (tool === "sam" && (command === "deploy" || command === "sync")) {
    const stack = flag("--stack-name");
    return { framework: "sam", ...(stack === undefined ? {} : { stack }) };
  }
  if ((tool === "serverless" || tool === "sls") && command === "deploy") {
    // Its stack is `SERVICE-STAGE` (the service is named in serverless.yml, which the plan does not read).
    const stage = flag("--stage") ?? flag("-s") ?? "dev";
    return { framework: "serverless", stack: `*-${stage}` };
  }
  return undefined;
}

function fromUses(
  step: ScannedStep,
  env: Record<string, string>,
  region: string,
  account: string | undefined,
  ecrLogin: boolean,
): Call[] {
  const uses = (step.uses ?? "").toLowerCase();
  const out: Call[] = [];
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
    // The task definition's task and execution roles are handed to ECS tasks, nothing else.
    out.push({
      service: "iam",
      action: "PassRole",
      resources: [],
      passedToService: "ecs-tasks.amazonaws.com",
    });
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
    if (/(^|\s)--delete(\s|$)/.test(step.with.args ?? ""))
      out.push({ service: "s3", action: "DeleteObject", resources: target.map((arn) => `${arn}/*`) });
  }
  if (uses.startsWith("docker/build-push-action@") && /^(true)$/i.test(step.with.push ?? "")) {
    const tags = substitute(step.with.tags ?? "", env)
      .split(/[\n,]/)
      .map((tag) => tag.trim())
      .filter(Boolean);
    for (const tag of tags.length > 0 ? tags : ["$UNKNOWN"])
      out.push(...(ecrPush(tag, ecrLogin, account) ?? []));
  }
  return out;
}

/** Replaces amazon-ecr-login's `registry` output with the registry host it stands for. */
function withEcrRegistry(
  value: string,
  loginIds: readonly string[],
  region: string,
  account?: string,
): string {
  if (loginIds.length === 0) return value;
  return value.replace(/\$\{\{\s*steps\.([\w-]+)\.outputs\.registry\s*\}\}/g, (whole, id: string) =>
    loginIds.includes(id) ? `${account ?? "registry"}.dkr.ecr.${region}.amazonaws.com` : whole,
  );
}

/** Every AWS call the job's steps will make, as far as their text tells. */
export function inferJobCalls(
  workflow: ScannedWorkflow,
  job: ScannedJob,
  options: { region: string; accountId?: string },
): InferredCall[] {
  const calls = new Map<string, InferredCall>();
  const where = `${workflow.path.split("/").pop()} job ${job.id}`;
  const add = (call: Call, what: string, startingPoint?: string) => {
    const k = `${call.service}:${call.action}`;
    const entry: InferredCall = calls.get(k) ?? { ...call, resources: [], source: `${where}: ${what}` };
    for (const arn of call.resources) if (!entry.resources.includes(arn)) entry.resources.push(arn);
    if (call.passedToService) {
      const services = new Set([...(entry.passedToServices ?? []), call.passedToService]);
      entry.passedToServices = [...services].sort();
    }
    if (startingPoint) entry.startingPoint = startingPoint;
    calls.set(k, entry);
  };
  const loginIds = job.steps
    .filter((step) => /^aws-actions\/amazon-ecr-login@/i.test(step.uses ?? ""))
    .map((step) => step.id ?? "");
  let ecrLogin = loginIds.length > 0;
  for (const step of job.steps) {
    const env = { ...workflow.env, ...job.env, ...step.env };
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? step.with["aws-region"] ?? options.region;
    const account = options.accountId;
    for (const [name, value] of Object.entries(env))
      env[name] = withEcrRegistry(value, loginIds, region, account);
    const stepWith = Object.fromEntries(
      Object.entries(step.with).map(([name, value]) => [
        name,
        withEcrRegistry(value, loginIds, region, account),
      ]),
    );
    for (const call of fromUses({ ...step, with: stepWith }, env, region, account, ecrLogin))
      add(call, step.uses ?? step.label);
    for (const line of commandLines(step.run ?? "")) {
      const tokens = shellWords(withEcrRegistry(substitute(line, env), loginIds, region, account));
      if (/\becr\s+get-login-password\b/.test(line)) ecrLogin = true;
      for (const image of pushedImages(tokens))
        for (const call of ecrPush(image, ecrLogin, account) ?? []) add(call, "docker push");
      const framework = frameworkCommand(tokens);
      if (framework) {
        const what = `${framework.framework} deploy`;
        for (const call of frameworkDeploy(framework.framework, framework.stack, region, account))
          add(call, what, what);
      }
      if (/\bcdk\s+deploy\b/.test(line)) {
        // CDK deploys through its bootstrap roles (cdk-<qualifier>-deploy-role-...): assuming them is all it needs.
        add(
          {
            service: "sts",
            action: "AssumeRole",
            resources: [`arn:aws:iam::${account ?? "*"}:role/cdk-*`],
          },
          "cdk deploy",
          "cdk deploy",
        );
      }
      const aws = /(?:^|\s)(aws\s.*)$/.exec(line)?.[1];
      if (!aws) continue;
      for (const call of awsCommand(aws, env, region, account)) {
        add(call, aws.split(/\s+/).slice(0, 3).join(" "));
      }
    }
  }
  return [...calls.values()];
}
