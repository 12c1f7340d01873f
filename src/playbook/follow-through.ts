/**
 * Follow-through, once a day (a schedule puts a task on the alert queue): for each contained incident
 * still open, is the key still inactive and unused since containment, and do the repository's
 * workflows still hold static AWS keys? The owners get a reminder in the incident's thread; once the
 * migration is verified and the key has been unused for DELETE_PROPOSAL_DAYS, it proposes deleting
 * the key. It never deletes anything itself (design.md: never delete a key automatically).
 */
import { errorMessage } from "../domain/errors.js";
import { type FollowThroughCheck, type Incident, isContained } from "../domain/incident.js";
import { planMigration } from "../oidc-plan/plan.js";
import type { StoredIncident } from "../ports.js";
import { incidentSaver } from "./incident-saver.js";
import type { PlaybookDeps } from "./respond.js";

const DAY_MS = 86_400_000;

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
  const repositories = deps.prevention?.repositories;
  if (incident.repository && repositories) {
    try {
      const snapshot = await repositories.load(incident.repository, incident.installationId);
      const plan = await planMigration({ repository: snapshot.repository, workflows: snapshot.workflows });
      staticUsesLeft = plan.findings.filter((finding) => finding.cloud === "aws").length;
    } catch (error: unknown) {
      problem = `the repository's workflows could not be read: ${errorMessage(error)}`;
    }
  }
  const days = Math.floor((now.getTime() - containedAt) / DAY_MS);
  const settled = status === "Inactive" && usedAfter === undefined && staticUsesLeft === 0;
  return {
    checkedAt: now.toISOString(),
    keyStatus: status ?? "missing",
    ...(usedAfter ? { usedAfterContainment: usedAfter } : {}),
    ...(staticUsesLeft === undefined ? {} : { staticUsesLeft }),
    daysSinceContainment: days,
    ...(settled && days >= options.deleteProposalDays ? { proposal: "delete-key" as const } : {}),
    ...(problem ? { problem } : {}),
  };
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
  if (check.proposal === "delete-key") {
    lines.push(
      `Proposal: the migration is verified and ${key} has been unused for ${check.daysSinceContainment} days. Delete it (this responder never deletes): aws iam delete-access-key --user-name ${user} --access-key-id ${key}`,
    );
  } else if (check.keyStatus === "Inactive" && check.staticUsesLeft === 0 && !check.usedAfterContainment) {
    lines.push(`Deletion will be proposed once the key has been unused for ${deleteProposalDays} days.`);
  }
  return lines;
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
      `Key ${check.keyStatus}${check.staticUsesLeft === undefined ? "" : `, ${check.staticUsesLeft} static key use(s) left in the workflows`}${check.proposal ? ", deletion proposed" : ""}`,
    );
  });
}
