/**
 * Playbook step 7, Prevent: the OIDC migration plan for the repository that leaked the key, from its
 * workflows, its settings and what the key actually did (the snapshot and the findings). The files
 * are stored beside the evidence; the incident keeps a summary. It runs after forensics and never
 * holds up containment.
 */
import type { PlanSummary } from "../domain/incident.js";
import { stepDone } from "../domain/incident.js";
import type { Findings } from "../forensics/findings.js";
import { missingRegions } from "../forensics/partial-snapshot.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import { repositoryKeySecrets } from "../oidc-plan/key-secrets.js";
import {
  type MigrationPlan,
  type PlanRepository,
  planMigration,
  type WorkflowFile,
} from "../oidc-plan/plan.js";
import type { EvidenceStore, StoredIncident } from "../ports.js";
import { incidentSaver } from "./incident-saver.js";
import type { PlaybookDeps } from "./respond.js";
import { storeOnce } from "./store-evidence.js";

/** The repository as the plan needs it: settings and workflow files (GitHub's contents API). */
export interface RepositoryReader {
  load(
    repository: string,
    installationId?: number,
  ): Promise<{
    repository: PlanRepository;
    workflows: WorkflowFile[];
    skipped: Array<{ path: string; reason: string }>;
  }>;
  /**
   * The names of the repository's Actions secrets (never values: GitHub returns none), or why they
   * cannot be told (the GitHub App lacks Secrets: read). The follow-through checks the key's are gone.
   */
  secretNames(repository: string, installationId?: number): Promise<RepositorySecretNames>;
  /** The same for one of its GitHub environments (a job with `environment:` reads those first). */
  environmentSecretNames(
    repository: string,
    environment: string,
    installationId?: number,
  ): Promise<RepositorySecretNames>;
}

export type RepositorySecretNames = { names: string[] } | { unknown: string };

export interface PreventionDeps {
  repositories: RepositoryReader;
  evidence: EvidenceStore;
}

export const PLAN_PREFIX = "plan";

export async function planPrevention(
  stored: StoredIncident,
  deps: PlaybookDeps & PreventionDeps,
  context: { findings?: Findings; events?: TrailEvent[] },
): Promise<{ stored: StoredIncident; plan?: MigrationPlan }> {
  let { incident, etag } = stored;
  if (!incident.repository || stepDone(incident, "planned")) return { stored };
  const started = deps.clock.now();
  const snapshot = await deps.repositories.load(incident.repository, incident.installationId);
  const plan = await planMigration({
    repository: snapshot.repository,
    workflows: snapshot.workflows,
    ...(incident.location?.accountId ? { accountId: incident.location.accountId } : {}),
    ...(incident.location?.userName ? { userName: incident.location.userName } : {}),
    ...(incident.accessKeyId ? { accessKeyId: incident.accessKeyId } : {}),
    ...(context.events ? { events: context.events } : {}),
    ...(context.findings ? { actionUses: context.findings.actions } : {}),
    ...(incident.leakedAt ? { leakedAt: incident.leakedAt } : {}),
    ...(incident.leakLocation?.path
      ? {
          leakLocations: [
            {
              path: incident.leakLocation.path,
              ...(incident.leakLocation.startLine ? { startLine: incident.leakLocation.startLine } : {}),
            },
          ],
        }
      : {}),
  });
  for (const file of plan.files) {
    await storeOnce(
      deps.evidence,
      incident.id,
      `${PLAN_PREFIX}/${file.path}`,
      Buffer.from(file.content),
      contentType(file.path),
    );
  }
  const summary: PlanSummary = {
    summary: firstParagraph(plan.summary),
    files: plan.files.map((f) => f.path),
    roles: plan.roles.map((r) => r.name),
    nothingToMigrate: plan.nothingToMigrate,
    keySecrets: repositoryKeySecrets(plan.findings),
    ...plannedEnvironments(plan),
    ...rolesElsewhere(plan),
    location: `incidents/${incident.id}/evidence/${PLAN_PREFIX}/`,
  };
  const skipped = snapshot.skipped.length ? `; ${snapshot.skipped.length} workflow file(s) unreadable` : "";
  const save = incidentSaver(
    deps,
    () => ({ incident, etag }),
    (next) => {
      ({ incident, etag } = next);
    },
  );
  await save((timeline, draft) => {
    draft.plan = summary;
    draft.warnings.push(...plan.warnings.map((w) => `Plan: ${w}`));
    const partial = draft.forensics?.partial;
    if (partial && context.events) {
      draft.warnings.push(
        `Plan: the role's permissions come from a PARTIAL snapshot (not read: ${missingRegions(partial).join(", ")}): an action the CI used only in what was not read is missing from them; watch the new role for AccessDenied after the switch.`,
      );
    }
    timeline.record(
      "planned",
      "done",
      plan.nothingToMigrate
        ? `No static cloud credential found in ${snapshot.workflows.length} workflow(s)${skipped}`
        : `${plan.findings.length} static credential use(s) in ${plan.workflows.filter((w) => w.changed).length} workflow(s); ${plan.roles.length} role(s) planned${skipped}`,
      started,
    );
  });
  return { stored: { incident, etag }, plan };
}

/** The GitHub environments the plan's roles serve: the follow-through checks their secrets too. */
export function plannedEnvironments(plan: MigrationPlan): { environments?: string[] } {
  const names = [
    ...new Set(
      plan.roles.flatMap((role) => (role.context.kind === "environment" ? [role.context.name] : [])),
    ),
  ];
  return names.length > 0 ? { environments: names } : {};
}

/** Roles planned in another partition than the key's account (partitions.ts): another account. */
function rolesElsewhere(plan: MigrationPlan): { rolesElsewhere?: string[] } {
  const names = plan.roles.filter((role) => role.partition !== "aws").map((role) => role.name);
  return names.length > 0 ? { rolesElsewhere: names } : {};
}

function contentType(path: string): string {
  if (path.endsWith(".json")) return "application/json";
  if (path.endsWith(".md")) return "text/markdown; charset=utf-8";
  if (path.endsWith(".yml") || path.endsWith(".yaml")) return "application/yaml";
  return "text/plain; charset=utf-8";
}

/** The plan's summary can be long; the incident and Slack get its first paragraph. */
function firstParagraph(markdown: string): string {
  const paragraph = markdown.split(/\n\s*\n/).find((p) => p.trim() && !p.trim().startsWith("#")) ?? markdown;
  return paragraph.trim().slice(0, 600);
}
