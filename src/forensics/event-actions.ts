/**
 * Which IAM action an event exercised and which resources it named: the raw material for the
 * least-privilege policy of the OIDC plan (facts.md, AWS: CloudTrail: IAM Access Analyzer builds a
 * policy from trail data; the plan derives one from the snapshot, per service action actually called).
 *
 * CloudTrail names API operations, IAM names actions; they are the same word except for the cases
 * listed here. Resources come from the event's `resources[].ARN` and from well-known request
 * parameters; S3 object keys are generalised to `bucket/*` so a policy does not list every object.
 */
import { isJsonObject } from "./bounded-json.js";
import { printable } from "./printable-text.js";
import type { TrailEvent } from "./trail-event.js";

/** eventSource hosts whose IAM service prefix is not the host's first label. */
const SERVICE_PREFIX_BY_SOURCE: Record<string, string> = {
  "monitoring.amazonaws.com": "cloudwatch",
  "email.amazonaws.com": "ses",
  "tagging.amazonaws.com": "tag",
  "elasticfilesystem.amazonaws.com": "elasticfilesystem",
  "sso-directory.amazonaws.com": "sso-directory",
};

/** `prefix:ApiName` -> `prefix:ActionName` where the IAM action differs from the API operation. */
const ACTION_BY_OPERATION: Record<string, string> = {
  "s3:ListBuckets": "s3:ListAllMyBuckets",
  "s3:HeadBucket": "s3:ListBucket",
  "s3:ListObjects": "s3:ListBucket",
  "s3:ListObjectsV2": "s3:ListBucket",
  "s3:ListObjectVersions": "s3:ListBucketVersions",
  "s3:HeadObject": "s3:GetObject",
  "s3:DeleteObjects": "s3:DeleteObject",
  "s3:CopyObject": "s3:PutObject",
  "s3:CreateMultipartUpload": "s3:PutObject",
  "s3:UploadPart": "s3:PutObject",
  "s3:UploadPartCopy": "s3:PutObject",
  "s3:CompleteMultipartUpload": "s3:PutObject",
  "s3:GetBucketLifecycle": "s3:GetLifecycleConfiguration",
  "s3:PutBucketLifecycle": "s3:PutLifecycleConfiguration",
  "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
  "s3:PutBucketEncryption": "s3:PutEncryptionConfiguration",
  "s3:DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
  "s3:DeleteBucketPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
  "s3:DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
  "lambda:Invoke": "lambda:InvokeFunction",
  "bedrock:Converse": "bedrock:InvokeModel",
  "bedrock:ConverseStream": "bedrock:InvokeModelWithResponseStream",
};

/** Calls any principal may make without a permission (the plan must not grant them, nor need to). */
const NEEDS_NO_PERMISSION = new Set(["sts:GetCallerIdentity"]);

/** The IAM service prefix of an eventSource: "s3.amazonaws.com" -> "s3". */
export function servicePrefix(eventSource: string): string {
  const mapped = SERVICE_PREFIX_BY_SOURCE[eventSource];
  if (mapped) return mapped;
  return eventSource.endsWith(".amazonaws.com")
    ? eventSource.slice(0, -".amazonaws.com".length)
    : eventSource;
}

/**
 * The API operation without the version suffix Lambda puts on its event names
 * ("CreateFunction20150331", "UpdateFunctionCode20150331v2").
 */
export function canonicalEventName(eventSource: string, eventName: string): string {
  if (eventSource === "lambda.amazonaws.com") return eventName.replace(/20\d{6}(v\d+)?$/, "");
  return eventName;
}

/** The IAM action an event exercised: "s3.amazonaws.com" + "ListBuckets" -> "s3:ListAllMyBuckets". */
export function iamActionOf(event: Pick<TrailEvent, "eventSource" | "eventName">): string {
  const operation = `${servicePrefix(event.eventSource)}:${canonicalEventName(event.eventSource, event.eventName)}`;
  return ACTION_BY_OPERATION[operation] ?? operation;
}

export function needsNoPermission(action: string): boolean {
  return NEEDS_NO_PERMISSION.has(action);
}

const MAX_NAME = 512;

function stringParam(parameters: Record<string, unknown>, name: string): string | undefined {
  const value = parameters[name];
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_NAME) return undefined;
  // Names inside an ARN never hold whitespace or controls; a value that does is not a name.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return undefined;
  return value;
}

/** The partition of the caller's ARN ("aws", "aws-cn", "aws-us-gov"), for ARNs built here. */
function partitionOf(event: TrailEvent): string {
  const match = /^arn:(aws[a-z-]*):/.exec(event.userIdentity.arn ?? "");
  return match?.[1] ?? "aws";
}

/** The resources an event named, as ARNs (deduplicated, printable). */
export function resourcesOf(event: TrailEvent): string[] {
  const found = new Set<string>();
  for (const resource of event.resources ?? []) {
    if (resource.ARN?.startsWith("arn:")) found.add(resource.ARN);
  }
  const parameters = event.requestParameters;
  if (isJsonObject(parameters)) {
    for (const arn of resourcesFromParameters(event, parameters)) found.add(arn);
  }
  return [...found].map((arn) => printable(arn, 2048)).sort();
}

function resourcesFromParameters(event: TrailEvent, parameters: Record<string, unknown>): string[] {
  const partition = partitionOf(event);
  const account = event.recipientAccountId ?? event.userIdentity.accountId;
  const region = event.awsRegion;
  const service = servicePrefix(event.eventSource);
  const arns: string[] = [];
  const named = (name: string) => stringParam(parameters, name);
  const asArn = (value: string | undefined, build: (name: string) => string | undefined) => {
    if (!value) return;
    const arn = value.startsWith("arn:") ? value : build(value);
    if (arn) arns.push(arn);
  };
  const inAccount = (build: (account: string) => string) => (account ? build(account) : undefined);

  for (const name of ["roleArn", "policyArn", "topicArn", "secretId", "keyId", "stateMachineArn"]) {
    const value = named(name);
    if (value?.startsWith("arn:")) arns.push(value);
  }
  switch (service) {
    case "s3": {
      const bucket = named("bucketName");
      if (bucket) arns.push(`arn:${partition}:s3:::${bucket}${named("key") ? "/*" : ""}`);
      break;
    }
    case "lambda":
      asArn(named("functionName"), (fn) =>
        inAccount((acct) => `arn:${partition}:lambda:${region}:${acct}:function:${fn}`),
      );
      break;
    case "iam":
      asArn(named("userName"), (user) => inAccount((acct) => `arn:${partition}:iam::${acct}:user/${user}`));
      asArn(named("roleName"), (role) => inAccount((acct) => `arn:${partition}:iam::${acct}:role/${role}`));
      asArn(named("groupName"), (group) =>
        inAccount((acct) => `arn:${partition}:iam::${acct}:group/${group}`),
      );
      break;
    case "dynamodb":
      asArn(named("tableName"), (table) =>
        inAccount((acct) => `arn:${partition}:dynamodb:${region}:${acct}:table/${table}`),
      );
      break;
    case "sqs": {
      const queue = named("queueUrl")?.split("/").pop();
      if (queue) asArn(queue, (q) => inAccount((acct) => `arn:${partition}:sqs:${region}:${acct}:${q}`));
      break;
    }
    case "ecr":
      asArn(named("repositoryName"), (repo) =>
        inAccount((acct) => `arn:${partition}:ecr:${region}:${acct}:repository/${repo}`),
      );
      break;
    case "cloudformation":
      asArn(named("stackName"), (stack) =>
        inAccount((acct) => `arn:${partition}:cloudformation:${region}:${acct}:stack/${stack}/*`),
      );
      break;
    case "logs":
      asArn(named("logGroupName"), (group) =>
        inAccount((acct) => `arn:${partition}:logs:${region}:${acct}:log-group:${group}`),
      );
      break;
    case "ssm": {
      const names = [named("name"), ...stringList(parameters.names)];
      for (const name of names) {
        asArn(name, (parameter) =>
          inAccount(
            (acct) => `arn:${partition}:ssm:${region}:${acct}:parameter/${parameter.replace(/^\//, "")}`,
          ),
        );
      }
      break;
    }
    case "bedrock":
      asArn(named("modelId"), (model) => `arn:${partition}:bedrock:${region}::foundation-model/${model}`);
      break;
  }
  return arns;
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .slice(0, 20)
    .filter((item): item is string => typeof item === "string" && item.length > 0 && item.length <= MAX_NAME);
}
