/**
 * The post-deploy selftest (`leak-responder selftest`): a signed `secret_scanning_alert` delivery for
 * a synthetic repository under a reserved owner. The respond side answers it with the configured
 * canary key only (src/adapters/github/selftest-alert-source.ts), so the delivery's sender chooses
 * nothing but dry-run or live and a fresh alert number: never which key is contained.
 */

/** The synthetic repositories' owner. The repository name says dry-run or live. */
const SELFTEST_OWNER = "leak-responder-selftest";

export type SelftestMode = "dry-run" | "live";

export function selftestRepository(mode: SelftestMode): string {
  return `${SELFTEST_OWNER}/${mode}`;
}

/**
 * Whether an alert is a selftest, and which. A GitHub App delivery always names its installation and
 * the selftest never does, so a real installation on an organisation that happens to use the
 * reserved name is never taken for one. Any name under the owner but `live` is a dry run.
 */
export function selftestMode(ref: {
  repository: string;
  installationId?: number | undefined;
}): SelftestMode | undefined {
  if (ref.installationId !== undefined) return undefined;
  const [owner, name] = ref.repository.toLowerCase().split("/");
  if (owner !== SELFTEST_OWNER) return undefined;
  return name === "live" ? "live" : "dry-run";
}

/** An incident a selftest made: the canary contained on purpose, not a leak (left out of summaries). */
export function isSelftestIncident(incident: {
  source: string;
  repository?: string | undefined;
  installationId?: number | undefined;
}): boolean {
  return (
    incident.source === "github-alert" &&
    incident.repository !== undefined &&
    selftestMode({ repository: incident.repository, installationId: incident.installationId }) !== undefined
  );
}
