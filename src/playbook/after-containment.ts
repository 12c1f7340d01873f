/**
 * Steps 5 to 8, after containment: preserve and judge the history (investigate.ts), plan the move to
 * OIDC (prevent.ts), open the issue in the repository, write the audit report, send the follow-up.
 * Each step is recorded on the incident once; a step that fails for a passing reason is retried with
 * the message, one that cannot succeed is recorded with a warning, and neither undoes containment.
 */
import { ISSUE_LABEL, incidentIssue } from "../adapters/github/incident-issue.js";
import { errorMessage, isRetryable, TransientFailure } from "../domain/errors.js";
import { type Incident, stepDone } from "../domain/incident.js";
import type { Findings } from "../forensics/findings.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import type { AlertRef, StoredIncident } from "../ports.js";
import { loadReportInput } from "../report/load-report.js";
import { buildReport } from "../report/report-model.js";
import { storeReport } from "../report/store-report.js";
import { incidentSaver } from "./incident-saver.js";
import { investigate, readEvents, readFindings } from "./investigate.js";
import { PLAN_PREFIX, planPrevention } from "./prevent.js";
import type { PlaybookDeps, RespondOptions } from "./respond.js";

/** Runs on a contained incident only (respond.ts checks), after the first message. */
export async function afterContainment(
  stored: StoredIncident,
  deps: PlaybookDeps,
  ref: AlertRef | undefined,
  options: RespondOptions,
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

  let findings: Findings | undefined;
  let events: TrailEvent[] | undefined;
  if (deps.investigation && retryable.length === 0) {
    try {
      const result = await investigate({ incident, etag }, { ...deps, ...deps.investigation }, options);
      ({ incident, etag } = result.stored);
      findings = result.findings;
      events = result.events;
    } catch (error: unknown) {
      // Containment stands; the evidence is retried (or continued from its checkpoint) by SQS.
      deps.log.warn("investigation did not finish", { error: errorMessage(error) });
      if (isRetryable(error) && !options.finalAttempt) retryable.push(error);
      else {
        const current = await deps.incidents.get(incident.id);
        if (current) ({ incident, etag } = current);
        await save((t, draft) => {
          t.record("snapshot-taken", "failed", errorMessage(error));
          draft.warnings.push(`Forensics did not complete: ${errorMessage(error)}`);
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
          draft.warnings.push(`The OIDC migration plan could not be written: ${errorMessage(error)}`);
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
      if (error instanceof TransientFailure && !options.finalAttempt) retryable.push(error);
      await save((t, draft) => {
        t.record("issue-opened", "failed", errorMessage(error), started);
        if (!(error instanceof TransientFailure))
          draft.warnings.push(`No issue could be opened in the repository: ${errorMessage(error)}`);
      });
    }
  }

  // Step 8: the audit report, written once beside the evidence (read back from what is stored).
  if (deps.investigation && retryable.length === 0 && !stepDone(incident, "report-written")) {
    const started = deps.clock.now();
    const evidence = deps.investigation.evidence;
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
      if (error instanceof TransientFailure && !options.finalAttempt) retryable.push(error);
      await save((t, draft) => {
        t.record("report-written", "failed", errorMessage(error), started);
        if (!(error instanceof TransientFailure))
          draft.warnings.push(`The audit report could not be written: ${errorMessage(error)}`);
      });
    }
  }

  // Step 8, the follow-up: once forensics (and the plan) are done or have given up for good.
  if (deps.investigation && retryable.length === 0 && !stepDone(incident, "followed-up")) {
    const started = deps.clock.now();
    findings ??= await readFindings(deps.investigation.evidence, incident);
    const plan = incident.plan
      ? { summary: incident.plan.summary, files: incident.plan.files, location: incident.plan.location }
      : undefined;
    try {
      await deps.notifier.followUp({
        incident,
        ...(findings ? { findings } : {}),
        ...(plan ? { plan } : {}),
      });
      await save((t) => t.record("followed-up", "done", "Follow-up with findings sent", started));
    } catch (error: unknown) {
      retryable.push(error);
      await save((t) => t.record("followed-up", "failed", errorMessage(error), started));
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
