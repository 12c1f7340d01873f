/**
 * Steps 5 to 8, after containment: preserve and judge the history (investigate.ts), plan the move to
 * OIDC (prevent.ts), open the issue in the repository, send the follow-up, write the audit report.
 * Each step is recorded on the incident once; a step that fails for a passing reason is retried with
 * the message, one that cannot succeed is recorded with a warning, and neither undoes containment.
 */
import { ISSUE_LABEL, incidentIssue } from "../adapters/github/incident-issue.js";
import { errorMessage, isRetryable, TransientFailure } from "../domain/errors.js";
import { type Incident, stepDone } from "../domain/incident.js";
import type { Findings } from "../forensics/findings.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import type { AlertRef, EvidenceStore, StoredIncident } from "../ports.js";
import { loadReportInput } from "../report/load-report.js";
import { buildReport } from "../report/report-model.js";
import { storeReport } from "../report/store-report.js";
import { givenUp, warnOnce } from "./failure-policy.js";
import { incidentSaver } from "./incident-saver.js";
import { investigate, readEvents, readFindings, snapshotFinished } from "./investigate.js";
import { noticeDetail, sendNoticeOnce } from "./notice-once.js";
import { PLAN_PREFIX, planPrevention } from "./prevent.js";
import type { PlaybookDeps, RespondOptions } from "./respond.js";

const INVESTIGATION_STEPS = ["snapshot-taken", "evidence-stored", "analyzed"] as const;
const BEFORE_FOLLOW_UP: ReadonlySet<string> = new Set([...INVESTIGATION_STEPS, "planned", "issue-opened"]);

/** How many times the steps before the follow-up were recorded (done or failed). */
function stepsBeforeFollowUp(incident: Incident): number {
  return incident.timeline.filter((entry) => BEFORE_FOLLOW_UP.has(entry.step)).length;
}

export type AfterContainment = typeof afterContainment;

/** What steps 5-7 leave for the follow-up: read once, not again from the store. */
export interface Investigated {
  stored: StoredIncident;
  retryable: unknown[];
  findings?: Findings;
}

/**
 * Runs on a contained incident only (respond.ts checks), after the first message. `earlier` is the
 * incident as this delivery found it, when an earlier run had recorded it.
 */
export async function afterContainment(
  stored: StoredIncident,
  deps: PlaybookDeps,
  ref: AlertRef | undefined,
  options: RespondOptions,
  earlier?: Incident,
): Promise<{ stored: StoredIncident; retryable: unknown[] }> {
  const investigated = await investigateAndPlan(stored, deps, ref, options);
  const evidence = deps.investigation?.evidence;
  if (!evidence || investigated.retryable.length > 0) return investigated;
  const { incident } = investigated.stored;
  // The follow-up goes out right after the steps before it are recorded: a run that had to record
  // one of them itself follows a run that died before the follow-up, so only a run that found them
  // all recorded may follow a run that sent it and died.
  const mayHaveBeenSent =
    earlier !== undefined && stepsBeforeFollowUp(incident) === stepsBeforeFollowUp(earlier);
  return tellAndReport(investigated.stored, { ...deps, evidence }, options, {
    mayHaveBeenSent,
    ...(investigated.findings ? { findings: investigated.findings } : {}),
  });
}

/**
 * Steps 5-7 and the repository's issue: preserve and judge the history, plan the move to OIDC, open
 * the issue. In AWS this is the investigation stage (one account at a time: the queue's group).
 */
export async function investigateAndPlan(
  stored: StoredIncident,
  deps: PlaybookDeps,
  ref: AlertRef | undefined,
  options: RespondOptions,
): Promise<Investigated> {
  let { incident, etag } = stored;
  const retryable: unknown[] = [];
  const save = incidentSaver(
    deps,
    () => ({ incident, etag }),
    (next) => {
      ({ incident, etag } = next);
    },
  );

  let findings: Findings | undefined;
  let events: TrailEvent[] | undefined;
  if (deps.investigation) {
    try {
      const result = await investigate(
        { incident, etag },
        { ...deps, ...deps.investigation },
        {
          ...options,
          // Progress saved before a failure is the version the failure is recorded on.
          onSaved: (next) => {
            ({ incident, etag } = next);
          },
        },
      );
      ({ incident, etag } = result.stored);
      findings = result.findings;
      events = result.events;
    } catch (error: unknown) {
      // Containment stands; the evidence is retried (or continued from its checkpoint) by SQS.
      deps.log.warn("investigation did not finish", { error: errorMessage(error) });
      if (isRetryable(error) && !options.finalAttempt) retryable.push(error);
      else {
        // The failure belongs to the first step of the investigation it left unfinished.
        const step =
          INVESTIGATION_STEPS.find((name) =>
            name === "snapshot-taken" ? !snapshotFinished(incident) : !stepDone(incident, name),
          ) ?? "analyzed";
        await save((t, draft) => {
          t.record(step, "failed", errorMessage(error));
          warnOnce(draft, `Forensics did not complete: ${errorMessage(error)}`);
        });
      }
    }
  }

  // Step 7, the plan: after forensics, so permissions come from what the key actually did.
  if (deps.prevention && deps.investigation && retryable.length === 0 && !stepDone(incident, "planned")) {
    const started = deps.clock.now();
    findings ??= await readFindings(deps.investigation.evidence, incident);
    if (!events && incident.forensics?.parts.length) {
      events = await readEvents(deps.investigation.evidence, incident.id, incident.forensics.parts).catch(
        () => undefined,
      );
    }
    try {
      ({ incident, etag } = (
        await planPrevention(
          { incident, etag },
          { ...deps, ...deps.prevention },
          {
            ...(findings ? { findings } : {}),
            ...(events ? { events } : {}),
          },
        )
      ).stored);
    } catch (error: unknown) {
      deps.log.warn("the OIDC plan did not finish", { error: errorMessage(error) });
      // Only a dependency's passing trouble is worth a retry; a plan that cannot be built stays failed.
      if (error instanceof TransientFailure && !options.finalAttempt) retryable.push(error);
      else {
        await save((t, draft) => {
          t.record("planned", "failed", errorMessage(error), started);
          warnOnce(draft, `The OIDC migration plan could not be written: ${errorMessage(error)}`);
        });
      }
    }
  }

  // Step 8: the issue in the repository, with the plan's workflow diffs and a checklist.
  if (deps.issues && ref && retryable.length === 0 && !stepDone(incident, "issue-opened")) {
    const started = deps.clock.now();
    try {
      const existing = await deps.issues.tracker.findIssue(ref, ISSUE_LABEL, incident.id);
      const opened =
        existing ??
        (await deps.issues.tracker.openIssue(
          ref,
          incidentIssue({
            incident,
            ...(findings ? { findings } : {}),
            diffs: await planDiffs(deps, incident),
            hideIps: deps.issues.hideIps,
          }),
        ));
      await save((t, draft) => {
        draft.githubIssue = opened;
        t.record(
          "issue-opened",
          "done",
          `${existing ? "Issue already open" : "Issue opened"}: ${opened.url}`,
          started,
        );
      });
    } catch (error: unknown) {
      const gaveUp = givenUp(error, options);
      if (!gaveUp) retryable.push(error);
      await save((t, draft) => {
        t.record("issue-opened", "failed", errorMessage(error), started);
        if (gaveUp) warnOnce(draft, `No issue could be opened in the repository: ${errorMessage(error)}`);
      });
    }
  }

  return { stored: { incident, etag }, retryable, ...(findings ? { findings } : {}) };
}

export type TellDeps = Pick<PlaybookDeps, "incidents" | "notifier" | "log" | "clock"> & {
  evidence: EvidenceStore;
};

/**
 * Step 8, once the steps before it are done or have given up for good: the follow-up with findings
 * and plan, the audit report, the report in the Slack thread. In AWS this is the notification stage
 * (one process posts to the channel at a time: the queue's group).
 */
export async function tellAndReport(
  stored: StoredIncident,
  deps: TellDeps,
  options: RespondOptions,
  known: { mayHaveBeenSent: boolean; findings?: Findings },
): Promise<{ stored: StoredIncident; retryable: unknown[] }> {
  let { incident, etag } = stored;
  const retryable: unknown[] = [];
  const save = incidentSaver(
    deps,
    () => ({ incident, etag }),
    (next) => {
      ({ incident, etag } = next);
    },
  );
  let findings = known.findings;

  // Step 8, the follow-up: once forensics (and the plan) are done or have given up for good.
  if (!stepDone(incident, "followed-up")) {
    const started = deps.clock.now();
    findings ??= await readFindings(deps.evidence, incident);
    const plan = incident.plan
      ? { summary: incident.plan.summary, files: incident.plan.files, location: incident.plan.location }
      : undefined;
    const details = { incident, ...(findings ? { findings } : {}), ...(plan ? { plan } : {}) };
    try {
      const sent = await sendNoticeOnce({
        notifier: deps.notifier,
        log: deps.log,
        incident,
        kind: "follow-up",
        mayHaveBeenSent: known.mayHaveBeenSent,
        send: async (notice) => {
          await deps.notifier.followUp(details, notice);
          return undefined;
        },
      });
      await save((t) =>
        t.record("followed-up", "done", noticeDetail("Follow-up with findings sent", sent), started),
      );
    } catch (error: unknown) {
      // Slack refusing for good is not retried into the dead-letter queue: the issue and the report
      // already carry the findings; the log and the incident say the owners never got them in Slack.
      const gaveUp = givenUp(error, options);
      if (!gaveUp) retryable.push(error);
      deps.log.error("follow-up failed", { error: errorMessage(error) });
      await save((t, draft) => {
        t.record("followed-up", "failed", errorMessage(error), started);
        if (gaveUp)
          warnOnce(draft, `The follow-up with findings was NOT sent to Slack: ${errorMessage(error)}`);
      });
    }
  }

  // Step 8: the audit report, written once beside the evidence (read back from what is stored), last,
  // so what it says of the follow-up is still true when it is read.
  if (retryable.length === 0 && !stepDone(incident, "report-written")) {
    const started = deps.clock.now();
    const evidence = deps.evidence;
    try {
      const loaded = await loadReportInput({ incidents: deps.incidents, evidence }, incident.id);
      const files = await storeReport(
        evidence,
        buildReport({ ...loaded, generatedAt: deps.clock.now().toISOString() }),
      );
      await save((t, draft) => {
        draft.report = files.map(({ name, key, sha256, bytes }) => ({ name, key, sha256, bytes }));
        t.record("report-written", "done", `Audit report: ${files.map((f) => f.name).join(", ")}`, started);
      });
    } catch (error: unknown) {
      const gaveUp = givenUp(error, options);
      if (!gaveUp) retryable.push(error);
      await save((t, draft) => {
        t.record("report-written", "failed", errorMessage(error), started);
        if (gaveUp) warnOnce(draft, `The audit report could not be written: ${errorMessage(error)}`);
      });
    }
  }

  // The report in the incident's Slack thread (issue 13: attached, not only named by its S3 key).
  // Best effort: the report is stored and named in the follow-up whatever Slack says.
  const attach = deps.notifier.attachReport?.bind(deps.notifier);
  const html = incident.report?.find((file) => file.name.endsWith(".html"));
  if (
    attach &&
    html &&
    incident.notifications?.slack?.ts &&
    stepDone(incident, "report-written") &&
    !stepDone(incident, "report-attached")
  ) {
    const started = deps.clock.now();
    try {
      const body = await deps.evidence.get(incident.id, html.name);
      if (!body) throw new Error(`${html.name} is not in the evidence store`);
      await attach(incident, { filename: html.name, title: `Audit report ${incident.id}`, body });
      await save((t) =>
        t.record("report-attached", "done", `${html.name} shared in the Slack thread`, started),
      );
    } catch (error: unknown) {
      deps.log.warn("the report could not be attached in Slack", { error: errorMessage(error) });
      await save((t) => t.record("report-attached", "failed", errorMessage(error), started));
    }
  }

  return { stored: { incident, etag }, retryable };
}

/** The plan's workflow diffs, read back from the evidence store for the issue. */
async function planDiffs(
  deps: PlaybookDeps,
  incident: Incident,
): Promise<Array<{ path: string; diff: string }>> {
  const evidence = deps.prevention?.evidence;
  if (!evidence || !incident.plan) return [];
  const out: Array<{ path: string; diff: string }> = [];
  for (const path of incident.plan.files.filter((f) => f.endsWith(".diff"))) {
    const body = await evidence.get(incident.id, `${PLAN_PREFIX}/${path}`).catch(() => undefined);
    if (body) out.push({ path, diff: body.toString("utf8") });
  }
  return out;
}
