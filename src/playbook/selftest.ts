/**
 * How the playbook runs a selftest alert (src/domain/selftest.ts): the same steps as a real alert,
 * against the canary key only (the AlertSource answers a selftest alert with it: see
 * src/adapters/github/selftest-alert-source.ts, wired in src/responder.ts), with three differences.
 * A dry-run selftest runs in dry-run whatever the responder's mode (and a live one never runs in enforce mode when the responder is in dry-run);
 * nothing is asked of or written to GitHub (no plan for a repository that does not exist, no issue);
 * and a dry run, which the playbook otherwise only reports, is recorded in the incident store, where
 * `leak-responder selftest` reads each step's outcome.
 */
import type { AlertJob } from "../domain/alert-job.js";
import { ConflictError } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";
import { selftestMode } from "../domain/selftest.js";
import type {
  FollowUp,
  IncidentStore,
  NoticeKind,
  NoticeOptions,
  NotificationKind,
  NotificationReceipt,
  Notifier,
} from "../ports.js";
import type { PlaybookDeps } from "./respond.js";

/** The deps to run `job` with: `deps` itself unless the job is a selftest. */
export function forSelftest(job: AlertJob, deps: PlaybookDeps): PlaybookDeps {
  const mode = selftestMode(job);
  if (!mode) return deps;
  const dryRun = mode === "dry-run" || deps.settings.mode === "dry-run";
  const { issues: _noIssue, prevention: _noPlan, ...rest } = deps;
  return {
    ...rest,
    settings: { ...deps.settings, mode: dryRun ? "dry-run" : "enforce" },
    notifier: dryRun ? new DryRunRecorder(deps.notifier, deps.incidents) : deps.notifier,
  };
}

/** Records a selftest's dry-run result in the incident store as it is reported, then reports it. */
class DryRunRecorder implements Notifier {
  /** Only where the inner notifier can read its channel back (see Notifier.findSent). */
  readonly findSent?: (incident: Incident, kind: NoticeKind) => Promise<NotificationReceipt | undefined>;

  constructor(
    private readonly inner: Notifier,
    private readonly incidents: IncidentStore,
  ) {
    if (inner.findSent) this.findSent = inner.findSent.bind(inner);
  }

  async notify(
    incident: Incident,
    kind: NotificationKind,
    options?: NoticeOptions,
  ): Promise<NotificationReceipt | undefined> {
    if (kind !== "dry-run") return this.inner.notify(incident, kind, options);
    const recorded = this.incidents.create(incident).then(
      () => undefined,
      // A redelivery of the same selftest: the first one's record stands.
      (error: unknown) => (error instanceof ConflictError ? undefined : error),
    );
    const receipt = await this.inner.notify(incident, kind, options);
    const failure = await recorded;
    if (failure !== undefined) throw failure;
    return receipt;
  }

  followUp(details: FollowUp, options?: NoticeOptions): Promise<void> {
    return this.inner.followUp(details, options);
  }
}
