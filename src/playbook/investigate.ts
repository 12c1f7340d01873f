/**
 * Playbook steps 5 and 6 after containment: preserve the key's CloudTrail history (and revoke the
 * sessions of roles it assumed), store it as evidence with a SHA-256 manifest, and judge it. Runs
 * only on a contained incident, never before containment; every step is recorded on the timeline
 * once, so a retry resumes. A history too large for one invocation is stored part by part and
 * continued from a checkpoint by the next delivery of the same message.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { errorMessage, TransientFailure } from "../domain/errors.js";
import type { EvidenceFile, ForensicsSummary, Incident } from "../domain/incident.js";
import { isContained, stepDone } from "../domain/incident.js";
import type { ActionsRanges } from "../forensics/actions-ranges.js";
import { analyzeTrail } from "../forensics/analyze.js";
import type { Findings } from "../forensics/findings.js";
import { parseTrailEvents } from "../forensics/parse-trail.js";
import {
  missingHistory,
  missingLines,
  missingRegions,
  partialWarning,
} from "../forensics/partial-snapshot.js";
import type { Pacer } from "../forensics/region-pacer.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import type { EvidenceStore, StoredIncident } from "../ports.js";
import { givenUp, warnOnce } from "./failure-policy.js";
import { incidentSaver, type SaveIncident } from "./incident-saver.js";
import { isManagedAccount } from "./locate.js";
import type { PlaybookDeps } from "./respond.js";
import { continueSnapshot, type Snapshot, snapshotWindow, takeSnapshot } from "./snapshot.js";
import { storeOnce } from "./store-evidence.js";

export interface ForensicsSettings {
  lookbackDays: number;
  graceMinutes: number;
  /** Overrides the enabled-regions lookup. */
  regions?: string[];
}

export interface InvestigationDeps {
  evidence: EvidenceStore;
  /** Shared by every snapshot in the process (facts.md: 2 TPS per account per region). */
  pacer: Pacer;
  /** GitHub Actions runner ranges, or why they are unavailable (said in the findings). */
  actionsRanges: () => Promise<{ ranges?: ActionsRanges; problem?: string }>;
  forensics: ForensicsSettings;
}

export interface InvestigationResult {
  stored: StoredIncident;
  findings?: Findings;
  /** The whole snapshot, as stored (the plan derives permissions from it). */
  events?: TrailEvent[];
}

function roleName(arn: string): { accountId: string; name: string } | undefined {
  const match = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
  return match?.[1] && match[2] ? { accountId: match[1], name: match[2] } : undefined;
}

function signalCounts(findings: Findings): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [category, signals] of Object.entries(findings.signals)) {
    const raised = signals.reduce((sum, signal) => sum + signal.succeeded + signal.attempted, 0);
    if (raised > 0) counts[category] = raised;
  }
  return counts;
}

export async function investigate(
  stored: StoredIncident,
  deps: PlaybookDeps & InvestigationDeps,
  options: {
    deadline?: number;
    /**
     * No later run will continue the snapshot: one cut short (or failing) here is recorded as
     * partial and what is stored is analysed, rather than thrown away.
     */
    finalAttempt?: boolean;
    /** The snapshot has had all its runs: read no further, analyse what is stored. */
    snapshotRunsUsed?: boolean;
    /** Told of every version saved, so a caller still holds the latest one when this throws. */
    onSaved?: (stored: StoredIncident) => void;
  } = {},
): Promise<InvestigationResult> {
  let { incident, etag } = stored;
  const accountId = incident.location?.accountId;
  const containedAt = incident.containment?.containedAt;
  if (
    !isContained(incident.status) ||
    !accountId ||
    !containedAt ||
    !incident.accessKeyId ||
    stepDone(incident, "analyzed")
  ) {
    return { stored };
  }
  const save = incidentSaver(
    deps,
    () => ({ incident, etag }),
    (next) => {
      ({ incident, etag } = next);
      options.onSaved?.(next);
    },
  );

  // facts.md/issue: the leak time is the commit time of the first location, else the alert's time;
  // who put the key there (the commit's author and committer, the comment's author) is read with it,
  // once (issue 11). It tells the people, not the containment: a failure leaves both as they are.
  const leak = incident.leakLocation;
  const origin = leak?.commitSha
    ? { commitSha: leak.commitSha }
    : leak?.apiPath
      ? { apiPath: leak.apiPath }
      : undefined;
  if (incident.repository && origin && leak?.people === undefined) {
    const ref = {
      repository: incident.repository,
      alertNumber: incident.alertNumber ?? 0,
      ...(incident.installationId === undefined ? {} : { installationId: incident.installationId }),
    };
    const found = await deps.alerts.leakOrigin(ref, origin).catch((error: unknown) => {
      deps.log.warn("the leak's commit or comment is unavailable: the alert's time stands for the leak", {
        error: errorMessage(error),
      });
      return undefined;
    });
    if (found) {
      const committed = found.committedAt;
      await save((_t, draft) => {
        if (draft.leakLocation) draft.leakLocation = { ...draft.leakLocation, people: found.people };
        if (committed && (!draft.leakedAt || committed < draft.leakedAt)) {
          draft.leakedAt = new Date(committed).toISOString();
          draft.leakedAtSource = "commit";
        }
      });
    }
  }
  // A key reported by hand or by AWS Health has no known leak time: the look-back runs from
  // containment and every call in the window counts as possibly after the leak (never "not used
  // since the leak" on a guess).
  const leakedAt = incident.leakedAt ? new Date(incident.leakedAt) : undefined;
  const previous = incident.forensics;
  const window = previous
    ? { startTime: new Date(previous.window.startTime), endTime: new Date(previous.window.endTime) }
    : snapshotWindow({
        leakedAt: leakedAt ?? new Date(containedAt),
        containedAt: new Date(containedAt),
        now: deps.clock.now(),
        lookbackDays: deps.forensics.lookbackDays,
        graceMinutes: deps.forensics.graceMinutes,
      });

  // Step 5: the snapshot (continued from a checkpoint when an earlier invocation ran out of time).
  // A run that died after recording it must not take it again: a second part would hold the same
  // events twice, and the manifest and the findings would count them twice.
  // Revocation beyond the user: every role the key (or its minted keys) assumed, where we manage it,
  // started the moment the snapshot reads the AssumeRole (design.md: revocation waits for nothing).
  // Each step below is skipped when an earlier run recorded it done (a run can die between any two).
  const revokeRoles = !stepDone(incident, "roles-revoked");
  const revocations = new Map<string, Promise<RoleRevocation>>(
    (previous?.rolesRevoked ?? []).map((arn) => [arn, Promise.resolve({ arn, revoked: true as const })]),
  );
  const revokeOnce = (arn: string) => {
    let revocation = revocations.get(arn);
    if (!revocation) {
      revocation = revokeRole(arn, containedAt, deps);
      revocations.set(arn, revocation);
    }
    return revocation;
  };
  let forensics: ForensicsSummary;
  // Why the snapshot is given up unfinished, when it is: what was stored is analysed all the same.
  let givenUpBecause: string | undefined;
  const snapshotStarted = deps.clock.now();
  try {
    // A snapshot that has had all its runs reads no further: the whole run is left for reading back
    // what the earlier runs stored, the analysis, the plan and the issue.
    const stopHere = options.snapshotRunsUsed === true && previous?.checkpoint !== undefined;
    forensics =
      previous && (snapshotFinished(incident) || stopHere)
        ? previous
        : await snapshotOnce({ incident, accountId, window, previous }, deps, save, {
            ...options,
            ...(revokeRoles ? { onRoleAssumed: (arn: string) => void revokeOnce(arn) } : {}),
          });
    if (forensics.checkpoint && !forensics.partial) {
      const runs = forensics.parts.length;
      const reading = `${runs} run${runs === 1 ? "" : "s"} of reading`;
      givenUpBecause = options.snapshotRunsUsed
        ? `the time allowed for it ran out after ${reading}`
        : `its last attempt ran out of time after ${reading}`;
    }
  } catch (error: unknown) {
    // The last attempt failing keeps the parts earlier runs stored: they are evidence, and analysed.
    const kept = incident.forensics;
    if (!kept?.parts.length || !givenUp(error, options)) throw error;
    deps.log.warn("the snapshot failed for good: the parts stored are analysed as a partial snapshot", {
      error: errorMessage(error),
    });
    forensics = kept;
    givenUpBecause = options.finalAttempt
      ? `its last attempt failed (${errorMessage(error)})`
      : `it failed in a way no retry fixes (${errorMessage(error)})`;
  } finally {
    // A snapshot that continues in the next invocation still finishes the revocations it started.
    await Promise.all(revocations.values());
  }
  if (forensics.rolesAssumed.length > 0 && revokeRoles) {
    const already = new Set(forensics.rolesRevoked);
    const results = await Promise.all(
      forensics.rolesAssumed.filter((arn) => !already.has(arn)).map(revokeOnce),
    );
    await recordRoleRevocations(forensics, results, save);
  }

  // The evidence: all parts read back (they are what the manifest vouches for), then the manifest.
  const events = await readEvents(deps.evidence, incident.id, forensics.parts);
  if (givenUpBecause !== undefined) {
    forensics = await recordPartialSnapshot(
      { forensics, reason: givenUpBecause, started: snapshotStarted },
      events,
      save,
    );
  }
  if (!stepDone(incident, "evidence-stored"))
    await storeManifest(incident.id, accountId, forensics, events, deps, save);

  // Step 6: the findings.
  const analysisStarted = deps.clock.now();
  const ranges: { ranges?: ActionsRanges; problem?: string } = await deps
    .actionsRanges()
    .catch((error: unknown) => ({ problem: errorMessage(error) }));
  const findings = analyzeTrail(events, {
    ...(leakedAt ? { leakedAt: leakedAt.toISOString() } : {}),
    containedAt,
    accessKeyIds: [incident.accessKeyId],
    actionsRanges: ranges.ranges,
    actionsRangesProblem: ranges.problem,
    unreadRegions: forensics.incompleteRegions,
    partial: forensics.partial,
  });
  const findingsFile = await storeOnce(
    deps.evidence,
    incident.id,
    "findings.json",
    Buffer.from(`${JSON.stringify(findings, null, 2)}\n`),
    "application/json",
  );
  await save((t, draft) => {
    draft.forensics = {
      ...(draft.forensics ?? forensics),
      findings: findingsFile,
      verdict: findings.verdict,
      headline: findings.headline,
      signalCounts: signalCounts(findings),
    };
    t.record("analyzed", "done", `Verdict ${findings.verdict}: ${findings.headline}`, analysisStarted);
  });
  return { stored: { incident, etag }, findings, events };
}

/** The snapshot will not be taken again: done, or given up as partial (its parts are the evidence). */
export function snapshotFinished(incident: Incident): boolean {
  return stepDone(incident, "snapshot-taken") || incident.forensics?.partial !== undefined;
}

/**
 * Records a snapshot given up before it finished: the checkpoint's unread histories become the
 * missing ones (regions named incomplete, time ranges where known), the step is recorded as partial
 * with its time, and a warning says it where the owners read it.
 */
async function recordPartialSnapshot(
  given: { forensics: ForensicsSummary; reason: string; started: Date },
  events: TrailEvent[],
  save: SaveIncident,
): Promise<ForensicsSummary> {
  const { checkpoint, ...rest } = given.forensics;
  // Without a checkpoint nobody can tell what was left: every region of every key counts as missing.
  const pending =
    checkpoint?.pending ??
    rest.accessKeyIds.flatMap((accessKeyId) => rest.regions.map((region) => ({ accessKeyId, region })));
  const partial = { reason: given.reason, missing: missingHistory(pending, events, rest.window) };
  const unread = {
    incompleteRegions: [...new Set([...rest.incompleteRegions, ...missingRegions(partial)])].sort(),
    complete: false,
    partial,
  };
  const forensics: ForensicsSummary = { ...rest, ...unread };
  await save((t, draft) => {
    // Over what is saved (the roles revoked since are recorded there), not over this run's copy.
    draft.forensics = { ...(draft.forensics ?? forensics), ...unread };
    delete draft.forensics.checkpoint;
    t.record(
      "snapshot-taken",
      "partial",
      `PARTIAL: ${forensics.eventCount} events stored in ${forensics.parts.length} part(s), then given up: ${given.reason}. Not read: ${missingLines(partial).join("; ")}`,
      given.started,
    );
    warnOnce(draft, partialWarning(partial));
  });
  return forensics;
}

/** The stored findings of an incident (a retry that resumes after the analysis reads them back). */
export async function readFindings(
  evidence: EvidenceStore,
  incident: Incident,
): Promise<Findings | undefined> {
  if (!incident.forensics?.findings) return undefined;
  const body = await evidence.get(incident.id, incident.forensics.findings.name).catch(() => undefined);
  if (!body) return undefined;
  try {
    return JSON.parse(body.toString("utf8")) as Findings;
  } catch {
    return undefined;
  }
}

/** The snapshot's events, read back from the evidence parts (what the manifest vouches for). */
export async function readEvents(
  evidence: EvidenceStore,
  incidentId: string,
  parts: EvidenceFile[],
): Promise<TrailEvent[]> {
  const texts: string[] = [];
  for (const file of parts) {
    const body = await evidence.get(incidentId, file.name);
    if (!body) throw new TransientFailure(`Evidence part ${file.name} is missing`, "EvidenceMissing");
    texts.push(gunzipSync(body).toString("utf8"));
  }
  return parseTrailEvents(texts.join(""));
}

/** Takes (or continues) the snapshot, stores it as the next evidence part and records it. */
async function snapshotOnce(
  target: {
    incident: Incident;
    accountId: string;
    window: { startTime: Date; endTime: Date };
    previous: ForensicsSummary | undefined;
  },
  deps: PlaybookDeps & InvestigationDeps,
  save: SaveIncident,
  options: { deadline?: number; finalAttempt?: boolean; onRoleAssumed?: (roleArn: string) => void },
): Promise<ForensicsSummary> {
  const { incident, accountId, window, previous } = target;
  if (!incident.accessKeyId) throw new Error("snapshot without an access key id");
  const started = deps.clock.now();
  const activity = await deps.directory.activityIn(accountId);
  const input = {
    activity,
    accessKeyId: incident.accessKeyId,
    window,
    pacer: deps.pacer,
    ...(previous?.regions.length
      ? { regions: previous.regions }
      : deps.forensics.regions
        ? { regions: deps.forensics.regions }
        : {}),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    ...(options.onRoleAssumed ? { onRoleAssumed: options.onRoleAssumed } : {}),
  };
  const snapshot: Snapshot = previous?.checkpoint
    ? await continueSnapshot(input, previous.checkpoint)
    : await takeSnapshot(input);
  const partName = `cloudtrail-events-part-${String((previous?.parts.length ?? 0) + 1).padStart(3, "0")}.jsonl.gz`;
  const part = await storeOnce(
    deps.evidence,
    incident.id,
    partName,
    gzipSync(Buffer.from(snapshot.raw.map((line) => `${line}\n`).join(""), "utf8")),
    "application/gzip",
  );
  const forensics: ForensicsSummary = {
    window: snapshot.window,
    regions: snapshot.regions,
    accessKeyIds: [...new Set([...(previous?.accessKeyIds ?? []), ...snapshot.accessKeyIds])],
    eventCount: (previous?.eventCount ?? 0) + snapshot.events.length,
    incompleteRegions: [
      ...new Set([...(previous?.incompleteRegions ?? []), ...snapshot.incompleteRegions]),
    ].sort(),
    complete: false,
    rolesAssumed: [...new Set([...(previous?.rolesAssumed ?? []), ...snapshot.rolesAssumed])].sort(),
    rolesRevoked: previous?.rolesRevoked ?? [],
    parts: [...(previous?.parts ?? []), part],
    ...(snapshot.checkpoint ? { checkpoint: snapshot.checkpoint } : {}),
  };
  if (snapshot.checkpoint && options.finalAttempt) {
    // No run follows to continue it: the caller records it as partial, once the parts are read.
    await save((_t, draft) => {
      draft.forensics = forensics;
    });
    return forensics;
  }
  if (snapshot.checkpoint) {
    await save((t, draft) => {
      draft.forensics = forensics;
      t.record(
        "snapshot-taken",
        "skipped",
        `Part ${forensics.parts.length} stored (${snapshot.events.length} events); the history continues in the next invocation`,
        started,
      );
    });
    throw new TransientFailure(`Snapshot of ${incident.id} continues from a checkpoint`, "SnapshotContinues");
  }
  forensics.complete = forensics.incompleteRegions.length === 0;
  await save((t, draft) => {
    draft.forensics = forensics;
    const incomplete = forensics.incompleteRegions.length
      ? `; INCOMPLETE in ${forensics.incompleteRegions.join(", ")}`
      : "";
    t.record(
      "snapshot-taken",
      "done",
      `${forensics.eventCount} events in ${forensics.regions.length} regions for ${forensics.accessKeyIds.length} key(s)${incomplete}`,
      started,
    );
    if (forensics.incompleteRegions.length > 0) {
      draft.warnings.push(
        `CloudTrail history is incomplete in ${forensics.incompleteRegions.join(", ")}: look there by hand.`,
      );
    }
  });

  return forensics;
}

type RoleRevocation = { arn: string; revoked: true } | { arn: string; revoked: false; problem: string };

/** Denies sessions issued before containment on one role the key assumed, where it is managed. */
async function revokeRole(
  arn: string,
  containedAt: string,
  deps: PlaybookDeps & InvestigationDeps,
): Promise<RoleRevocation> {
  const role = roleName(arn);
  if (!role) return { arn, revoked: false, problem: "not a role ARN" };
  try {
    const home = await deps.directory.homeAccountId();
    if (
      !(await isManagedAccount(role.accountId, home, deps.settings.managedAccountIds, deps.memberAccounts))
    ) {
      return { arn, revoked: false, problem: "account not managed" };
    }
    const iam = await deps.directory.iamIn(role.accountId);
    await iam.denyOlderRoleSessions(role.name, new Date(containedAt));
    return { arn, revoked: true };
  } catch (error: unknown) {
    return { arn, revoked: false, problem: errorMessage(error) };
  }
}

async function recordRoleRevocations(
  forensics: ForensicsSummary,
  results: RoleRevocation[],
  save: SaveIncident,
): Promise<void> {
  const revoked = results.filter((r) => r.revoked).map((r) => r.arn);
  const notRevoked = results.flatMap((r) => (r.revoked ? [] : [`${r.arn} (${r.problem})`]));
  await save((t, draft) => {
    const summary = draft.forensics ?? forensics;
    draft.forensics = { ...summary, rolesRevoked: [...summary.rolesRevoked, ...revoked] };
    t.record(
      "roles-revoked",
      notRevoked.length > 0 ? "failed" : "done",
      [
        revoked.length ? `Sessions issued before containment denied on ${revoked.join(", ")}` : "",
        notRevoked.length ? `NOT revoked: ${notRevoked.join("; ")}` : "",
      ]
        .filter(Boolean)
        .join(". "),
    );
    if (notRevoked.length > 0) {
      warnOnce(draft, `Sessions of roles the key assumed were NOT revoked: ${notRevoked.join("; ")}`);
    }
  });
}

/** The manifest: the SHA-256 of every part, over the events as stored. */
async function storeManifest(
  incidentId: string,
  accountId: string,
  forensics: ForensicsSummary,
  events: TrailEvent[],
  deps: PlaybookDeps & InvestigationDeps,
  save: SaveIncident,
): Promise<void> {
  const perRegion: Record<string, number> = Object.fromEntries(forensics.regions.map((r) => [r, 0]));
  for (const event of events) perRegion[event.awsRegion] = (perRegion[event.awsRegion] ?? 0) + 1;
  const manifest = await storeOnce(
    deps.evidence,
    incidentId,
    "manifest.json",
    Buffer.from(
      `${JSON.stringify(
        {
          incidentId,
          accountId,
          accessKeyIds: forensics.accessKeyIds,
          window: forensics.window,
          regions: forensics.regions,
          eventsPerRegion: perRegion,
          events: events.length,
          incompleteRegions: forensics.incompleteRegions,
          complete: forensics.complete,
          ...(forensics.partial ? { partial: forensics.partial } : {}),
          files: forensics.parts.map(({ name, sha256, bytes }) => ({ name, sha256, bytes })),
          createdAt: deps.clock.now().toISOString(),
        },
        null,
        2,
      )}\n`,
    ),
    "application/json",
  );
  await save((t, draft) => {
    draft.forensics = { ...(draft.forensics ?? forensics), manifest };
    t.record(
      "evidence-stored",
      "done",
      `${forensics.parts.length + 1} evidence file(s); manifest sha256 ${manifest.sha256.slice(0, 12)}`,
    );
  });
}
