/**
 * The containment playbook, steps 1-4 of design.md: identify, locate, contain, close the loop.
 * Containment runs before any bookkeeping and waits for nothing off its path; the incident record is
 * then created once (a conditional write) and every later step is recorded on it, so a redelivery,
 * a retry or a crash resumes instead of repeating what must not repeat.
 */

import { type AlertJob, type ExposureNotice, incidentIdFor, manualIncidentId } from "../domain/alert-job.js";
import {
  ConflictError,
  errorMessage,
  isRetryable,
  PermanentFailure,
  TransientFailure,
} from "../domain/errors.js";
import {
  type Incident,
  type IncidentStatus,
  isContained,
  type StepName,
  stepDone,
} from "../domain/incident.js";
import {
  isAwsQuarantinePolicy,
  REVOKE_OLDER_SESSIONS_POLICY_NAME,
} from "../domain/revoke-sessions-policy.js";
import { selftestMode } from "../domain/selftest.js";
import { withoutUndefined } from "../domain/without-undefined.js";
import type { Log } from "../logger.js";
import type {
  AccountIam,
  AlertDetails,
  AlertRef,
  AlertSource,
  Clock,
  IncidentStore,
  IssueTracker,
  KeyDirectory,
  MemberAccounts,
  Notifier,
  StageQueues,
  StoredIncident,
} from "../ports.js";
import type { AfterContainment } from "./after-containment.js";
import { resolutionComment } from "./close-alert.js";
import { containKey } from "./contain.js";
import { givenUp, NOT_TOLD, warnOnce } from "./failure-policy.js";
import { KIND, notifiedSinceRecorded } from "./first-notice.js";
import { identifyKey } from "./identify.js";
import { incidentSaver, sameRecord } from "./incident-saver.js";
import type { InvestigationDeps } from "./investigate.js";
import { locateKey } from "./locate.js";
import { noticeDetail, sendNoticeOnce } from "./notice-once.js";
import type { PreventionDeps } from "./prevent.js";
import { forSelftest } from "./selftest.js";
import type { Slots } from "./slots.js";
import { findMinter } from "./temporary-key.js";
import { Timeline } from "./timeline.js";

export interface ResponderSettings {
  mode: "enforce" | "dry-run";
  /** A dry run is reported, and also recorded in the incident store (a selftest reads it there). */
  recordDryRun?: boolean;
  protectedUsers: readonly string[];
  managedAccountIds: readonly string[];
}

export interface PlaybookDeps {
  alerts: AlertSource;
  directory: KeyDirectory;
  incidents: IncidentStore;
  notifier: Notifier;
  log: Log;
  clock: Clock;
  settings: ResponderSettings;
  /** The organisation's accounts, managed besides settings.managedAccountIds (ORGANIZATION_ACCOUNTS). */
  memberAccounts?: MemberAccounts;
  /** Steps 5-6 after containment; absent, the playbook stops once the owners are told. */
  investigation?: InvestigationDeps;
  /** Step 7, the OIDC plan (needs the repository through GitHub). */
  prevention?: PreventionDeps;
  /** Step 8: an issue in the affected repository (on by default). */
  issues?: { tracker: IssueTracker; hideIps: boolean };
  /**
   * Steps 5-8 in this process (the CLI, the demo, `serve`): after-containment.ts, passed in so that
   * the deployed containment function, which hands them to `stages`, does not carry their code.
   */
  afterContainment?: AfterContainment;
  /** AWS: the queues to the investigation and notification stages (stage-task.ts). */
  stages?: StageQueues;
  /** Shared by every incident of the process: steps 5-8 wait their turn, containment never does. */
  afterContainmentSlots?: Slots;
  /** The deliveries running in this process, by incident id (see respondToAlert). */
  inFlight?: Map<string, Promise<unknown>>;
}

export interface RespondOptions {
  /** The queue will not deliver this message again: record a failure instead of asking for a retry. */
  finalAttempt?: boolean;
  /** Stop starting slow work (snapshot pages) after this time, ms since epoch; continue next delivery. */
  deadline?: number;
  /**
   * The snapshot has had all the runs it may (investigation-stage.ts): it reads no further, and what
   * is stored is analysed as a partial snapshot, with the whole run left for that.
   */
  snapshotRunsUsed?: boolean;
}

export interface RespondResult {
  incident: Incident;
  /** True when this delivery found the incident already handled (or being handled) elsewhere. */
  duplicate: boolean;
}

type Outcome = Pick<Incident, "status" | "summary" | "warnings"> &
  Partial<Pick<Incident, "location" | "containment" | "failure" | "accessKeyId">>;

/** Entry point for a queued GitHub alert. */
export async function respondToAlert(
  job: AlertJob,
  deps: PlaybookDeps,
  options: RespondOptions = {},
): Promise<RespondResult> {
  const inFlight = deps.inFlight;
  // A selftest runs against the canary key only, never touching GitHub (selftest.ts).
  if (!inFlight) return respondOnce(job, forSelftest(job, deps), options);
  // Another delivery of the same alert running in this process: let it record the incident first,
  // then this one finds it and only records itself, instead of spending IAM's rate limit on a second
  // containment of the same key (a storm delivers most alerts 2-3 times within seconds).
  const id = incidentIdFor(job.repository, job.alertNumber);
  const earlier = inFlight.get(id);
  const run = (earlier ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => respondOnce(job, forSelftest(job, deps), options));
  inFlight.set(id, run);
  try {
    return await run;
  } finally {
    if (inFlight.get(id) === run) inFlight.delete(id);
  }
}

async function respondOnce(
  job: AlertJob,
  deps: PlaybookDeps,
  options: RespondOptions,
): Promise<RespondResult> {
  const ref: AlertRef = {
    repository: job.repository,
    alertNumber: job.alertNumber,
    ...(job.installationId === undefined ? {} : { installationId: job.installationId }),
  };
  const id = incidentIdFor(job.repository, job.alertNumber);
  deps.log.appendKeys({ incidentId: id, deliveryId: job.deliveryId });
  const dryRun = deps.settings.mode === "dry-run";
  const timeline = new Timeline(deps.clock);
  timeline.recordAt(
    "webhook-received",
    "done",
    `Delivery ${job.deliveryId} (${job.action})`,
    new Date(job.receivedAt),
  );

  // The incident is read before GitHub is asked anything: a replayed or redelivered delivery of a
  // handled alert (facts.md: GitHub redelivers; a captured signed body can be replayed) costs one
  // read and no GitHub call. A read that fails does not hold containment back: containment is
  // idempotent and the record is written with If-None-Match, so an incident that exists after all
  // is found then.
  const stored = dryRun ? undefined : await readIncident(id, deps);
  if (stored && stored.incident.status !== "failed") {
    // The alert as GitHub shows it now tells whether a dead run's resolution went through: asked
    // only while the resolution is still to be done.
    const unresolved = isContained(stored.incident.status) && !stepDone(stored.incident, "alert-resolved");
    const alert = unresolved ? await deps.alerts.getAlert(ref).catch(() => undefined) : undefined;
    return {
      incident: await resume(stored, deps, job.deliveryId, ref, options, alert),
      duplicate: true,
    };
  }
  const fetchStarted = deps.clock.now();
  const fetched = await deps.alerts.getAlert(ref).then(
    (alert) => ({ ok: true as const, alert }),
    (error: unknown) => ({ ok: false as const, error }),
  );

  const base = newIncident(id, "github-alert", deps, timeline, job.deliveryId);
  base.repository = job.repository;
  base.alertNumber = job.alertNumber;
  base.secretType = job.secretType;
  if (job.installationId !== undefined) base.installationId = job.installationId;
  if (job.repositoryVisibility !== undefined) base.repositoryVisibility = job.repositoryVisibility;
  let alert: AlertDetails | undefined;
  let outcome: Outcome;
  try {
    if (!fetched.ok) throw fetched.error;
    alert = fetched.alert;
    timeline.record(
      "alert-fetched",
      "done",
      `Alert #${alert.number} (${alert.secretType}, ${alert.state})`,
      fetchStarted,
    );
    if (alert.htmlUrl) base.alertUrl = alert.htmlUrl;
    if (alert.state === "resolved") base.alertResolvedBefore = alert.resolution ?? "resolved";
    // The leak is at least as old as the alert; the commit time (looked up after containment) is older.
    if (alert.createdAt) {
      base.leakedAt = alert.createdAt;
      base.leakedAtSource = "alert";
    }
    if (alert.firstLocation) {
      const { type, path, startLine, commitSha, url, apiPath } = alert.firstLocation;
      base.leakLocation = withoutUndefined({ type, path, startLine, commitSha, url, apiPath });
    }
    const key = identifyKey(alert);
    base.accessKeyId = key.accessKeyId;
    if (key.secretFingerprint) base.secretFingerprint = key.secretFingerprint;
    outcome = await contain(key.accessKeyId, deps, timeline, {
      alertToResolve: selftestMode(ref) === undefined,
      ...(alert.validity ? { gitHubValidity: alert.validity } : {}),
    });
  } catch (error: unknown) {
    if (!alert) timeline.record("alert-fetched", "failed", errorMessage(error), fetchStarted);
    outcome = failedOutcome(error, alert ? "key-located" : "alert-fetched", options, dryRun);
  }
  const incident = assemble(base, outcome, timeline, deps);
  const personsResolution = incident.alertResolvedBefore;
  if (personsResolution === "false_positive" || personsResolution === "used_in_tests") {
    // A person's word against a live AWS key: the key is contained all the same (deactivation is
    // reversible, a live leaked key is not), but their resolution stands and they are told.
    warnOnce(
      incident,
      `A person resolved the GitHub alert as ${personsResolution} before the responder ran: the key was contained anyway and the alert left as they resolved it. Reactivate the key if they were right.`,
    );
  }
  if (dryRun) return { incident: await finishDryRun(incident, deps), duplicate: false };
  return persistAndFinish(incident, stored, deps, ref, options);
}

/** The stored incident, or undefined when there is none or it cannot be read now (logged). */
async function readIncident(id: string, deps: PlaybookDeps): Promise<StoredIncident | undefined> {
  try {
    return await deps.incidents.get(id);
  } catch (error: unknown) {
    deps.log.warn("the incident could not be read: containing first, recording after", {
      error: errorMessage(error),
    });
    return undefined;
  }
}

/**
 * Entry point for a key leaked somewhere GitHub cannot see: a person's `leak-responder respond
 * --key`, or AWS Health's exposure notice (`notice`). One incident per key either way, so a
 * person and AWS naming the same key meet on the same record.
 */
export async function respondToKey(
  accessKeyId: string,
  deps: PlaybookDeps,
  options: RespondOptions & { requestedBy?: string; notice?: ExposureNotice } = {},
): Promise<RespondResult> {
  const id = manualIncidentId(accessKeyId);
  const notice = options.notice;
  const deliveryId = notice ? `aws-health-${notice.eventId}` : `manual-${deps.clock.now().getTime()}`;
  deps.log.appendKeys({ incidentId: id, ...(notice ? { deliveryId } : {}) });
  const dryRun = deps.settings.mode === "dry-run";
  const timeline = new Timeline(deps.clock);
  timeline.record(
    "webhook-received",
    "done",
    notice
      ? `AWS Health AWS_RISK_CREDENTIALS_EXPOSED notice ${notice.eventArn}${notice.detectedAt ? ` (AWS found the key exposed at ${notice.detectedAt}; the leak may be older)` : ""}`
      : `Manual response requested by ${options.requestedBy ?? "a person"}`,
  );
  const stored = dryRun ? undefined : await readIncident(id, deps);
  if (stored && stored.incident.status !== "failed") {
    return {
      incident: await resume(stored, deps, deliveryId, undefined, options),
      duplicate: true,
    };
  }
  const base = newIncident(id, notice ? "aws-health" : "manual", deps, timeline, deliveryId);
  base.accessKeyId = accessKeyId;
  if (notice?.repository) base.repository = notice.repository;
  // An EventBridge delivery is retried by the queue like an alert; a person's run is final.
  const attempt = notice ? options : { ...options, finalAttempt: true };
  let outcome: Outcome;
  try {
    outcome = await contain(accessKeyId, deps, timeline, { alertToResolve: false });
  } catch (error: unknown) {
    outcome = failedOutcome(error, "key-located", attempt, dryRun);
  }
  const incident = assemble(base, outcome, timeline, deps);
  const foundIn = incident.location?.accountId;
  if (notice && foundIn && foundIn !== notice.accountId) {
    // The key is handled where it is; a notice that names another account is worth a look.
    warnOnce(
      incident,
      `AWS Health's notice names account ${notice.accountId}, but the key is in account ${foundIn} (sts:GetAccessKeyInfo): check the notice in the AWS Health dashboard.`,
    );
  }
  if (dryRun) return { incident: await finishDryRun(incident, deps), duplicate: false };
  return persistAndFinish(incident, stored, deps, undefined, attempt);
}

/**
 * Every key of one AWS Health exposure notice, each its own incident. All are tried before a
 * retryable failure is raised, so one slow account never holds back another key's containment;
 * the queue's retry then finds the finished ones recorded and repeats nothing.
 */
export async function respondToExposure(
  exposure: ExposureNotice & { accessKeyIds: readonly string[] },
  deps: PlaybookDeps,
  options: RespondOptions = {},
): Promise<RespondResult[]> {
  const { accessKeyIds, ...notice } = exposure;
  const results: RespondResult[] = [];
  const failures: unknown[] = [];
  for (const accessKeyId of accessKeyIds) {
    try {
      results.push(await respondToKey(accessKeyId, deps, { ...options, notice }));
    } catch (error: unknown) {
      failures.push(error);
    } finally {
      deps.log.removeKeys(["incidentId", "deliveryId"]);
    }
  }
  if (failures.length > 0) throw failures[0];
  return results;
}

/**
 * Steps 2-3: locate, then contain (or escalate, or say it is not ours). Transient errors propagate.
 * `alert.gitHubValidity` is GitHub's own check of the key (facts.md: `validity`); "inactive" is verified
 * against IAM rather than trusted either way, since the check can be stale.
 */
async function contain(
  accessKeyId: string,
  deps: PlaybookDeps,
  timeline: Timeline,
  alert: { alertToResolve: boolean; gitHubValidity?: string },
): Promise<Outcome> {
  const { settings, clock } = deps;
  const started = clock.now();
  const saidInactive = alert.gitHubValidity === "inactive";
  let located: Awaited<ReturnType<typeof locateKey>>;
  try {
    located = await locateKey(accessKeyId, deps.directory, settings.managedAccountIds, deps.memberAccounts);
  } catch (error: unknown) {
    timeline.record("key-located", "failed", errorMessage(error), started);
    if (saidInactive && error instanceof PermanentFailure && error.code === "KeyNotFound") {
      return {
        accessKeyId,
        status: "escalated",
        summary: `${accessKeyId}: GitHub reports the key inactive and IAM has no such key any more: it was deleted before the responder ran, so there is nothing to deactivate. Sessions it minted before deletion can live up to 36 h: a person must find its user in CloudTrail and revoke that user's sessions.`,
        warnings: [],
      };
    }
    throw error;
  }
  if (located.kind === "not-ours") {
    timeline.record(
      "key-located",
      "done",
      `Key belongs to account ${located.accountId}, not managed here`,
      started,
    );
    return {
      accessKeyId,
      status: "not-ours",
      summary: `${accessKeyId} belongs to AWS account ${located.accountId}, which this responder does not manage. Tell that account's owner; nothing was changed.`,
      warnings: [],
      location: { accountId: located.accountId, viaMemberRole: false },
    };
  }
  if (located.kind === "temporary") {
    return containTemporaryKey(accessKeyId, located, deps, timeline, started);
  }
  const { location, iam } = located;
  timeline.record(
    "key-located",
    "done",
    `Account ${location.accountId}${location.viaMemberRole ? " (member role assumed)" : ""}, user ${location.userName}`,
    started,
  );
  if (isProtectedUser(settings.protectedUsers, location.userName)) {
    return {
      accessKeyId,
      status: "escalated",
      summary:
        settings.mode === "dry-run"
          ? `Dry run: would NOT deactivate ${accessKeyId}: it belongs to protected user ${location.userName} in ${location.accountId}, so a person would have to decide. Nothing was changed.`
          : `${accessKeyId} belongs to protected user ${location.userName} in ${location.accountId}: it was NOT deactivated automatically and is still ACTIVE. A person must decide now.`,
      warnings: [],
      location,
    };
  }
  if (settings.mode === "dry-run") {
    const quarantine = await iam.attachedUserPolicies(location.userName).catch(() => []);
    timeline.record("key-deactivated", "would-do", `Would deactivate ${accessKeyId} of ${location.userName}`);
    timeline.record(
      "sessions-revoked",
      "would-do",
      `Would deny sessions of ${location.userName} issued before now`,
    );
    if (alert.alertToResolve)
      timeline.record("alert-resolved", "would-do", "Would resolve the GitHub alert as revoked");
    return {
      accessKeyId,
      status: "dry-run",
      summary: `Dry run: would deactivate ${accessKeyId} of ${location.userName} in ${location.accountId} and revoke its sessions. Nothing was changed.`,
      warnings: [],
      location,
      containment: {
        quarantinePolicies: quarantine.filter(isAwsQuarantinePolicy),
      },
    };
  }

  // Read before deactivating, only when GitHub says inactive: who deactivated it first matters.
  const statusBefore = saidInactive
    ? await iam.keyStatus(location.userName, accessKeyId).catch(() => undefined)
    : undefined;
  const result = await containKey({ iam, userName: location.userName, accessKeyId, clock, timeline });
  if (saidInactive && statusBefore === "Inactive") {
    result.warnings.push(
      `GitHub reports the key inactive and IAM agrees: it was deactivated before the responder ran, by someone else. Its sessions were revoked now all the same (they outlive deactivation by up to 36 h). Find who deactivated it (CloudTrail UpdateAccessKey) and whether it was used in between.`,
    );
  } else if (saidInactive && statusBefore === "Active") {
    result.warnings.push(
      `GitHub reported the key inactive, but IAM had it Active: GitHub's validity check was stale or wrong. The key is deactivated now.`,
    );
  }
  const containment: NonNullable<Incident["containment"]> = {
    containedAt: result.containedAt,
    keyStatusAfter: result.keyStatusAfter,
    quarantinePolicies: result.quarantinePolicies,
    ...(result.sessionsRevoked ? { denyPolicyName: "AWSRevokeOlderSessions" } : {}),
  };
  if (!result.deactivated) {
    if (isRetryable(result.failure)) throw result.failure;
    return {
      ...failedOutcome(result.failure, "key-deactivated", { finalAttempt: true }),
      accessKeyId,
      location,
      containment,
    };
  }
  const status: IncidentStatus = result.warnings.length > 0 ? "contained-with-warnings" : "contained";
  const quarantine =
    result.quarantinePolicies.length > 0
      ? ` AWS had already attached ${result.quarantinePolicies.join(", ")}.`
      : "";
  return {
    accessKeyId,
    status,
    summary: `${accessKeyId} of ${location.userName} in ${location.accountId} is deactivated${result.sessionsRevoked ? " and its sessions are revoked" : ", but its sessions are NOT revoked"}.${quarantine}`,
    warnings: result.warnings,
    location,
    containment,
  };
}

/**
 * A temporary (ASIA) key: the sessions of the role or user that minted it are denied (temporary-key.ts).
 * When CloudTrail does not name that principal (no call yet, or not yet delivered: events take minutes),
 * a person must, and is told so.
 */
async function containTemporaryKey(
  accessKeyId: string,
  located: { accountId: string; iam: AccountIam },
  deps: PlaybookDeps,
  timeline: Timeline,
  started: Date,
): Promise<Outcome> {
  const { settings, clock } = deps;
  const location = { accountId: located.accountId, viaMemberRole: located.iam.viaMemberRole };
  const found = await deps.directory
    .activityIn(located.accountId)
    .then((activity) => findMinter(activity, accessKeyId, clock.now(), deps.investigation?.forensics.regions))
    .catch((error: unknown) => ({ minter: undefined, unread: [`every region (${errorMessage(error)})`] }));
  const minter = found.minter;
  const escalate = (why: string): Outcome => ({
    accessKeyId,
    status: "escalated",
    summary: `${accessKeyId} is a temporary (ASIA) key in account ${located.accountId}: it cannot be deactivated, only ended by revoking the sessions of the principal that minted it. ${why} A person must revoke that principal's sessions now.`,
    warnings: [],
    location,
  });
  if (!minter) {
    timeline.record(
      "key-located",
      "failed",
      `Temporary credentials of account ${located.accountId}: CloudTrail names no principal that minted them`,
      started,
    );
    const unread = found.unread.length > 0 ? ` Unread: ${found.unread.join("; ")}.` : "";
    return escalate(
      `CloudTrail shows no call by it in the last 36 hours (events take up to 15 minutes to appear).${unread}`,
    );
  }
  const principal = `${minter.kind} ${minter.name}`;
  timeline.record(
    "key-located",
    "done",
    `Temporary credentials of account ${located.accountId}, minted by ${principal}`,
    started,
  );
  if (minter.kind === "user" && isProtectedUser(settings.protectedUsers, minter.name)) {
    return escalate(`It was minted by protected user ${minter.name}: nothing was revoked automatically.`);
  }
  if (settings.mode === "dry-run") {
    timeline.record("sessions-revoked", "would-do", `Would deny sessions of ${principal} issued before now`);
    return {
      accessKeyId,
      status: "dry-run",
      summary: `Dry run: would deny every session of ${principal} in ${located.accountId} issued before now, which ends ${accessKeyId}. Nothing was changed.`,
      warnings: [],
      location: { ...location, ...(minter.kind === "user" ? { userName: minter.name } : {}) },
      containment: { quarantinePolicies: [] },
    };
  }
  // facts.md: sessions issued before this instant are denied; it is also "the containment time".
  const cutoff = clock.now();
  try {
    if (minter.kind === "role") await located.iam.denyOlderRoleSessions(minter.name, cutoff);
    else await located.iam.denyOlderUserSessions(minter.name, cutoff);
  } catch (error: unknown) {
    timeline.record("sessions-revoked", "failed", errorMessage(error), cutoff);
    if (isRetryable(error)) throw error;
    return escalate(`Denying the sessions of ${principal} failed: ${errorMessage(error)}.`);
  }
  timeline.record("sessions-revoked", "done", `Sessions of ${principal} issued before now denied`, cutoff);
  return {
    accessKeyId,
    status: "contained",
    summary: `${accessKeyId} is a temporary (ASIA) key minted by ${principal} in ${located.accountId}: every session of ${minter.name} issued before containment is now denied, which ends it. Legitimate holders must sign in or assume the role again.`,
    warnings: [],
    location: { ...location, ...(minter.kind === "user" ? { userName: minter.name } : {}) },
    containment: {
      containedAt: cutoff.toISOString(),
      keyStatusAfter: "unknown",
      quarantinePolicies: [],
      denyPolicyName: REVOKE_OLDER_SESSIONS_POLICY_NAME,
    },
  };
}

/** A dry run contains nothing by design: its failure is that it could not tell what it would do. */
function failedOutcome(error: unknown, step: StepName, options: RespondOptions, dryRun = false): Outcome {
  if (isRetryable(error) && !options.finalAttempt) throw error;
  const code =
    error instanceof PermanentFailure || error instanceof TransientFailure ? error.code : "Unexpected";
  const message = errorMessage(error);
  return {
    status: "failed",
    summary: dryRun
      ? `Dry run: could not tell what would be done: ${message}. Nothing was changed.`
      : `The leaked key is NOT contained: ${message}`,
    warnings: [],
    failure: { step, code, message },
  };
}

function newIncident(
  id: string,
  source: Incident["source"],
  deps: PlaybookDeps,
  timeline: Timeline,
  deliveryId: string,
): Incident {
  const now = deps.clock.now().toISOString();
  return {
    id,
    version: 1,
    source,
    status: "failed",
    summary: "",
    deliveryIds: [deliveryId],
    mode: deps.settings.mode,
    warnings: [],
    timeline: timeline.entries,
    createdAt: now,
    updatedAt: now,
  };
}

function assemble(base: Incident, outcome: Outcome, timeline: Timeline, deps: PlaybookDeps): Incident {
  return { ...base, ...outcome, timeline: timeline.entries, updatedAt: deps.clock.now().toISOString() };
}

async function finishDryRun(incident: Incident, deps: PlaybookDeps): Promise<Incident> {
  const timeline = new Timeline(deps.clock, incident.timeline);
  try {
    await deps.notifier.notify(incident, "dry-run");
    timeline.record("notified", "done", "Dry-run report sent");
  } catch (error: unknown) {
    timeline.record("notified", "failed", errorMessage(error));
  }
  deps.log.info("dry run finished", { status: incident.status });
  const finished = { ...incident, timeline: timeline.entries };
  if (deps.settings.recordDryRun) {
    // A redelivery of the same dry run: the first one's record stands.
    await deps.incidents.create(finished).catch((error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
    });
  }
  return finished;
}

/** Creates the incident (or replaces a failed one), then runs the remaining steps on it. */
async function persistAndFinish(
  incident: Incident,
  previous: StoredIncident | undefined,
  deps: PlaybookDeps,
  ref: AlertRef | undefined,
  options: RespondOptions,
): Promise<RespondResult> {
  const timeline = new Timeline(deps.clock, incident.timeline);
  timeline.record("incident-recorded", "done", previous ? "Failed incident retried" : "Incident created");
  const owner = incident.deliveryIds.at(-1) ?? "unknown";
  let record: Incident = { ...incident, timeline: timeline.entries, lease: lease(owner, deps) };
  if (previous) {
    record = {
      ...record,
      createdAt: previous.incident.createdAt,
      deliveryIds: [...new Set([...previous.incident.deliveryIds, ...record.deliveryIds])],
      timeline: [...previous.incident.timeline, ...record.timeline],
    };
  }
  let etag: string;
  try {
    etag = previous
      ? await deps.incidents.update(record, previous.etag)
      : await deps.incidents.create(record);
  } catch (error: unknown) {
    if (!(error instanceof ConflictError)) {
      if (!givenUp(error, options)) throw error;
      return { incident: await tellUnrecorded(incident, error, deps), duplicate: false };
    }
    // A write whose answer was lost (a timeout) and that the SDK retried meets its own condition
    // (If-None-Match / If-Match): the incident there is this delivery's, and nobody else will finish it.
    const found = await deps.incidents.get(record.id).catch(() => undefined);
    if (found?.incident.lease?.owner === owner && sameRecord(found.incident, record)) {
      deps.log.info("incident recorded (the store's answer was lost and the retry found it)");
      return { incident: await finish(found, deps, ref, options), duplicate: false };
    }
    // Another delivery won the race and owns the incident: containment was idempotent, the rest is theirs.
    deps.log.info("incident already recorded by a concurrent delivery");
    return { incident: await noteDelivery(record.id, owner, deps, found), duplicate: true };
  }
  deps.log.info("incident recorded", { status: record.status });
  return { incident: await finish({ incident: record, etag }, deps, ref, options), duplicate: false };
}

/**
 * The incident cannot be recorded for good (the bucket refuses the responder): what was done to the
 * key still stands and the owners must hear it now, loudly, with what is missing. Nothing else can
 * run without the record (evidence, issue, report), and the alert stays open: a redelivery from
 * GitHub, once the bucket is fixed, finishes the response and resolves it once.
 */
async function tellUnrecorded(incident: Incident, error: unknown, deps: PlaybookDeps): Promise<Incident> {
  const message = errorMessage(error);
  deps.log.error("incident could not be recorded", { error: message, status: incident.status });
  const contained = isContained(incident.status);
  const timeline = new Timeline(deps.clock, incident.timeline);
  timeline.record("incident-recorded", "failed", message);
  const manual = incident.source !== "github-alert";
  const told: Incident = {
    ...incident,
    status: contained ? "contained-with-warnings" : incident.status,
    warnings: [
      ...incident.warnings,
      `The incident could not be recorded (${message}): no evidence, issue or report was made${manual ? "" : " and the GitHub alert is left open"}. Fix the responder's access to its bucket, then ${manual ? "run the manual response again" : "redeliver the alert's webhook from GitHub"} to finish the response.`,
    ],
    timeline: timeline.entries,
  };
  delete told.lease;
  try {
    await deps.notifier.notify(told, KIND[told.status]);
    timeline.record(
      "notified",
      "done",
      deps.stages
        ? `Handed to the notification stage (${KIND[told.status]}): nothing records it is in Slack`
        : `Owners notified (${KIND[told.status]})`,
    );
  } catch (notifyError: unknown) {
    deps.log.error("notification failed", { error: errorMessage(notifyError), status: told.status });
    timeline.record("notified", "failed", errorMessage(notifyError));
  }
  return { ...told, timeline: timeline.entries, updatedAt: deps.clock.now().toISOString() };
}

/** A later delivery for a handled incident: note it, and finish whatever an earlier run left undone. */
async function resume(
  stored: StoredIncident,
  deps: PlaybookDeps,
  deliveryId: string,
  ref: AlertRef | undefined,
  options: RespondOptions,
  alert?: AlertDetails,
): Promise<Incident> {
  let current = stored;
  for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
    const held = current.incident.lease;
    if (held && held.owner !== deliveryId && Date.parse(held.until) > deps.clock.now().getTime()) {
      // Another delivery is finishing this incident right now: record this one, repeat nothing.
      deps.log.info("duplicate delivery while another runs the incident", { owner: held.owner });
      return noteDelivery(current.incident.id, deliveryId, deps, current);
    }
    const timeline = new Timeline(deps.clock, current.incident.timeline);
    const known = current.incident.deliveryIds.includes(deliveryId);
    if (!known)
      timeline.record(
        "delivery-duplicate",
        "skipped",
        `Delivery ${deliveryId}: already handled, nothing repeated`,
      );
    const incident: Incident = {
      ...current.incident,
      deliveryIds: known ? current.incident.deliveryIds : [...current.incident.deliveryIds, deliveryId],
      timeline: timeline.entries,
      lease: lease(deliveryId, deps),
      updatedAt: deps.clock.now().toISOString(),
    };
    try {
      current = { incident, etag: await deps.incidents.update(incident, current.etag) };
    } catch (error: unknown) {
      if (!(error instanceof ConflictError)) throw error;
      const reread = await deps.incidents.get(current.incident.id);
      if (!reread) throw error;
      current = reread;
      continue;
    }
    deps.log.info("duplicate delivery: finishing what is left", { status: current.incident.status });
    return finish(current, deps, ref, options, {
      earlier: stored.incident,
      ...(alert ? { alert } : {}),
    });
  }
  throw new ConflictError(`Incident ${stored.incident.id} kept changing under this delivery`);
}

/** Long enough for the longest invocation (respond times out at 5 minutes), short enough to recover. */
const LEASE_MS = 15 * 60_000;
const CONFLICT_RETRIES = 5;

function lease(owner: string, deps: PlaybookDeps): { owner: string; until: string } {
  return { owner, until: new Date(deps.clock.now().getTime() + LEASE_MS).toISOString() };
}

/** Adds a delivery id to the incident (nothing else), retrying when a concurrent writer got there first. */
async function noteDelivery(
  id: string,
  deliveryId: string,
  deps: PlaybookDeps,
  known?: StoredIncident,
): Promise<Incident> {
  let current = known ?? (await deps.incidents.get(id));
  for (let attempt = 0; current && attempt < CONFLICT_RETRIES; attempt++) {
    if (current.incident.deliveryIds.includes(deliveryId)) return current.incident;
    const timeline = new Timeline(deps.clock, current.incident.timeline);
    timeline.record(
      "delivery-duplicate",
      "skipped",
      `Delivery ${deliveryId}: already handled, nothing repeated`,
    );
    const incident = {
      ...current.incident,
      deliveryIds: [...current.incident.deliveryIds, deliveryId],
      timeline: timeline.entries,
      updatedAt: deps.clock.now().toISOString(),
    };
    try {
      await deps.incidents.update(incident, current.etag);
      return incident;
    } catch (error: unknown) {
      if (!(error instanceof ConflictError)) throw error;
      current = await deps.incidents.get(id);
    }
  }
  if (!current) throw new ConflictError(`Incident ${id} vanished while recording delivery ${deliveryId}`);
  return current.incident;
}

/**
 * What a delivery that resumes an incident knows of the runs before it: the incident as it found
 * it (a run may have died after a side effect and before recording it) and the alert as GitHub
 * shows it now.
 */
export interface Resumed {
  earlier: Incident;
  alert?: AlertDetails;
}

/** Steps after containment, each recorded once as done: resolve the alert, notify. */
async function finish(
  stored: StoredIncident,
  deps: PlaybookDeps,
  ref: AlertRef | undefined,
  options: RespondOptions,
  resumed?: Resumed,
): Promise<Incident> {
  let { incident, etag } = stored;
  const retryable: unknown[] = [];
  const save = incidentSaver(
    deps,
    () => ({ incident, etag }),
    (next) => {
      ({ incident, etag } = next);
    },
  );

  const contained = isContained(incident.status);
  // Step 4: resolve the alert and tell the owners, side by side: the first message waits for nothing
  // (design.md: post it at once), not even GitHub's retries.
  const settle = <T>(work: () => Promise<T>) =>
    work().then(
      (value) => ({ ok: true as const, value, endedAt: deps.clock.now() }),
      (error: unknown) => ({ ok: false as const, error, endedAt: deps.clock.now() }),
    );
  const started = deps.clock.now();
  // A run that died after GitHub resolved the alert and before recording it: resolved is resolved.
  // On a fresh run: a person's resolution (false_positive, used_in_tests, revoked) is never overwritten.
  const alreadyResolved = resumed?.alert?.state === "resolved" || incident.alertResolvedBefore !== undefined;
  const resolveNow = Boolean(ref) && contained && !stepDone(incident, "alert-resolved");
  const notifyNow = !notifiedSinceRecorded(incident);
  const kind = KIND[incident.status];
  const [resolved, notified] = await Promise.all([
    resolveNow && ref
      ? settle(() =>
          alreadyResolved ? Promise.resolve() : deps.alerts.resolveAlert(ref, resolutionComment(incident)),
        )
      : undefined,
    notifyNow && deps.stages
      ? settle(async () => {
          await deps.stages?.notify({
            kind: "notice",
            incidentId: incident.id,
            notice: "first",
            status: incident.status,
          });
          return undefined;
        })
      : notifyNow
        ? settle(() =>
            sendNoticeOnce({
              notifier: deps.notifier,
              log: deps.log,
              incident,
              kind,
              mayHaveBeenSent: resumed !== undefined,
              send: (notice) => deps.notifier.notify(incident, kind, notice),
            }),
          )
        : undefined,
  ]);
  if (resolved && !resolved.ok && isRetryable(resolved.error)) retryable.push(resolved.error);
  // Slack refusing for good (a revoked webhook) is not retried into the dead-letter queue: it is
  // said in the log, on the incident, in the issue and in the report instead.
  const notifyGivenUp = notified !== undefined && !notified.ok && givenUp(notified.error, options);
  // A hand-over to the stages that failed for good: the incident says so, and the alert's message is
  // failed into the dead-letter queue (its alarm) so a redrive hands over again; a success here
  // would leave a contained key that nobody is told about and nobody investigates.
  let handOffFailure: unknown;
  if (deps.stages && notified && !notified.ok && notifyGivenUp) handOffFailure = notified.error;
  if (notified && !notified.ok) {
    if (!notifyGivenUp) retryable.push(notified.error);
    deps.log.error("notification failed", { error: errorMessage(notified.error), status: incident.status });
  }
  if (resolved || notified) {
    await save((t, draft) => {
      if (resolved?.ok)
        t.recordAt(
          "alert-resolved",
          "done",
          ref && selftestMode(ref)
            ? "Selftest: no GitHub alert to resolve"
            : alreadyResolved
              ? `GitHub alert found already resolved (${resumed?.alert?.resolution ?? incident.alertResolvedBefore ?? "no resolution given"})`
              : "GitHub alert resolved as revoked",
          resolved.endedAt,
          started,
        );
      else if (resolved) {
        t.recordAt("alert-resolved", "failed", errorMessage(resolved.error), resolved.endedAt, started);
        // A retry may still resolve it: only a failure that will not be retried is a standing warning.
        if (givenUp(resolved.error, options)) {
          warnOnce(draft, `The GitHub alert was not resolved: ${errorMessage(resolved.error)}`);
        }
      }
      if (notified?.ok && notified.value === undefined) {
        // Handed to the notification stage, which records the message when it is in Slack.
      } else if (notified?.ok) {
        t.recordAt(
          "notified",
          "done",
          noticeDetail(`Owners notified (${kind})`, notified.value),
          notified.endedAt,
          started,
        );
        const receipt = notified.value.receipt;
        if (receipt?.ts) {
          draft.notifications = {
            slack: { ...(receipt.channel ? { channel: receipt.channel } : {}), ts: receipt.ts },
          };
        }
      } else if (notified) {
        t.recordAt("notified", "failed", errorMessage(notified.error), notified.endedAt, started);
        if (notifyGivenUp) warnOnce(draft, `${NOT_TOLD}: ${errorMessage(notified.error)}`);
      }
    });
  }

  // Steps 5-8: a pending retry defers them to the next delivery (the follow-up must not overtake the
  // first message); the last delivery runs them whatever is pending: evidence must not wait on Slack.
  if (contained && (retryable.length === 0 || options.finalAttempt)) {
    if (deps.stages) {
      try {
        await handOff(incident, deps.stages);
      } catch (error: unknown) {
        deps.log.error("the incident could not be handed to the next stage", { error: errorMessage(error) });
        if (givenUp(error, options)) {
          // No later delivery will hand it over: the evidence, the plan and the report are owed, and a
          // person must know, on the incident and in what reads it.
          await save((t, draft) => {
            t.record(
              "snapshot-taken",
              "failed",
              `Not handed to the investigation stage: ${errorMessage(error)}`,
            );
            warnOnce(
              draft,
              `The investigation was NOT started (the hand-over to the investigation queue failed: ${errorMessage(error)}): no evidence, plan, issue or report will follow until the alert's message is redriven from the dead-letter queue (or its webhook redelivered).`,
            );
          });
          handOffFailure ??= error;
        } else retryable.push(error);
      }
    } else if (deps.afterContainment && (deps.investigation || deps.prevention || deps.issues)) {
      const run = deps.afterContainment;
      const investigateAndTell = () => run({ incident, etag }, deps, ref, options, resumed?.earlier);
      const after = await (deps.afterContainmentSlots
        ? deps.afterContainmentSlots.run(investigateAndTell)
        : investigateAndTell());
      ({ incident, etag } = after.stored);
      retryable.push(...after.retryable);
    }
  }

  if (retryable.length === 0 || options.finalAttempt) {
    // Done (or given up): another delivery may run the incident again from here.
    await save((_t, draft) => {
      delete draft.lease;
    });
  }

  if (retryable.length > 0 && !options.finalAttempt) {
    throw new TransientFailure(
      `Incident ${incident.id} recorded, but ${retryable.length} step(s) must be retried: ${retryable.map(errorMessage).join("; ")}`,
      "StepsPending",
    );
  }
  if (handOffFailure !== undefined) {
    throw new PermanentFailure(
      `Incident ${incident.id} is recorded, but could not be handed to the next stage (${errorMessage(handOffFailure)}): this message goes to the dead-letter queue; redrive it once the queue accepts messages again`,
      "HandOffFailed",
    );
  }
  return incident;
}

/**
 * Hands a contained incident to the investigation stage, which does what is not done yet (nothing
 * when a redelivery finds it all done) and then hands the follow-up to the notification stage.
 */
async function handOff(incident: Incident, stages: StageQueues): Promise<void> {
  const accountId = incident.location?.accountId;
  if (accountId) {
    await stages.investigate({
      kind: "investigate",
      incidentId: incident.id,
      accountId,
      continuation: 0,
      attempt: 0,
    });
  } else {
    await stages.notify({ kind: "notice", incidentId: incident.id, notice: "follow-up" });
  }
}

/** IAM user names are unique case-insensitively ("Admin" and "admin" are the same user), so the protected list must be too. */
function isProtectedUser(protectedUsers: readonly string[], userName: string): boolean {
  const wanted = userName.toLowerCase();
  return protectedUsers.some((name) => name.toLowerCase() === wanted);
}
