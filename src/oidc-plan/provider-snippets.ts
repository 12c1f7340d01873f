/**
 * The IAM OIDC identity provider for GitHub Actions, three ways (CLI, CloudFormation, Terraform),
 * and the commands that create each role beside the IAM user. facts.md (GitHub Actions OIDC): URL
 * https://token.actions.githubusercontent.com, audience sts.amazonaws.com, no thumbprint needed.
 */

import { describePartition, type Partition, stsAudience } from "./partitions.js";
import { oneLine, shellQuote } from "./shell-words.js";
import { OIDC_PROVIDER_URL, providerArn } from "./trust-policy.js";

export function createProviderScript(accountId: string, partition: Partition = "aws"): string {
  const audience = stsAudience(partition);
  return [
    "#!/usr/bin/env bash",
    `# GitHub Actions' OIDC identity provider in ${describePartition(partition)} account ${oneLine(accountId)}: once per account, shared by every repository.`,
    "# No --thumbprint-list: AWS no longer needs one for this provider. Safe to run twice.",
    "set -euo pipefail",
    "",
    `ARN=${shellQuote(providerArn(accountId, partition))}`,
    'if aws iam get-open-id-connect-provider --open-id-connect-provider-arn "$ARN" >/dev/null 2>&1; then',
    '  echo "Provider already exists: $ARN"',
    `  aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn "$ARN" --client-id ${audience} 2>/dev/null || true`,
    "else",
    `  aws iam create-open-id-connect-provider --url ${OIDC_PROVIDER_URL} --client-id-list ${audience}`,
    "fi",
    "",
  ].join("\n");
}

export function providerCloudFormation(partition: Partition = "aws"): string {
  return [
    'AWSTemplateFormatVersion: "2010-09-09"',
    "Description: GitHub Actions OIDC identity provider (one per account; no thumbprint needed).",
    "Resources:",
    "  GitHubActionsOidcProvider:",
    "    Type: AWS::IAM::OIDCProvider",
    "    Properties:",
    `      Url: ${OIDC_PROVIDER_URL}`,
    "      ClientIdList:",
    `        - ${stsAudience(partition)}`,
    "Outputs:",
    "  ProviderArn:",
    "    Value: !Ref GitHubActionsOidcProvider",
    "",
  ].join("\n");
}

export function providerTerraform(partition: Partition = "aws"): string {
  return [
    "# GitHub Actions OIDC identity provider: one per account. thumbprint_list is omitted: AWS no longer",
    "# needs it, and current hashicorp/aws provider versions accept it being left out.",
    'resource "aws_iam_openid_connect_provider" "github_actions" {',
    `  url            = "${OIDC_PROVIDER_URL}"`,
    `  client_id_list = ["${stsAudience(partition)}"]`,
    "}",
    "",
  ].join("\n");
}

export interface RoleScriptInput {
  roleName: string;
  repository: string;
  context: string;
}

/** Creates the role and its inline policy; the IAM user and its keys are not touched. */
export function createRoleScript(role: RoleScriptInput): string {
  // The context is workflow text (a branch pattern, an environment name): data, never code.
  const context = oneLine(role.context);
  const name = shellQuote(role.roleName);
  return [
    "#!/usr/bin/env bash",
    `# Creates ${oneLine(role.roleName)} for ${oneLine(role.repository)} (${context}) beside the IAM user: nothing that`,
    "# runs today changes. Review permissions-policy.json first.",
    "set -euo pipefail",
    'cd "$(dirname "$0")"',
    "",
    `aws iam create-role --role-name ${name} \\`,
    "  --assume-role-policy-document file://trust-policy.json \\",
    "  --max-session-duration 3600 \\",
    `  --description ${shellQuote(`GitHub Actions OIDC role for ${oneLine(role.repository)} (${context})`)} \\`,
    `  --tags Key=managed-by,Value=leak-responder ${shellQuote(`Key=github-repository,Value=${role.repository}`)}`,
    `aws iam put-role-policy --role-name ${name} \\`,
    `  --policy-name ${shellQuote(`${role.roleName}-permissions`)} \\`,
    "  --policy-document file://permissions-policy.json",
    "",
  ].join("\n");
}

/** The roles as Terraform, reading the same JSON files the scripts use. */
export function rolesTerraform(roles: Array<{ roleName: string; slug: string }>): string {
  const blocks = roles.map((role) => {
    const id = role.slug.replace(/[^A-Za-z0-9_]/g, "_");
    return [
      `resource "aws_iam_role" "${id}" {`,
      `  name                 = "${role.roleName}"`,
      `  assume_role_policy   = file("\${path.module}/${role.slug}/trust-policy.json")`,
      "  max_session_duration = 3600",
      "}",
      "",
      `resource "aws_iam_role_policy" "${id}" {`,
      `  name   = "${role.roleName}-permissions"`,
      `  role   = aws_iam_role.${id}.id`,
      `  policy = file("\${path.module}/${role.slug}/permissions-policy.json")`,
      "}",
      "",
    ].join("\n");
  });
  return ["# The OIDC roles; the provider is in ../oidc-provider/terraform.tf.", "", ...blocks].join("\n");
}
