/**
 * What a person reads: the short summary, MIGRATION.md with the steps in a safe order (stand the
 * roles up beside the user, prove them on a test branch, switch one workflow at a time, deactivate
 * the user's keys after a week green, delete the user a week later: design.md never deletes
 * anything automatically), and the smoke-test workflow that proves each role.
 */
import { repositoryKeySecrets } from "./key-secrets.js";
import type { SetAsideCall } from "./observed-calls.js";
import { audienceInput, stsAudience } from "./partitions.js";
import type { PlanFinding, PlannedRole, PlannedWorkflow } from "./plan.js";
import { CONFIGURE_AWS_CREDENTIALS } from "./rewrite-workflow.js";
import { oneLine, shellQuote } from "./shell-words.js";
import type { PlanRepository } from "./sub-claims.js";
import type { ScannedWorkflow } from "./workflow-scan.js";

/** The branch the smoke test runs on while the roles temporarily trust it. */
export const TEST_BRANCH = "oidc-migration-test";
const MAX_SUMMARY_WARNINGS = 6;

function basename(path: string): string {
  return path.split("/").pop() ?? path;
}

function code(value: string): string {
  return `\`${value.replace(/`/g, "'")}\``;
}

function permissionsWording(role: PlannedRole): string {
  if (role.startingPoint) {
    return role.actions.length > 0
      ? `starting point to review (${role.actions.length} action${role.actions.length === 1 ? "" : "s"} from the workflow)`
      : "nothing known: add what the jobs need";
  }
  const fromWorkflow = role.actions.length - role.seenInCloudTrail.length;
  return [
    `${role.seenInCloudTrail.length} actions seen in CloudTrail`,
    ...(fromWorkflow > 0 ? [`${fromWorkflow} data calls from the workflow`] : []),
    ...(role.unscoped.length > 0 ? [`${role.unscoped.length} on any resource`] : []),
  ].join(", ");
}

export function planSummary(input: {
  repo: PlanRepository;
  findings: PlanFinding[];
  roles: PlannedRole[];
  scans: ScannedWorkflow[];
  warnings: string[];
  accountId: string;
  nothing: boolean;
}): string {
  const { repo, findings, roles, scans, warnings } = input;
  const full = `${repo.owner}/${repo.name}`;
  const lines = [`## OIDC migration plan for ${full}`, ""];
  if (input.nothing) {
    lines.push(
      `No static cloud credentials in the ${scans.length} workflow file(s) read: nothing to migrate.`,
    );
    return `${lines.join("\n")}\n`;
  }
  if (findings.length === 0) {
    const unread = scans.filter((scan) => scan.error).length;
    lines.push(
      `No static cloud credentials in the workflows that could be read, but ${unread} could not be: check them by hand.`,
    );
    for (const warning of warnings.slice(0, MAX_SUMMARY_WARNINGS)) lines.push(`- ${warning}`);
    return `${lines.join("\n")}\n`;
  }
  const affected = new Set(findings.map((finding) => finding.path));
  const manual = findings.filter((finding) => !finding.resolved);
  const clouds = [...new Set(findings.map((finding) => finding.cloud))].join(", ");
  lines.push(
    `**${findings.length} static credential reference(s)** (${clouds}) in **${affected.size} of ${scans.length} workflow(s)**; ` +
      `**${roles.length} role(s)** planned in account ${input.accountId}.`,
    "",
  );
  if (roles.length > 0) {
    lines.push("| Role | Trusted for | Jobs | Permissions |", "|---|---|---|---|");
    for (const role of roles) {
      const jobs = role.jobs.map((job) => {
        const [path = "", id = ""] = job.split("#");
        return `${basename(path)}:${id}`;
      });
      lines.push(
        `| ${code(role.name)} | ${role.description} | ${jobs.join(", ")} | ${permissionsWording(role)} |`,
      );
    }
    lines.push("");
  }
  const leaks = findings.filter((finding) => finding.leakLocation);
  for (const leak of leaks)
    lines.push(`- The alert points at ${code(`${leak.path}:${leak.line}`)} (${leak.name}).`);
  if (manual.length > 0) {
    lines.push(
      `- **${manual.length} reference(s) need a person**: listed in MIGRATION.md under "Left for a person".`,
    );
  } else {
    lines.push("- Every reference is removed by the rewritten workflows.");
  }
  for (const warning of warnings.slice(0, MAX_SUMMARY_WARNINGS)) lines.push(`- ${warning}`);
  if (warnings.length > MAX_SUMMARY_WARNINGS)
    lines.push(`- ...and ${warnings.length - MAX_SUMMARY_WARNINGS} more notes in MIGRATION.md.`);
  lines.push("", "Follow MIGRATION.md: roles first, a test branch, then one workflow at a time.");
  return `${lines.join("\n")}\n`;
}

/** Non-production contexts first: a mistake there costs least. */
function riskOrder(workflow: PlannedWorkflow, roles: PlannedRole[]): number {
  const contexts = roles.filter((role) => role.jobs.some((job) => job.startsWith(`${workflow.path}#`)));
  return contexts.some((role) => /prod|live|main|master|release|tag/i.test(`${role.slug}`)) ? 1 : 0;
}

export function migrationGuide(input: {
  repo: PlanRepository;
  summary: string;
  roles: PlannedRole[];
  findings: PlanFinding[];
  workflows: PlannedWorkflow[];
  accountId: string;
  warnings: string[];
  userName?: string;
  accessKeyId?: string;
  leakLocations?: Array<{ path: string; startLine?: number }>;
  hasAzure: boolean;
  hasGcp: boolean;
  evidence: boolean;
  setAside: SetAsideCall[];
}): string {
  const { repo, roles, findings } = input;
  const full = `${repo.owner}/${repo.name}`;
  const user = input.userName ?? "USER_NAME";
  // Names below come from workflows, the trail or the repository: one inert shell word each.
  const userWord = shellQuote(user);
  const repoWord = shellQuote(full);
  const out: string[] = [
    `# Moving ${full} from static keys to GitHub Actions OIDC`,
    "",
    input.summary.replace(/^## .*\n\n/, ""),
    "",
  ];

  out.push("## Where things stand", "");
  if (input.accessKeyId) {
    out.push(
      `- The leaked key ${code(input.accessKeyId)} of IAM user ${code(user)} is deactivated. Workflows that used it fail until they are switched (step 3): switch the deploying ones first.`,
    );
  }
  for (const location of input.leakLocations ?? []) {
    const inWorkflow = findings.some((finding) => finding.path === location.path);
    out.push(
      `- The alert's location: ${code(`${location.path}${location.startLine ? `:${location.startLine}` : ""}`)}${inWorkflow ? "" : " (not a workflow: remove the key from that file and from git history)"}.`,
    );
  }
  out.push(
    `- The IAM user ${code(user)} and any other keys it has are left alone until step 4: nothing in steps 1 to 3 can break what still works.`,
    "",
    "| Workflow | Line | Job | What | Fixed by the rewrite |",
    "|---|---|---|---|---|",
  );
  for (const finding of findings) {
    out.push(
      `| ${basename(finding.path)} | ${finding.line} | ${finding.job ?? "(workflow)"} | ${finding.kind}: ${code(finding.name)}${finding.literal ? " (written in the file)" : ""} | ${finding.resolved ? "yes" : "**no**"} |`,
    );
  }
  out.push("");

  out.push("## 1. Stand up the roles beside the user", "");
  out.push(
    "1. The identity provider, once per account: `bash oidc-provider/create-provider.sh` (or `oidc-provider/cloudformation.yml`, `oidc-provider/terraform.tf`).",
    "2. Read each role's `permissions-policy.json`, then create it: `bash roles/<role>/create-role.sh` (or `roles/terraform.tf`).",
    "",
  );
  for (const role of roles) {
    out.push(
      `### ${role.name}`,
      "",
      `Trusted for ${role.description}; assumed by ${role.jobs.map((job) => code(job)).join(", ")}.`,
      "",
    );
    out.push(`Trusted \`sub\` values (with \`aud\` = \`${stsAudience(role.partition)}\`):`, "");
    for (const sub of role.subs)
      out.push(`- ${code(sub.value)}${sub.match === "StringLike" ? " (pattern)" : ""}`);
    if (role.startingPoint) {
      out.push(
        "",
        "**No CloudTrail evidence was given: `permissions-policy.json` is a starting point built from the workflow's commands. Review it before use.**",
      );
    }
    if (role.unscoped.length > 0)
      out.push(
        "",
        `On any resource (no event named one; narrow them): ${role.unscoped.map(code).join(", ")}.`,
      );
    if (role.withheld.length > 0) {
      out.push(
        "",
        `Not granted (the key used them only on other contexts' resources): ${role.withheld.map(code).join(", ")}.`,
      );
    }
    for (const dropped of role.dropped) out.push("", `Dropped ${code(dropped.action)}: ${dropped.reason}.`);
    out.push("");
  }
  const aside = input.setAside.filter((call) => call.reason !== "not-an-api-call");
  if (aside.length > 0) {
    out.push("Calls in the snapshot that were not turned into permissions:", "");
    for (const call of aside)
      out.push(`- ${code(`${call.service}:${call.action}`)} x${call.count}: ${call.reason}`);
    out.push("");
  }
  if (input.evidence) {
    out.push(
      "CloudTrail's event history holds management events only: S3 object reads and writes, Lambda invocations and other data events never appear in it. Statements whose Sid ends in `Review` were added from the workflows' commands to cover them.",
      "",
    );
  }

  out.push("## 2. Prove it on a test branch", "");
  out.push(
    `1. Let the test branch assume each role for now: \`aws iam update-assume-role-policy --role-name ROLE --policy-document file://roles/<role>/trust-policy.test-branch.json\`.`,
    `2. \`git switch -c ${TEST_BRANCH}\`, copy \`workflows/oidc-smoke-test.yml\` to \`.github/workflows/\`, push. Each job prints the \`sub\` it presents and runs \`aws sts get-caller-identity\` as the role.`,
    "3. Restore the pinned trust: `aws iam update-assume-role-policy --role-name ROLE --policy-document file://roles/<role>/trust-policy.json`; delete the branch.",
    "",
  );

  out.push("## 3. Switch one workflow at a time", "");
  const changed = input.workflows
    .filter((workflow) => workflow.changed)
    .sort((a, b) => riskOrder(a, roles) - riskOrder(b, roles));
  changed.forEach((workflow, i) => {
    const name = basename(workflow.path).replace(/\.ya?ml$/, "");
    out.push(
      `${i + 1}. ${code(workflow.path)}: ${code(`git apply ${shellQuote(`workflows/${name}.diff`)}`)} (or copy ${code(`workflows/${basename(workflow.path)}`)}) in its own pull request, merge, and watch the next run. CloudTrail now names the run in the role session name. To roll back, revert that pull request.`,
    );
  });
  out.push(
    "",
    `The rewritten steps use ${code(CONFIGURE_AWS_CREDENTIALS)} with \`role-to-assume\`, and each job that assumes a role gets \`id-token: write\` beside the token scopes it already had (its steps' GHCR pushes and releases included).`,
    "",
  );
  const manual = findings.filter((finding) => !finding.resolved);
  if (manual.length > 0) {
    out.push("### Left for a person", "");
    for (const finding of manual) {
      out.push(
        `- ${basename(finding.path)}:${finding.line} ${finding.job ?? ""} ${code(finding.name)}: ${finding.note ?? "the rewrite could not remove it safely"}`,
      );
    }
    out.push("");
  }
  if (input.hasAzure)
    out.push("Azure: run `azure/setup-federated-credentials.sh` before switching the Azure workflows.", "");
  if (input.hasGcp)
    out.push("Google Cloud: run `gcp/setup-workload-identity.sh` before switching the GCP workflows.", "");

  out.push("## 4. After a week of green runs: deactivate the remaining keys, delete the secrets", "");
  out.push(
    "```bash",
    `aws iam list-access-keys --user-name ${userWord}`,
    `aws iam update-access-key --user-name ${userWord} --access-key-id KEY_ID --status Inactive   # each remaining key`,
  );
  const secrets = repositoryKeySecrets(findings);
  // A secret is deleted only when nothing reads it any more: a use the rewrite left keeps it.
  const stillRead = new Map<string, PlanFinding[]>();
  for (const name of secrets) {
    const left = findings.filter(
      (finding) =>
        !finding.resolved && finding.secretNames.some((used) => used.toUpperCase() === name.toUpperCase()),
    );
    if (left.length > 0) {
      stillRead.set(name, left);
      out.push(`# not yet: ${oneLine(name)} is still read by the uses listed below this block`);
      continue;
    }
    out.push(`gh secret delete ${shellQuote(name)} --repo ${repoWord}`);
    // A job with an environment may read an environment secret of the same name.
    const jobs = findings
      .filter((finding) => finding.secretNames.includes(name))
      .map((finding) => `${finding.path}#${finding.job}`);
    const environments = roles
      .filter((role) => role.context.kind === "environment" && role.jobs.some((job) => jobs.includes(job)))
      .map((role) => (role.context.kind === "environment" ? role.context.name : ""));
    for (const env of new Set(environments)) {
      out.push(
        `gh secret delete ${shellQuote(name)} --repo ${repoWord} --env ${shellQuote(env)}   # if it is an environment secret`,
      );
    }
  }
  out.push("```", "");
  for (const [name, left] of stillRead) {
    out.push(
      `Keep the secret ${code(name)}: it is still read where the rewrite could not change it. Move these uses to the role's credentials first, then delete it:`,
      "",
    );
    for (const finding of left)
      out.push(
        `- ${basename(finding.path)}:${finding.line}${finding.job ? ` (job ${finding.job})` : ""}: ${code(finding.name)}`,
      );
    out.push("");
  }
  if (input.hasAzure || input.hasGcp) {
    out.push(
      "Azure and Google Cloud: the last lines of their setup scripts remove the client secret and the key.",
      "",
    );
  }

  out.push("## 5. After another week: delete the user", "");
  out.push(
    "Nothing here is automatic: a deactivated key can be reactivated, a deleted user cannot come back.",
    "",
    "```bash",
    `aws iam list-attached-user-policies --user-name ${userWord}   # detach each: aws iam detach-user-policy`,
    `aws iam list-user-policies --user-name ${userWord}            # delete each: aws iam delete-user-policy`,
    `aws iam list-groups-for-user --user-name ${userWord}          # remove: aws iam remove-user-from-group`,
    `aws iam list-access-keys --user-name ${userWord}              # delete each: aws iam delete-access-key`,
    `aws iam delete-login-profile --user-name ${userWord} 2>/dev/null || true`,
    `aws iam delete-user --user-name ${userWord}`,
    "```",
    "",
  );
  if (input.warnings.length > 0) {
    out.push("## Notes", "");
    for (const warning of input.warnings) out.push(`- ${warning}`);
    out.push("");
  }
  return out.join("\n");
}

/** One job per role: prints the sub it presents, assumes the role, asks STS who it is. */
export function smokeTestWorkflow(roles: PlannedRole[], region: string): string {
  const lines = [
    "# Proves each OIDC role before any real workflow switches (MIGRATION.md, step 2). It runs on the",
    `# ${TEST_BRANCH} branch while the roles temporarily trust it (trust-policy.test-branch.json).`,
    "name: OIDC smoke test",
    "on:",
    "  push:",
    `    branches: [${TEST_BRANCH}]`,
    "  workflow_dispatch:",
    "permissions: {}",
    "jobs:",
  ];
  for (const role of roles) {
    const id = `assume-${role.slug}`.replace(/[^A-Za-z0-9_-]/g, "-");
    const audience = stsAudience(role.partition);
    const audienceLine = audienceInput(role.partition);
    lines.push(
      `  ${id}:`,
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      id-token: write",
      "      contents: read",
      "    steps:",
      "      - name: Show the sub claim this job presents",
      "        run: |",
      `          token="$(curl -sSf -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=${audience}" | jq -r .value)"`,
      `          node -e 'console.log(JSON.parse(Buffer.from(process.argv[1].split(".")[1], "base64url")).sub)' "$token"`,
      `      - uses: ${CONFIGURE_AWS_CREDENTIALS}`,
      "        with:",
      `          role-to-assume: ${role.arn}`,
      `          role-session-name: oidc-smoke-\${{ github.run_id }}`,
      `          aws-region: ${role.partition === "aws" ? region : role.region}`,
      ...(audienceLine ? [`          audience: ${audienceLine}`] : []),
      "      - run: aws sts get-caller-identity",
    );
  }
  return `${lines.join("\n")}\n`;
}
