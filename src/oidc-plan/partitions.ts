/**
 * AWS partitions: China (`cn-*`) and GovCloud (`us-gov-*`) regions live in their own partitions,
 * with their own accounts, ARNs (`arn:aws-cn:`, `arn:aws-us-gov:`) and IAM. In China the STS
 * audience GitHub's token must carry is `sts.amazonaws.com.cn` (aws-actions/configure-aws-credentials
 * README, "OIDC audience"); GovCloud keeps `sts.amazonaws.com`.
 */
import type { PolicyDocument } from "./trust-policy.js";
import type { ScannedJob, ScannedWorkflow } from "./workflow-scan.js";

export type Partition = "aws" | "aws-cn" | "aws-us-gov";

export function partitionOf(region: string): Partition {
  if (/^cn-/.test(region)) return "aws-cn";
  if (/^us-gov-/.test(region)) return "aws-us-gov";
  return "aws";
}

export function stsAudience(partition: Partition): string {
  return partition === "aws-cn" ? "sts.amazonaws.com.cn" : "sts.amazonaws.com";
}

/** The partition an ARN is written in. */
export function partitionOfArn(arn: string): Partition {
  const partition = /^arn:(aws[a-z-]*):/.exec(arn)?.[1];
  return partition === "aws-cn" || partition === "aws-us-gov" ? partition : "aws";
}

/**
 * The `audience:` input configure-aws-credentials needs for a role of this partition, or undefined
 * where its default (sts.amazonaws.com) is right.
 */
export function audienceInput(partition: Partition): string | undefined {
  const audience = stsAudience(partition);
  return audience === stsAudience("aws") ? undefined : audience;
}

export function describePartition(partition: Partition): string {
  if (partition === "aws-cn") return "AWS China (aws-cn)";
  if (partition === "aws-us-gov") return "AWS GovCloud (aws-us-gov)";
  return "AWS (aws)";
}

/** The same policy with every `arn:aws:` of its resources and principals in the given partition. */
export function inPartition(policy: PolicyDocument, partition: Partition): PolicyDocument {
  if (partition === "aws") return policy;
  return JSON.parse(JSON.stringify(policy).replace(/"arn:aws:/g, `"arn:${partition}:`)) as PolicyDocument;
}

const LITERAL_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const REGION_NAMES = ["AWS_REGION", "AWS_DEFAULT_REGION"];

/**
 * The region a job works in, when the workflow writes it down: the job's or workflow's env, a
 * step's env or `aws-region` input, or `aws configure set region` in a script.
 */
export function jobRegion(workflow: ScannedWorkflow, job: ScannedJob): string | undefined {
  const candidates: Array<string | undefined> = [];
  for (const name of REGION_NAMES) candidates.push(job.env[name], workflow.env[name]);
  for (const step of job.steps) {
    for (const name of REGION_NAMES) candidates.push(step.env[name]);
    candidates.push(step.with["aws-region"]);
    candidates.push(/\baws\s+configure\s+set\s+(?:default\.)?region\s+([\w-]+)/.exec(step.run ?? "")?.[1]);
  }
  return candidates.map((value) => value?.trim()).find((value) => value && LITERAL_REGION.test(value));
}
