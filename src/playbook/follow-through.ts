/**
 * Follow-through, once a day (a schedule puts a task on the investigation queue): for each contained incident
 * still open, is the key still inactive and unused since containment, and do the repository's
 * workflows still hold static AWS keys? The owners get a reminder in the incident's thread; once the
 * migration is verified and the key has been unused for DELETE_PROPOSAL_DAYS, it proposes deleting
 * the key. It never deletes anything itself (design.md: never delete a key automatically). It also
 * checks that the repository secrets that held the key are gone (names only), that the plan's OIDC
 * roles and GitHub's provider exist in the key's account with the planned trust (oidc-roles-check.ts),
 * and ticks what it has verified on the incident's GitHub issue checklist.
 *
 * Hundreds of open incidents do not fit in one invocation: past the deadline it stops and hands the
 * rest to a fresh run (investigation-stage.ts) with the day's counts, and the last part posts the one
 * summary for the day.
 */
import { CHECKLIST } from "../adapters/github/incident-issue.js";
import { errorMessage } from "../domain/errors.js";
import { type FollowThroughCheck, type Incident, isContained } from "../domain/incident.js";
import type { FollowThroughProgress, FollowThroughTally } from "../domain/stage-task.js";
import { repositoryKeySecrets } from "../oidc-plan/key-secrets.js";
import { planMigration } from "../oidc-plan/plan.js";
import type { StoredIncident } from "../ports.js";
import { incidentSaver } from "./incident-saver.js";
import { checkOidcRoles, oidcLines, oidcVerified, rolesAsPlanned } from "./oidc-roles-check.js";
import { plannedEnvironments, type RepositoryReader } from "./prevent.js";
import type { PlaybookDeps } from "./respond.js";

const DAY_MS = 86_400_000;
/** The names the issue's checklist asks to delete: checked when nothing tells which secrets held the key. */
const CONVENTIONAL_KEY_SECRETS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
/** Incident ids the summary names on one line; the rest are counted. */
const SUMMARY_IDS = 20;
/** Environments whose secrets one check lists: a repository's deploy targets, not its every branch. */
const MAX_ENVIRONMENTS = 10;

export interface FollowThroughOptions {
  /** Days the key must stay unused, with the migration verified, before deletion is proposed. */
  deleteProposalDays: number;
  /** Start no incident after this time (ms since epoch, as Date.now()); the rest go to a fresh run. */
  deadline?: number;
  /** Where an earlier part of the same day's run stopped, with its counts. */
  resume?: FollowThroughProgress;
}

export interface FollowThroughResult {
  checked: Array<{ id: string; check: FollowThroughCheck }>;
  /** Incidents that could not be checked this time, and why (tried again tomorrow). */
  failed: Array<{ id: string; error: string }>;
  /** Set when the deadline stopped this part: the next part carries on from here and posts the summary. */
  continueFrom?: FollowThroughProgress;
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
  const startedAt = deps.clock.now().toISOString();
  const today = startedAt.slice(0, 10);
  const tally = options.resume ? structuredClone(options.resume.tally) : emptyTally(startedAt);
  const after = options.resume?.after;
  // Sorted here, whatever the store does: the cursor is a place in this order.
  const ids = (await deps.incidents.list()).sort().filter((id) => after === undefined || id > after);
  for (const [index, id] of ids.entries()) {
    // One incident at least per part, so that every hand-over moves on.
    const previous = ids[index - 1];
    if (previous !== undefined && options.deadline !== undefined && Date.now() >= options.deadline) {
      result.continueFrom = { after: previous, part: (options.resume?.part ?? 0) + 1, tally };
      return result;
    }
    try {
      const stored = await deps.incidents.get(id);
      if (!stored || !isOpen(stored.incident)) continue;
      // Once a day per incident, whatever delivers the task twice (the queue is at-least-once). One
      // checked by an attempt of this part that failed to hand over is counted, not checked again (the
      // first part's retry starts a new run, so its summary leaves those out).
      const last = stored.incident.followThrough;
      if (last?.checkedAt.slice(0, 10) === today) {
        if (last.checkedAt > tally.since) count(tally, id, last);
        continue;
      }
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
      count(tally, id, check);
    } catch (error: unknown) {
      deps.log.warn("follow-through could not check an incident", {
        incidentId: id,
        error: errorMessage(error),
      });
      result.failed.push({ id, error: errorMessage(error) });
      tally.failed.push(id);
    }
  }
  if (tally.checked > 0 || tally.failed.length > 0) {
    await deps.notifier.announce?.(summaryLines(tally)).catch((error: unknown) => {
      deps.log.warn("the follow-through summary was not posted", { error: errorMessage(error) });
    });
  }
  return result;
}

function emptyTally(since: string): FollowThroughTally {
  return {
    since,
    checked: 0,
    alerts: [],
    staticKeysLeft: 0,
    secretsLeft: 0,
    rolesToCreate: 0,
    rolesWrong: [],
    proposals: 0,
    failed: [],
  };
}

/** Adds one incident's check to the day's counts. */
function count(tally: FollowThroughTally, id: string, check: FollowThroughCheck): void {
  tally.checked += 1;
  if (check.keyStatus === "Active" || check.usedAfterContainment !== undefined) tally.alerts.push(id);
  if ((check.staticUsesLeft ?? 0) > 0) tally.staticKeysLeft += 1;
  if ((check.secretsLeft?.length ?? 0) > 0 || (check.environmentSecretsLeft?.length ?? 0) > 0)
    tally.secretsLeft += 1;
  const roles = check.oidcRoles ?? [];
  if (roles.some((role) => role.state === "too-wide" || role.state === "not-this-repository"))
    tally.rolesWrong.push(id);
  else if (check.oidcProvider !== undefined && check.oidcProvider !== "created") tally.rolesToCreate += 1;
  else if (roles.some((role) => role.state === "missing")) tally.rolesToCreate += 1;
  if (check.proposal === "delete-key") tally.proposals += 1;
}

/** The day's summary for the channel: how many are open, and what needs a person. */
export function summaryLines(tally: FollowThroughTally): string[] {
  const lines = [`Follow-through: ${tally.checked} open incident(s) checked.`];
  if (tally.alerts.length > 0)
    lines.push(`ALERT: ${idList(tally.alerts)}: key reactivated or used after containment.`);
  if (tally.rolesWrong.length > 0)
    lines.push(
      `WARNING: ${idList(tally.rolesWrong)}: an OIDC role's trust is not pinned to its repository's workflows (see each thread).`,
    );
  if (tally.staticKeysLeft > 0)
    lines.push(`${tally.staticKeysLeft} still have static AWS keys in their workflows.`);
  if (tally.rolesToCreate > 0)
    lines.push(`${tally.rolesToCreate} still need their OIDC role(s) or GitHub's OIDC provider created.`);
  if (tally.secretsLeft > 0)
    lines.push(`${tally.secretsLeft} still have the key's repository or environment secrets set.`);
  if (tally.proposals > 0) lines.push(`${tally.proposals} key(s) ready to delete (see each thread).`);
  if (tally.failed.length > 0)
    lines.push(`${tally.failed.length} could not be checked: ${idList(tally.failed)}.`);
  return lines;
}

/** Incident ids a person can read in one message: a bad day's hundreds are counted, not listed. */
function idList(ids: string[]): string {
  const shown = ids.slice(0, SUMMARY_IDS);
  return ids.length > shown.length
    ? `${shown.join(", ")} and ${ids.length - shown.length} more`
    : shown.join(", ");
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
  const [status, owner, oidc] = await Promise.all([
    iam.keyStatus(userName, accessKeyId),
    iam.findKeyOwner(accessKeyId),
    checkOidcRoles(iam, incident),
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
  const environments = new Set([
    ...(incident.plan?.environments ?? []),
    ...(incident.followThrough?.environments ?? []),
  ]);
  let secretsLeft: string[] | undefined;
  let secretsUnknown: string | undefined;
  let secretsUnreadable = false;
  let inEnvironments: EnvironmentSecrets = { settled: true };
  const repositories = deps.prevention?.repositories;
  if (incident.repository && repositories) {
    try {
      const snapshot = await repositories.load(incident.repository, incident.installationId);
      const plan = await planMigration({ repository: snapshot.repository, workflows: snapshot.workflows });
      staticUsesLeft = plan.findings.filter((finding) => finding.cloud === "aws").length;
      for (const name of repositoryKeySecrets(plan.findings)) keySecrets.add(name);
      for (const name of plannedEnvironments(plan).environments ?? []) environments.add(name);
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
    inEnvironments = await environmentSecrets(repositories, incident, [...environments], keySecrets);
  }
  const days = Math.floor((now.getTime() - containedAt) / DAY_MS);
  // Deleting the key is the one step nothing undoes, so it comes last: a key secret still set means a
  // person has not finished (another branch or an environment may still read it; the workflow check
  // sees the default branch only), and a read that failed today is tried again tomorrow. An App that
  // may not read secrets at all would otherwise hold an inactive, re-activatable key forever: then
  // the proposal is made, and says plainly that the secrets are for the person to check.
  const secretsSettled =
    (secretsLeft?.length === 0 || (secretsLeft === undefined && secretsUnreadable)) && inEnvironments.settled;
  // The same for the roles: the workflows need them before the key goes, and AWS refusing to show
  // them (a member role not updated yet) is said plainly rather than holding the key forever.
  const { unreadable: oidcUnreadable, ...oidcFound } = oidc;
  const nothingToCheck = oidcFound.oidcRoles === undefined && oidcFound.oidcUnknown === undefined;
  const rolesSettled = nothingToCheck || oidcVerified(oidcFound) || oidcUnreadable === true;
  const settled =
    status === "Inactive" &&
    usedAfter === undefined &&
    staticUsesLeft === 0 &&
    secretsSettled &&
    rolesSettled;
  return {
    checkedAt: now.toISOString(),
    keyStatus: status ?? "missing",
    ...(usedAfter ? { usedAfterContainment: usedAfter } : {}),
    ...(staticUsesLeft === undefined ? {} : { staticUsesLeft }),
    daysSinceContainment: days,
    ...(keySecrets.size > 0 ? { keySecrets: [...keySecrets] } : {}),
    ...(secretsLeft === undefined ? {} : { secretsLeft }),
    ...(secretsUnknown === undefined ? {} : { secretsUnknown }),
    ...(environments.size > 0 ? { environments: [...environments].slice(0, MAX_ENVIRONMENTS) } : {}),
    ...inEnvironments.found,
    ...oidcFound,
    ...(settled && days >= options.deleteProposalDays ? { proposal: "delete-key" as const } : {}),
    ...(problem ? { problem } : {}),
  };
}

interface EnvironmentSecrets {
  found?: Pick<FollowThroughCheck, "environmentSecretsLeft" | "environmentSecretsUnknown">;
  /** None of the key's secrets left in any environment, or GitHub will never say (no Secrets: read). */
  settled: boolean;
}

/**
 * The key's secret names in each environment its jobs run in (names only): a job with `environment:`
 * reads the environment's secret before the repository's, so a copy of the key there outlives the
 * repository secret's deletion.
 */
async function environmentSecrets(
  repositories: RepositoryReader,
  incident: Incident,
  environments: string[],
  keySecrets: Set<string>,
): Promise<EnvironmentSecrets> {
  if (environments.length === 0 || !incident.repository) return { settled: true };
  const repository = incident.repository;
  const checked = environments.slice(0, MAX_ENVIRONMENTS);
  try {
    const answers = await Promise.all(
      checked.map((environment) =>
        repositories.environmentSecretNames(repository, environment, incident.installationId),
      ),
    );
    const left: Array<{ environment: string; names: string[] }> = [];
    let unknown: string | undefined;
    for (const [i, answer] of answers.entries()) {
      const environment = checked[i] ?? "";
      if (!("names" in answer)) {
        unknown = answer.unknown;
        continue;
      }
      const set = new Set(answer.names.map((name) => name.toUpperCase()));
      const names = [...keySecrets].filter((name) => set.has(name.toUpperCase()));
      if (names.length > 0) left.push({ environment, names });
    }
    return {
      found: {
        environmentSecretsLeft: left,
        ...(unknown === undefined ? {} : { environmentSecretsUnknown: unknown }),
      },
      settled: left.length === 0,
    };
  } catch (error: unknown) {
    return {
      found: {
        environmentSecretsUnknown: `the environment secrets could not be read: ${errorMessage(error)}`,
      },
      settled: false,
    };
  }
}

/** The issue's checklist items this check has verified, in the issue's own words. */
export function verifiedChecklistItems(check: FollowThroughCheck): string[] {
  return [
    ...(check.oidcProvider === "created" ? [CHECKLIST.createProvider] : []),
    ...(rolesAsPlanned(check) ? [CHECKLIST.createRoles] : []),
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
  lines.push(...oidcLines(incident, check));
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
    if (check.environmentSecretsUnknown && check.environments) {
      lines.push(
        `Before you delete it: the secrets of environment(s) ${check.environments.join(", ")} were NOT all checked. Make sure ${secretWords(check)} are deleted from them too.`,
      );
    }
    if (check.oidcUnknown) {
      lines.push(
        `Before you delete it: the OIDC roles were NOT checked. Make sure ${incident.plan?.roles.join(", ")} exist and the workflows run with them.`,
      );
    }
  } else if (check.keyStatus === "Inactive" && check.staticUsesLeft === 0 && !check.usedAfterContainment) {
    const waitingFor = [
      ...((check.secretsLeft?.length ?? 0) > 0 || (check.environmentSecretsLeft?.length ?? 0) > 0
        ? ["the secrets are deleted"]
        : []),
      ...(check.oidcRoles && !oidcVerified(check) ? ["the OIDC roles are created as planned"] : []),
    ];
    const all = [...waitingFor, `the key has been unused for ${deleteProposalDays} days`];
    lines.push(
      `Deletion will be proposed once ${[all.slice(0, -1).join(", "), all.at(-1)].filter(Boolean).join(" and ")}.`,
    );
  }
  return lines;
}

function secretWords(check: FollowThroughCheck): string {
  return (check.keySecrets ?? CONVENTIONAL_KEY_SECRETS).join(", ");
}

/** Which of the key's repository and environment secrets remain; organisation secrets are not listed. */
function secretLines(incident: Incident, check: FollowThroughCheck): string[] {
  const notChecked = check.environments
    ? "Organisation secrets of the same names were not checked."
    : "Environment and organisation secrets of the same names were not checked.";
  if (check.secretsLeft === undefined) {
    return [
      ...(check.secretsUnknown ? [`Secrets: ${check.secretsUnknown}.`] : []),
      ...environmentSecretLines(incident, check),
    ];
  }
  if (check.secretsLeft.length > 0) {
    return [
      `Secrets: ${check.secretsLeft.join(", ")} still set in ${incident.repository}. Next, once no workflow reads them: ${check.secretsLeft.map((name) => `gh secret delete ${name} --repo ${incident.repository}`).join("; ")}.`,
      ...environmentSecretLines(incident, check),
      notChecked,
    ];
  }
  return [
    `Secrets: ${secretWords(check)} no longer set in ${incident.repository}.`,
    ...environmentSecretLines(incident, check),
    notChecked,
  ];
}

function environmentSecretLines(incident: Incident, check: FollowThroughCheck): string[] {
  const lines = (check.environmentSecretsLeft ?? []).map(
    ({ environment, names }) =>
      `Environment secrets: ${names.join(", ")} still set in environment ${environment}. Next: ${names.map((name) => `gh secret delete ${name} --env ${environment} --repo ${incident.repository}`).join("; ")}.`,
  );
  if (check.environmentSecretsUnknown) lines.push(`Environment secrets: ${check.environmentSecretsUnknown}.`);
  else if (check.environmentSecretsLeft?.length === 0 && check.environments)
    lines.push(`Environment secrets: none of them set in ${check.environments.join(", ")}.`);
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
      `Key ${check.keyStatus}${check.staticUsesLeft === undefined ? "" : `, ${check.staticUsesLeft} static key use(s) left in the workflows`}${check.secretsLeft === undefined ? "" : `, ${check.secretsLeft.length} key secret(s) left`}${check.environmentSecretsLeft?.length ? `, key secrets left in environment(s) ${check.environmentSecretsLeft.map((left) => left.environment).join(", ")}` : ""}${check.oidcRoles ? `, ${check.oidcRoles.filter((role) => role.state === "created").length} of ${check.oidcRoles.length} OIDC role(s) as planned` : ""}${check.proposal ? ", deletion proposed" : ""}`,
    );
  });
}
