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
import { selftestMode } from "../domain/selftest.js";
import type { PlaybookDeps } from "./respond.js";

/** The deps to run `job` with: `deps` itself unless the job is a selftest. */
export function forSelftest(job: AlertJob, deps: PlaybookDeps): PlaybookDeps {
  const mode = selftestMode(job);
  if (!mode) return deps;
  const dryRun = mode === "dry-run" || deps.settings.mode === "dry-run";
  const { issues: _noIssue, prevention: _noPlan, ...rest } = deps;
  return {
    ...rest,
    settings: { ...deps.settings, mode: dryRun ? "dry-run" : "enforce", recordDryRun: true },
  };
}
