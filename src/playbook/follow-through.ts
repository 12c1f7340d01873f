/**
 * Follow-through, once a day (a schedule puts a task on the alert queue): for each contained incident
 * still open, is the key still inactive and unused since containment, and do the repository's
 * workflows still hold static AWS keys? The owners get a reminder in the incident's thread; once the
 * migration is verified and the key has been unused for DELETE_PROPOSAL_DAYS, it proposes deleting
 * the key. It never deletes anything itself (design.md: never delete a key automatically). It also
 * checks that the repository secrets that held the key are gone (names only) and ticks what it has
 * verified on the incident's GitHub issue checklist.
 */
import { CHECKLIST } from "../adapters/github/incident-issue.js";
import { errorMessage } from "../domain/errors.js";
import { type FollowThroughCheck, type Incident, isContained } from "../domain/incident.js";
import { repositoryKeySecrets } from "../oidc-plan/key-secrets.js";
import { planMigration } from "../oidc-plan/plan.js";
import type { StoredIncident } from "../ports.js";
import { incidentSaver } from "./incident-saver.js";
import type { PlaybookDeps } from "./respond.js";

const DAY_MS = 86_400_000;
/** The names the issue's checklist asks to delete: checked when nothing tells which secrets held the key. */
const CONVENTIONAL_KEY_SECRETS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

export interface FollowThroughOptions {
  /** Days the key must stay unused, with the migration verified, before deletion is proposed. */
  deleteProposalDays: number;
}

export interface FollowThroughResult {
  checked: Array<{ id: string; check: FollowThroughCheck }>;
  /** Incidents that could not be checked this time, and why (tried again tomorrow). */
  failed: Array<{ id: string; error: string }>;
}

function isOpen(incident: Incident): boolean {
  return (
    isContained(incident.status) &&
    incident.mode === "enforce" &&
    incident.accessKeyId?.startsWith("AKIA") === true &&
    incident.location?.userName !== undefined &&
    incident.containment?.containedAt !== undefined &&
    incident.followThrough?.proposal !== "delete-key"
  );
}

export async function followThrough(
  deps: PlaybookDeps,
  options: FollowThroughOptions,
): Promise<FollowThroughResult> {
  const result: FollowThroughResult = { checked: [], failed: [] };
  const today = deps.clock.now().toISOString().slice(0, 10);
  for (const id of await deps.incidents.list()) {
    try {
      const stored = await deps.incidents.get(id);
      if (!stored || !isOpen(stored.incident)) continue;
      // Once a day per incident, whatever delivers the task twice (the queue is at-least-once).
      if (stored.incident.followThrough?.checkedAt.slice(0, 10) === today) continue;
      const check = await checkIncident(stored.incident, deps, options);
      const checklist = await tickVerifiedItems(stored.incident, check, deps);
      if (checklist) check.checklist = checklist;
      // Told before it is recorded: a run that dies between the two tells again, never not at all.
      await deps.notifier.remind?.(
        stored.incident,
        reminderLines(stored.incident, check, options.deleteProposalDays),
      );
      await record(stored, check, deps);
      result.checked.push({ id, check });
    } catch (error: unknown) {
      deps.log.warn("follow-through could not check an incident", {
        incidentId: id,
        error: errorMessage(error),
      });
      result.failed.push({ id, error: errorMessage(error) });
    }
  }
  if (result.checked.length > 0 || result.failed.length > 0) {
    await deps.notifier.announce?.(summaryLines(result)).catch((error: unknown) => {
      deps.log.warn("the follow-through summary was not posted", { error: errorMessage(error) });
    });
  }
  return result;
}

/** The day's summary for the channel: how many are open, and what needs a person. */
export function summaryLines(result: FollowThroughResult): string[] {
  const checks = result.checked.map((c) => c.check);
  const alerts = result.checked.filter(
    (c) => c.check.keyStatus === "Active" || c.check.usedAfterContainment !== undefined,
  );
  const lines = [`Follow-through: ${checks.length} open incident(s) checked.`];
  if (alerts.length > 0)
    lines.push(`ALERT: ${alerts.map((a) => a.id).join(", ")}: key reactivated or used after containment.`);
  const left = checks.filter((c) => (c.staticUsesLeft ?? 0) > 0).length;
  if (left > 0) lines.push(`${left} still have static AWS keys in their workflows.`);
  const secrets = checks.filter((c) => (c.secretsLeft?.length ?? 0) > 0).length;
  if (secrets > 0) lines.push(`${secrets} still have the key's repository secrets set.`);
  const proposals = checks.filter((c) => c.proposal === "delete-key").length;
  if (proposals > 0) lines.push(`${proposals} key(s) ready to delete (see each thread).`);
  if (result.failed.length > 0)
    lines.push(`${result.failed.length} could not be checked: ${result.failed.map((f) => f.id).join(", ")}.`);
  return lines;
}

async function checkIncident(
  incident: Incident,
  deps: PlaybookDeps,
  options: FollowThroughOptions,
): Promise<FollowThroughCheck> {
  const now = deps.clock.now();
  const accessKeyId = incident.accessKeyId ?? "";
  const userName = incident.location?.userName ?? "";
  const containedAt = Date.parse(incident.containment?.containedAt ?? "");
  const iam = await deps.directory.iamIn(incident.location?.accountId ?? "");
  const [status, owner] = await Promise.all([
    iam.keyStatus(userName, accessKeyId),
    iam.findKeyOwner(accessKeyId),
  ]);
  const lastUsed = owner?.lastUsed?.date;
  const usedAfter = lastUsed !== undefined && Date.parse(lastUsed) > containedAt ? lastUsed : undefined;
  let staticUsesLeft: number | undefined;
  let problem: string | undefined;
  // A migrated workflow no longer names the secrets it read: the names come from the plan and the
  // earlier checks as well as from today's workflows.
  const keySecrets = new Set([
    ...(incident.plan?.keySecrets ?? []),
    ...(incident.followThrough?.keySecrets ?? []),
  ]);
  let secretsLeft: string[] | undefined;
  let secretsUnknown: string | undefined;
  let secretsUnreadable = false;
  const repositories = deps.prevention?.repositories;
  if (incident.repository && repositories) {
    try {
      const snapshot = await repositories.load(incident.repository, incident.installationId);
      const plan = await planMigration({ repository: snapshot.repository, workflows: snapshot.workflows });
      staticUsesLeft = plan.findings.filter((finding) => finding.cloud === "aws").length;
      for (const name of repositoryKeySecrets(plan.findings)) keySecrets.add(name);
    } catch (error: unknown) {
      problem = `the repository's workflows could not be read: ${errorMessage(error)}`;
    }
    if (keySecrets.size === 0) for (const name of CONVENTIONAL_KEY_SECRETS) keySecrets.add(name);
    try {
      const answer = await repositories.secretNames(incident.repository, incident.installationId);
      if ("names" in answer) {
        // GitHub stores secret names upper-cased; workflows may spell them any way.
        const set = new Set(answer.names.map((name) => name.toUpperCase()));
        secretsLeft = [...keySecrets].filter((name) => set.has(name.toUpperCase()));
      } else {
        secretsUnknown = answer.unknown;
        secretsUnreadable = true;
      }
    } catch (error: unknown) {
      secretsUnknown = `the repository secrets could not be read: ${errorMessage(error)}`;
    }
  }
  const days = Math.floor((now.getTime() - containedAt) / DAY_MS);
  // Deleting the key is the one step nothing undoes, so it comes last: a key secret still set means a
  // person has not finished (another branch or an environment may still read it; the workflow check
  // sees the default branch only), and a read that failed today is tried again tomorrow. An App that
  // may not read secrets at all would otherwise hold an inactive, re-activatable key forever: then
  // the proposal is made, and says plainly that the secrets are for the person to check.
  const secretsSettled = secretsLeft?.length === 0 || (secretsLeft === undefined && secretsUnreadable);
  const settled = status === "Inactive" && usedAfter === undefined && staticUsesLeft === 0 && secretsSettled;
  return {
    checkedAt: now.toISOString(),
    keyStatus: status ?? "missing",
    ...(usedAfter ? { usedAfterContainment: usedAfter } : {}),
    ...(staticUsesLeft === undefined ? {} : { staticUsesLeft }),
    daysSinceContainment: days,
    ...(keySecrets.size > 0 ? { keySecrets: [...keySecrets] } : {}),
    ...(secretsLeft === undefined ? {} : { secretsLeft }),
    ...(secretsUnknown === undefined ? {} : { secretsUnknown }),
    ...(settled && days >= options.deleteProposalDays ? { proposal: "delete-key" as const } : {}),
    ...(problem ? { problem } : {}),
  };
}

/** The issue's checklist items this check has verified, in the issue's own words. */
export function verifiedChecklistItems(check: FollowThroughCheck): string[] {
  return [
    ...(check.staticUsesLeft === 0 ? [CHECKLIST.switchWorkflows] : []),
    ...(check.secretsLeft?.length === 0 ? [CHECKLIST.deleteSecrets] : []),
  ];
}

/**
 * Ticks the verified items on the incident's issue. The issue is a courtesy: whatever GitHub answers
 * is recorded on the check, never a reason to fail the follow-through.
 */
async function tickVerifiedItems(
  incident: Incident,
  check: FollowThroughCheck,
  deps: PlaybookDeps,
): Promise<FollowThroughCheck["checklist"]> {
  const tracker = deps.issues?.tracker;
  const items = verifiedChecklistItems(check);
  // A public repository's issue has no checklist (incident-issue.ts): nothing to read or tick.
  const hasChecklist =
    incident.repositoryVisibility === "private" || incident.repositoryVisibility === "internal";
  if (!incident.githubIssue || !incident.repository || !hasChecklist || !tracker?.updateChecklist) return;
  if (items.length === 0) return;
  try {
    const answer = await tracker.updateChecklist(
      {
        repository: incident.repository,
        ...(incident.installationId === undefined ? {} : { installationId: incident.installationId }),
      },
      incident.githubIssue.number,
      items,
    );
    return "ticked" in answer ? { ticked: answer.ticked } : { problem: answer.unavailable };
  } catch (error: unknown) {
    return { problem: errorMessage(error) };
  }
}

/** What the owners read in the thread: what holds, what is left, the one next step. */
export function reminderLines(
  incident: Incident,
  check: FollowThroughCheck,
  deleteProposalDays: number,
): string[] {
  const key = incident.accessKeyId ?? "the key";
  const user = incident.location?.userName ?? "its user";
  const lines = [`Follow-through, day ${check.daysSinceContainment} since ${key} was contained:`];
  if (check.keyStatus === "Active") {
    lines.push(
      `ALERT: ${key} is ACTIVE again. Someone reactivated it: deactivate it now unless that was deliberate.`,
    );
  } else if (check.keyStatus === "missing") {
    lines.push(`${key} no longer exists (deleted): nothing more to do for the key.`);
  } else {
    lines.push(`${key} is still inactive.`);
  }
  if (check.usedAfterContainment) {
    lines.push(`ALERT: IAM reports ${key} last used at ${check.usedAfterContainment}, after containment.`);
  }
  if (check.staticUsesLeft === undefined) {
    lines.push(
      check.problem ? `Workflows: not checked (${check.problem}).` : "Workflows: no repository to check.",
    );
  } else if (check.staticUsesLeft > 0) {
    lines.push(
      `Workflows: ${check.staticUsesLeft} step(s) in ${incident.repository} still use static AWS keys. Next: apply the OIDC plan${incident.plan ? ` (${incident.plan.location})` : ""}.`,
    );
  } else {
    lines.push(`Workflows: ${incident.repository} uses no static AWS keys any more.`);
  }
  lines.push(...secretLines(incident, check));
  if (check.checklist && "ticked" in check.checklist && check.checklist.ticked.length > 0) {
    lines.push(`Issue checklist: ticked ${check.checklist.ticked.map((item) => `"${item}"`).join(", ")}.`);
  } else if (check.checklist && "problem" in check.checklist) {
    lines.push(`Issue checklist: not updated (${check.checklist.problem}).`);
  }
  if (check.proposal === "delete-key") {
    lines.push(
      `Proposal: the migration is verified and ${key} has been unused for ${check.daysSinceContainment} days. Delete it (this responder never deletes): aws iam delete-access-key --user-name ${user} --access-key-id ${key}`,
    );
    if (check.secretsLeft === undefined && check.secretsUnknown) {
      lines.push(
        `Before you delete it: the repository secrets were NOT checked (${check.secretsUnknown}). Make sure ${secretWords(check)} are deleted from ${incident.repository} too.`,
      );
    }
  } else if (check.keyStatus === "Inactive" && check.staticUsesLeft === 0 && !check.usedAfterContainment) {
    lines.push(
      (check.secretsLeft?.length ?? 0) > 0
        ? `Deletion will be proposed once the secrets are deleted and the key has been unused for ${deleteProposalDays} days.`
        : `Deletion will be proposed once the key has been unused for ${deleteProposalDays} days.`,
    );
  }
  return lines;
}

function secretWords(check: FollowThroughCheck): string {
  return (check.keySecrets ?? CONVENTIONAL_KEY_SECRETS).join(", ");
}

/** Which of the key's repository secrets remain; environment and organisation secrets are not listed. */
function secretLines(incident: Incident, check: FollowThroughCheck): string[] {
  const notChecked = "Environment and organisation secrets of the same names were not checked.";
  if (check.secretsLeft === undefined) {
    return check.secretsUnknown ? [`Secrets: ${check.secretsUnknown}.`] : [];
  }
  if (check.secretsLeft.length > 0) {
    return [
      `Secrets: ${check.secretsLeft.join(", ")} still set in ${incident.repository}. Next, once no workflow reads them: ${check.secretsLeft.map((name) => `gh secret delete ${name} --repo ${incident.repository}`).join("; ")}.`,
      notChecked,
    ];
  }
  return [`Secrets: ${secretWords(check)} no longer set in ${incident.repository}.`, notChecked];
}

async function record(stored: StoredIncident, check: FollowThroughCheck, deps: PlaybookDeps): Promise<void> {
  let { incident, etag } = stored;
  const save = incidentSaver(
    deps,
    () => ({ incident, etag }),
    (next) => {
      ({ incident, etag } = next);
    },
  );
  await save((t, draft) => {
    draft.followThrough = check;
    t.record(
      "followed-through",
      check.keyStatus === "Active" || check.usedAfterContainment ? "failed" : "done",
      `Key ${check.keyStatus}${check.staticUsesLeft === undefined ? "" : `, ${check.staticUsesLeft} static key use(s) left in the workflows`}${check.secretsLeft === undefined ? "" : `, ${check.secretsLeft.length} key secret(s) left`}${check.proposal ? ", deletion proposed" : ""}`,
    );
  });
}
