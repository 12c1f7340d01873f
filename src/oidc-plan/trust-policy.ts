/**
 * The role trust policy for GitHub's OIDC provider, and a small evaluator for it. facts.md (GitHub
 * Actions OIDC): always `StringEquals aud = sts.amazonaws.com` and a pinned `sub`, never
 * `repo:ORG/REPO:*` (design.md: Never). Exact subs and patterns go in separate statements because
 * conditions inside one statement are ANDed: a StringEquals and a StringLike on the same key would
 * require both, trusting nothing.
 */
import { type Partition, stsAudience } from "./partitions.js";
import type { SubValue } from "./sub-claims.js";

export const OIDC_PROVIDER_HOST = "token.actions.githubusercontent.com";
export const OIDC_PROVIDER_URL = `https://${OIDC_PROVIDER_HOST}`;
const AUD_KEY = `${OIDC_PROVIDER_HOST}:aud`;
const SUB_KEY = `${OIDC_PROVIDER_HOST}:sub`;

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: { Federated: string };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export function providerArn(accountId: string, partition: Partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${OIDC_PROVIDER_HOST}`;
}

export class UnsafeTrustError extends Error {
  override readonly name = "UnsafeTrustError";
}

/**
 * A sub that would let any workflow of the repository (or any repository) assume the role. Tag and
 * branch patterns are allowed, a wildcard that reaches the repository segment or the whole context
 * is not.
 */
export function isWildcardRepositorySub(value: string): boolean {
  if (!/[*?]/.test(value)) return false;
  const repo = /^repo:([^:]*)(?::(.*))?$/.exec(value);
  if (!repo) return /^[*?]/.test(value);
  const [, repoPart = "", rest] = repo;
  if (/[*?]/.test(repoPart)) return true;
  if (rest === undefined) return false;
  // `repo:O/R:*`, `repo:O/R:ref:*`, `repo:O/R:environment:*`: the context is not pinned.
  return (
    /^[*?]/.test(rest) ||
    /^(ref|environment):[*?]/.test(rest) ||
    /^ref:refs\/[*?]/.test(rest) ||
    // Every branch: as loose as the repository for anyone who can push.
    /^ref:refs\/heads\/[*?]*$/.test(rest)
  );
}

export function trustPolicy(
  accountId: string,
  subs: SubValue[],
  sidPrefix = "GitHubActions",
  partition: Partition = "aws",
): PolicyDocument {
  const audience = stsAudience(partition);
  if (subs.length === 0) throw new UnsafeTrustError("a trust policy needs at least one pinned sub");
  for (const sub of subs) {
    if (isWildcardRepositorySub(sub.value))
      throw new UnsafeTrustError(`refusing a wildcard sub: ${sub.value}`);
  }
  const statement = (
    sid: string,
    operator: "StringEquals" | "StringLike",
    values: string[],
  ): PolicyStatement => ({
    Sid: sid,
    Effect: "Allow",
    Principal: { Federated: providerArn(accountId, partition) },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition:
      operator === "StringEquals"
        ? { StringEquals: { [AUD_KEY]: audience, [SUB_KEY]: values } }
        : { StringEquals: { [AUD_KEY]: audience }, StringLike: { [SUB_KEY]: values } },
  });
  const exact = subs.filter((sub) => sub.match === "StringEquals").map((sub) => sub.value);
  const like = subs.filter((sub) => sub.match === "StringLike").map((sub) => sub.value);
  const statements: PolicyStatement[] = [];
  if (exact.length > 0) statements.push(statement(`${sidPrefix}Exact`, "StringEquals", exact));
  if (like.length > 0) statements.push(statement(`${sidPrefix}Pattern`, "StringLike", like));
  return { Version: "2012-10-17", Statement: statements };
}

export interface TokenClaims {
  aud: string;
  sub: string;
  /** Other claims by name, for condition keys such as `token.actions.githubusercontent.com:actor`. */
  [claim: string]: string;
}

/** IAM's StringLike: `*` any run of characters, `?` exactly one; case-sensitive. */
export function stringLike(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[\\s\\S]*")
    .replace(/\?/g, "[\\s\\S]");
  return new RegExp(`^${source}$`).test(value);
}

function claimFor(key: string, claims: TokenClaims): string | undefined {
  const prefix = `${OIDC_PROVIDER_HOST}:`;
  if (!key.startsWith(prefix)) return undefined;
  return claims[key.slice(prefix.length)];
}

function conditionHolds(condition: ConditionBlock | undefined, claims: TokenClaims): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const actual = claimFor(key, claims);
      if (actual === undefined) return false;
      const values = Array.isArray(expected) ? expected : [expected];
      let ok: boolean;
      if (operator === "StringEquals") ok = values.includes(actual);
      else if (operator === "StringLike") ok = values.some((pattern) => stringLike(pattern, actual));
      else throw new Error(`trustAllows does not evaluate the ${operator} operator`);
      if (!ok) return false;
    }
  }
  return true;
}

function actions(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/**
 * Would STS let a GitHub token with these claims assume the role? Explicit deny wins, then any
 * allow for sts:AssumeRoleWithWebIdentity from GitHub's provider whose conditions all hold.
 */
export function trustAllows(policy: PolicyDocument, claims: TokenClaims, accountId?: string): boolean {
  // GitHub's provider in the account (whatever the partition), or in any account when none is given.
  const provider = (federated: string) =>
    federated.endsWith(`:oidc-provider/${OIDC_PROVIDER_HOST}`) &&
    (accountId === undefined || /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(federated)?.[1] === accountId);
  const applies = (statement: PolicyStatement) =>
    actions(statement).some((action) => action === "sts:AssumeRoleWithWebIdentity" || action === "sts:*") &&
    (statement.Principal?.Federated === undefined || provider(statement.Principal.Federated)) &&
    conditionHolds(statement.Condition, claims);
  if (policy.Statement.some((statement) => statement.Effect === "Deny" && applies(statement))) return false;
  return policy.Statement.some((statement) => statement.Effect === "Allow" && applies(statement));
}
