/**
 * Azure and GCP static credentials found beside the AWS keys get their federated equivalents
 * (facts.md, GitHub Actions OIDC): azure/login@v2 with client-id/tenant-id/subscription-id and a
 * federated credential per sub; google-github-actions/auth with workload_identity_provider and
 * service_account. The ids are not secret, so the workflow reads them from repository variables the
 * setup script sets. google-github-actions/auth's current major is v3 (its issue tracker, 2026).
 */
import type { Pair, YAMLMap, YAMLSeq } from "yaml";
import { oneLine, shellQuote, shellQuoteReadable } from "./shell-words.js";
import type { PlanRepository, SubValue } from "./sub-claims.js";
import type { WorkflowEdits } from "./text-edits.js";
import { OIDC_PROVIDER_URL } from "./trust-policy.js";
import { isStaticSource } from "./workflow-scan.js";

export const AZURE_LOGIN = "azure/login@v2";
export const GCP_AUTH = "google-github-actions/auth@v3";
export const GCP_SETUP_GCLOUD = "google-github-actions/setup-gcloud@v3";
const AZURE_AUDIENCE = "api://AzureADTokenExchange";

export const AZURE_VARIABLES = {
  clientId: "AZURE_CLIENT_ID",
  tenantId: "AZURE_TENANT_ID",
  subscriptionId: "AZURE_SUBSCRIPTION_ID",
} as const;
export const GCP_VARIABLES = {
  provider: "GCP_WORKLOAD_IDENTITY_PROVIDER",
  serviceAccount: "GCP_SERVICE_ACCOUNT",
} as const;

const vars = (name: string) => `\${{ vars.${name} }}`;

/** Replaces a uses value and drops a trailing `# vN` comment that would now be wrong. */
export function replaceUses(edits: WorkflowEdits, usesNode: unknown, value: string): void {
  const range = (usesNode as { range?: [number, number, number] } | undefined)?.range;
  if (!range) return;
  const rest = edits.source.text.slice(range[1], edits.source.lineEndAfter(range[1]));
  const comment = /^[ \t]*#[ \t]*v?\d[^\r\n]*/.exec(rest);
  edits.replace(range[0], range[1] + (comment ? comment[0].length : 0), value);
}

/** azure/login with `creds` (a client secret inside) -> azure/login@v2 with federated ids. */
export function convertAzureLogin(edits: WorkflowEdits, step: YAMLMap): boolean {
  const { source } = edits;
  const withMap = source.map(source.get(step, "with"));
  const creds = source.pair(withMap, "creds");
  if (!withMap || !creds || !isStaticSource(source.string(creds.value))) return false;
  replaceUses(edits, source.pair(step, "uses")?.value, AZURE_LOGIN);
  const add: Array<[string, string]> = [];
  if (!source.pair(withMap, "client-id")) add.push(["client-id", vars(AZURE_VARIABLES.clientId)]);
  if (!source.pair(withMap, "tenant-id")) add.push(["tenant-id", vars(AZURE_VARIABLES.tenantId)]);
  if (!source.pair(withMap, "subscription-id"))
    add.push(["subscription-id", vars(AZURE_VARIABLES.subscriptionId)]);
  edits.rewriteMap(withMap, [creds], add);
  return true;
}

/** google-github-actions/auth with `credentials_json` -> workload identity federation. */
export function convertGcpAuth(edits: WorkflowEdits, step: YAMLMap): boolean {
  const { source } = edits;
  const withMap = source.map(source.get(step, "with"));
  const key = source.pair(withMap, "credentials_json");
  if (!withMap || !key || !isStaticSource(source.string(key.value))) return false;
  replaceUses(edits, source.pair(step, "uses")?.value, GCP_AUTH);
  const add: Array<[string, string]> = [["workload_identity_provider", vars(GCP_VARIABLES.provider)]];
  if (!source.pair(withMap, "service_account"))
    add.push(["service_account", vars(GCP_VARIABLES.serviceAccount)]);
  edits.rewriteMap(withMap, [key], add);
  return true;
}

/**
 * setup-gcloud with `service_account_key` (its v0 form): the key input goes, and an auth step
 * before it authenticates by federation; setup-gcloud then picks up those credentials.
 */
export function convertSetupGcloud(
  edits: WorkflowEdits,
  seq: YAMLSeq,
  item: unknown,
  step: YAMLMap,
  unit: number,
): boolean {
  const { source } = edits;
  const withMap = source.map(source.get(step, "with"));
  const key = source.pair(withMap, "service_account_key");
  if (!withMap || !key || !isStaticSource(source.string(key.value))) return false;
  const drop: Pair[] = [key];
  for (const name of ["export_default_credentials", "service_account_email"]) {
    const pair = source.pair(withMap, name);
    if (pair) drop.push(pair);
  }
  const keep = source.pairs(withMap).filter((pair) => !drop.includes(pair));
  if (keep.length === 0) {
    const withPair = source.pair(step, "with");
    if (withPair) edits.removePair(withPair);
  } else edits.rewriteMap(withMap, drop, []);
  replaceUses(edits, source.pair(step, "uses")?.value, GCP_SETUP_GCLOUD);
  const pad = " ".repeat(unit);
  edits.insertItemBefore(seq, item, [
    "name: Authenticate to Google Cloud (workload identity federation)",
    `uses: ${GCP_AUTH}`,
    "with:",
    `${pad}workload_identity_provider: ${vars(GCP_VARIABLES.provider)}`,
    `${pad}service_account: ${vars(GCP_VARIABLES.serviceAccount)}`,
  ]);
  return true;
}

function exactSubjects(subs: SubValue[]): { exact: string[]; patterns: string[] } {
  return {
    exact: subs.filter((sub) => sub.match === "StringEquals").map((sub) => sub.value),
    patterns: subs.filter((sub) => sub.match === "StringLike").map((sub) => sub.value),
  };
}

function slug(value: string): string {
  return value
    .replace(/[^A-Za-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 100);
}

/** az CLI commands: one federated credential per sub the Azure-using jobs present. */
export function azureSetupScript(repo: PlanRepository, subs: SubValue[], secretNames: string[]): string {
  const full = `${repo.owner}/${repo.name}`;
  const { exact, patterns } = exactSubjects(subs);
  const lines = [
    "#!/usr/bin/env bash",
    `# Azure: federated credentials for ${oneLine(full)}, replacing the client secret its workflows used.`,
    "# Review, then run with az and gh logged in. Nothing here deletes the secret: that is the last step.",
    "set -euo pipefail",
    "",
    `APP_ID="\${APP_ID:?set APP_ID to the application (client) id of the app registration the workflows log in as}"`,
    `TENANT_ID="\${TENANT_ID:?set TENANT_ID}"`,
    `SUBSCRIPTION_ID="\${SUBSCRIPTION_ID:?set SUBSCRIPTION_ID}"`,
    "",
  ];
  exact.forEach((subject, i) => {
    const parameters = JSON.stringify({
      name: slug(`github-${repo.name}-${i + 1}`),
      issuer: OIDC_PROVIDER_URL,
      subject,
      audiences: [AZURE_AUDIENCE],
    });
    lines.push(`az ad app federated-credential create --id "$APP_ID" --parameters ${shellQuote(parameters)}`);
  });
  for (const pattern of patterns) {
    lines.push(
      `# ${oneLine(pattern)}: Azure matches subjects exactly; add one credential per branch or tag this covers.`,
    );
  }
  lines.push(
    "",
    `gh variable set ${AZURE_VARIABLES.clientId} --repo ${shellQuote(full)} --body "$APP_ID"`,
    `gh variable set ${AZURE_VARIABLES.tenantId} --repo ${shellQuote(full)} --body "$TENANT_ID"`,
    `gh variable set ${AZURE_VARIABLES.subscriptionId} --repo ${shellQuote(full)} --body "$SUBSCRIPTION_ID"`,
    "",
    "# After a week of green runs: remove the client secret and the GitHub secret that held it.",
    '#   az ad app credential list --id "$APP_ID"',
    '#   az ad app credential delete --id "$APP_ID" --key-id KEY_ID',
    ...secretNames.map(
      (name) => `#   gh secret delete ${shellQuote(oneLine(name))} --repo ${shellQuote(full)}`,
    ),
    "",
  );
  return lines.join("\n");
}

/** gcloud commands: a workload identity pool/provider pinned to this repository, one binding per sub. */
export function gcpSetupScript(repo: PlanRepository, subs: SubValue[], secretNames: string[]): string {
  const full = `${repo.owner}/${repo.name}`;
  const { exact, patterns } = exactSubjects(subs);
  const condition =
    repo.repoId === undefined
      ? `assertion.repository == '${full}'`
      : `assertion.repository_id == '${repo.repoId}'`;
  const lines = [
    "#!/usr/bin/env bash",
    `# Google Cloud: workload identity federation for ${oneLine(full)}, replacing the service account key its workflows used.`,
    "# Review, then run with gcloud and gh logged in. Nothing here deletes the key: that is the last step.",
    "set -euo pipefail",
    "",
    `PROJECT_ID="\${PROJECT_ID:?set PROJECT_ID}"`,
    `SERVICE_ACCOUNT="\${SERVICE_ACCOUNT:?set SERVICE_ACCOUNT to the email of the service account whose key the workflows used}"`,
    `POOL="\${POOL:-github}"`,
    `PROVIDER="\${PROVIDER:-${slug(repo.name).toLowerCase().slice(0, 32) || "github"}}"`,
    `PROJECT_NUMBER="$(gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)')"`,
    "",
    'gcloud iam workload-identity-pools describe "$POOL" --project "$PROJECT_ID" --location global >/dev/null 2>&1 ||',
    '  gcloud iam workload-identity-pools create "$POOL" --project "$PROJECT_ID" --location global --display-name "GitHub Actions"',
    'gcloud iam workload-identity-pools providers create-oidc "$PROVIDER" --project "$PROJECT_ID" --location global \\',
    '  --workload-identity-pool "$POOL" \\',
    `  --issuer-uri "${OIDC_PROVIDER_URL}" \\`,
    '  --attribute-mapping "google.subject=assertion.sub,attribute.repository=assertion.repository,attribute.repository_id=assertion.repository_id" \\',
    `  --attribute-condition ${shellQuoteReadable(condition)}`,
    "",
  ];
  for (const subject of exact) {
    lines.push(
      'gcloud iam service-accounts add-iam-policy-binding "$SERVICE_ACCOUNT" --project "$PROJECT_ID" \\',
      "  --role roles/iam.workloadIdentityUser \\",
      // A subject with shell-special characters is single-quoted outside the expanding part.
      `  --member "principal://iam.googleapis.com/projects/\${PROJECT_NUMBER}/locations/global/workloadIdentityPools/\${POOL}/subject/${shellQuote(subject) === subject ? `${subject}"` : `"${shellQuote(subject)}`}`,
    );
  }
  for (const pattern of patterns) {
    lines.push(
      `# ${oneLine(pattern)}: a principal matches one subject exactly; add a binding per branch or tag this covers.`,
    );
  }
  lines.push(
    "",
    `gh variable set ${GCP_VARIABLES.provider} --repo ${shellQuote(full)} --body "projects/\${PROJECT_NUMBER}/locations/global/workloadIdentityPools/\${POOL}/providers/\${PROVIDER}"`,
    `gh variable set ${GCP_VARIABLES.serviceAccount} --repo ${shellQuote(full)} --body "$SERVICE_ACCOUNT"`,
    "",
    "# After a week of green runs: disable, then delete, the service account key; delete the GitHub secret.",
    '#   gcloud iam service-accounts keys list --iam-account "$SERVICE_ACCOUNT"',
    '#   gcloud iam service-accounts keys disable KEY_ID --iam-account "$SERVICE_ACCOUNT"',
    ...secretNames.map(
      (name) => `#   gh secret delete ${shellQuote(oneLine(name))} --repo ${shellQuote(full)}`,
    ),
    "",
  );
  return lines.join("\n");
}
