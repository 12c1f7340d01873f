/**
 * A small world for the playbook's unit tests: a home and a member account, a CI user whose key
 * leaked in acme/api alert #7, and the in-memory fakes of every port, ready to fail on demand.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeAccessKeyId, fakeAccountId, fakeSecretAccessKey } from "../../sandbox/fake-ids.js";
import { FileEvidenceStore } from "../../src/adapters/local/file-evidence-store.js";
import type { AlertJob } from "../../src/domain/alert-job.js";
import type { InvestigationDeps } from "../../src/playbook/investigate.js";
import type { PlaybookDeps } from "../../src/playbook/respond.js";
import {
  FakeAlertSource,
  FakeClock,
  FakeKeyDirectory,
  MemoryIncidentStore,
  MemoryLog,
  RecordingNotifier,
  settings,
} from "./fakes.js";

export function world(
  options: {
    member?: boolean;
    userName?: string;
    secret?: (id: string, s: string) => string;
    /** The alert's state as GitHub shows it on the first fetch (a person may have resolved it already). */
    alertState?: { state: string; resolution: string | null };
    /** GitHub's validity check of the key (facts.md: `validity`). */
    validity?: string;
  } = {},
) {
  const home = fakeAccountId();
  const member = fakeAccountId();
  const accessKeyId = fakeAccessKeyId();
  const secret = fakeSecretAccessKey();
  const owner = options.member === false ? home : member;
  const directory = new FakeKeyDirectory(home);
  directory.owners.set(accessKeyId, owner);
  const iam = directory.account(owner);
  const userName = options.userName ?? "ci-deploy";
  iam.keys.set(accessKeyId, { userName, status: "Active" });
  const alerts = new FakeAlertSource({
    number: 7,
    state: "open",
    secretType: "aws_access_key_id",
    secret: options.secret ? options.secret(accessKeyId, secret) : `${accessKeyId}:${secret}`,
    htmlUrl: "https://github.com/acme/api/security/secret-scanning/7",
    ...options.alertState,
    ...(options.validity ? { validity: options.validity } : {}),
  });
  const incidents = new MemoryIncidentStore();
  const notifier = new RecordingNotifier();
  const log = new MemoryLog();
  const deps: PlaybookDeps = {
    alerts,
    directory,
    incidents,
    notifier,
    log,
    clock: new FakeClock(),
    settings: settings({ managedAccountIds: [member] }),
  };
  const job = (deliveryId = "d-1", action = "created"): AlertJob => ({
    version: 1,
    incidentId: "gh__acme__api__7",
    deliveryId,
    repository: "acme/api",
    alertNumber: 7,
    action,
    secretType: "aws_access_key_id",
    receivedAt: "2026-11-26T01:59:59.000Z",
    installationId: 42,
    repositoryVisibility: "private",
  });
  return {
    home,
    member,
    owner,
    accessKeyId,
    secret,
    directory,
    iam,
    alerts,
    incidents,
    notifier,
    log,
    deps,
    job,
  };
}

/**
 * Steps 5-8 for the world: evidence on disk in a fresh temporary folder named after the test, no
 * pacing, a one-day look-back, and GitHub Actions' runner ranges not fetched unless given.
 */
export function investigationDeps(
  folderPrefix: string,
  actionsRanges: InvestigationDeps["actionsRanges"] = async () => ({ problem: "not fetched in this test" }),
): InvestigationDeps & { evidence: FileEvidenceStore } {
  return {
    evidence: new FileEvidenceStore(mkdtempSync(join(tmpdir(), folderPrefix))),
    pacer: { acquire: async () => {}, backOff: () => {} },
    actionsRanges,
    forensics: { lookbackDays: 1, graceMinutes: 0 },
  };
}
