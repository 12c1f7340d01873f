/**
 * Does a role's trust policy, as IAM has it, let GitHub's workflows of this one repository assume it
 * and nothing wider (facts.md, GitHub Actions OIDC: `StringEquals aud = sts.amazonaws.com` and a
 * pinned `sub`, never `repo:ORG/REPO:*`)? The follow-through asks it of each planned role before it
 * ticks "Create the role(s)" and before it proposes deleting the key: a role that trusts every
 * workflow of the repository (or of the organisation) is a new leak waiting to happen.
 */
import { stsAudience } from "./partitions.js";
import { isWildcardRepositorySub, OIDC_PROVIDER_HOST } from "./trust-policy.js";

export type TrustVerdict =
  | { state: "created" }
  | { state: "too-wide" | "not-this-repository"; detail: string };

const AUD_KEY = `${OIDC_PROVIDER_HOST}:aud`;
const SUB_KEY = `${OIDC_PROVIDER_HOST}:sub`;

interface Statement {
  Effect?: unknown;
  Principal?: unknown;
  Action?: unknown;
  Condition?: unknown;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function strings(value: unknown): string[] {
  return list(value).filter((item): item is string => typeof item === "string");
}

/** The values a condition operator gives one key (IAM compares condition keys case-insensitively). */
function conditionValues(condition: unknown, operator: string, key: string): string[] | undefined {
  if (typeof condition !== "object" || condition === null) return undefined;
  const block = (condition as Record<string, unknown>)[operator];
  if (typeof block !== "object" || block === null) return undefined;
  const entry = Object.entries(block).find(([name]) => name.toLowerCase() === key);
  return entry ? strings(entry[1]) : undefined;
}

function federatedPrincipals(principal: unknown): string[] {
  if (principal === "*") return ["*"];
  if (typeof principal !== "object" || principal === null) return [];
  return strings((principal as Record<string, unknown>).Federated);
}

function letsWebIdentityIn(statement: Statement): boolean {
  return strings(statement.Action).some(
    (action) => action === "*" || action === "sts:*" || action === "sts:AssumeRoleWithWebIdentity",
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `repo:OWNER/REPO:...`, or the ID form repositories created after 2026-07-15 present (facts.md). */
function namesRepository(sub: string, repository: string): boolean {
  const [owner = "", name = ""] = repository.split("/");
  const pattern = new RegExp(`^repo:${escapeRegExp(owner)}(@\\d+)?/${escapeRegExp(name)}(@\\d+)?:`, "i");
  return pattern.test(sub);
}

/**
 * The verdict on a trust policy document (JSON text). Only statements that let GitHub's provider in
 * are judged; one that lets anyone in, or GitHub's tokens without a pinned audience and subject,
 * makes the whole role too wide.
 */
export function judgeTrust(document: string, repository: string, accountId: string): TrustVerdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return { state: "not-this-repository", detail: "its trust policy could not be read" };
  }
  const statements = list((parsed as { Statement?: unknown } | null)?.Statement).filter(
    (statement): statement is Statement =>
      typeof statement === "object" && statement !== null && (statement as Statement).Effect === "Allow",
  );
  const github = statements.filter(
    (statement) =>
      letsWebIdentityIn(statement) &&
      federatedPrincipals(statement.Principal).some(
        (principal) => principal === "*" || principal.endsWith(`:oidc-provider/${OIDC_PROVIDER_HOST}`),
      ),
  );
  if (github.length === 0)
    return { state: "not-this-repository", detail: "it does not trust GitHub's OIDC provider" };
  const audience = stsAudience("aws");
  let other: string | undefined;
  for (const statement of github) {
    const principals = federatedPrincipals(statement.Principal);
    if (principals.includes("*")) return { state: "too-wide", detail: "it trusts any identity provider" };
    const aud = conditionValues(statement.Condition, "StringEquals", AUD_KEY);
    if (!aud || aud.length === 0 || aud.some((value) => value !== audience))
      return { state: "too-wide", detail: `its audience is not pinned to ${audience}` };
    const subs = [
      ...(conditionValues(statement.Condition, "StringEquals", SUB_KEY) ?? []),
      ...(conditionValues(statement.Condition, "StringLike", SUB_KEY) ?? []),
    ];
    if (subs.length === 0)
      return { state: "too-wide", detail: "it trusts every workflow: no sub condition pins a repository" };
    const wide = subs.find((sub) => isWildcardRepositorySub(sub));
    if (wide) return { state: "too-wide", detail: `it trusts ${wide}` };
    const elsewhere = subs.find((sub) => !namesRepository(sub, repository));
    if (elsewhere) other ??= `it trusts ${elsewhere}, not ${repository}`;
    const foreign = principals.find((principal) => !principal.includes(`:iam::${accountId}:`));
    if (foreign) other ??= `it trusts GitHub's provider in another account (${foreign})`;
  }
  return other ? { state: "not-this-repository", detail: other } : { state: "created" };
}
