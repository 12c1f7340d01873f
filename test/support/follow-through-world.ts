/**
 * A world for the daily follow-through's unit tests: a key contained 40 days ago in acme/api (alert
 * #7), its incident with the plan's record, the incident's GitHub issue and its Slack thread, and
 * `run`, one day's follow-through over it.
 */
import { fakeAccessKeyId, fakeAccountId } from "../../sandbox/fake-ids.js";
import type { Incident, PlanSummary } from "../../src/domain/incident.js";
import { followThrough } from "../../src/playbook/follow-through.js";
import type { PlaybookDeps } from "../../src/playbook/respond.js";
import {
  FakeAlertSource,
  FakeClock,
  FakeIssueTracker,
  FakeKeyDirectory,
  FakeRepositoryReader,
  MemoryIncidentStore,
  MemoryLog,
  minimalIncident,
  RecordingNotifier,
  settings,
} from "./fakes.js";

export const DAY_MS = 86_400_000;

/** deploy.yml once migrated: no key left in it, the job assumes `role` through GitHub's OIDC provider. */
export function migratedWorkflow(role: string): string {
  return `name: Deploy
on: push
permissions:
  id-token: write
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn:aws:iam::123456789012:role/${role}
          aws-region: eu-west-1
      - run: aws s3 sync site s3://example-site
`;
}

/** The incident's thread and the channel: what the follow-through says, line by line. */
export class ThreadNotifier extends RecordingNotifier {
  readonly reminders: string[][] = [];
  readonly summaries: string[][] = [];
  async remind(_incident: Incident, lines: readonly string[]): Promise<void> {
    this.reminders.push([...lines]);
  }
  async announce(lines: readonly string[]): Promise<void> {
    this.summaries.push([...lines]);
  }
}

export async function followThroughWorld(options: {
  /** The incident issue's body, with its checklist. */
  issueBody: string;
  /** `.github/workflows/deploy.yml` as it is today. */
  workflow: string;
  plan: Pick<PlanSummary, "roles" | "keySecrets" | "environments">;
  viaMemberRole: boolean;
  visibility?: "private" | "public";
}) {
  const account = fakeAccountId();
  const accessKeyId = fakeAccessKeyId();
  const containedAt = new Date("2026-10-01T02:00:00.000Z");
  const directory = new FakeKeyDirectory(account);
  const iam = directory.account(account);
  iam.keys.set(accessKeyId, { userName: "ci-deploy", status: "Inactive" });
  const repositories = new FakeRepositoryReader("acme/api");
  repositories.files.set(".github/workflows/deploy.yml", options.workflow);
  const tracker = new FakeIssueTracker();
  const issue = await tracker.openIssue(
    { repository: "acme/api", alertNumber: 7 },
    { body: options.issueBody },
  );
  const incidents = new MemoryIncidentStore();
  await incidents.create({
    ...minimalIncident("gh__acme__api__7", "contained"),
    accessKeyId,
    repository: "acme/api",
    repositoryVisibility: options.visibility ?? "private",
    installationId: 42,
    location: { accountId: account, viaMemberRole: options.viaMemberRole, userName: "ci-deploy" },
    containment: { containedAt: containedAt.toISOString(), quarantinePolicies: [] },
    githubIssue: issue,
    plan: {
      summary: "",
      files: [],
      nothingToMigrate: false,
      ...options.plan,
      location: "incidents/gh__acme__api__7/evidence/plan/",
    },
  });
  const notifier = new ThreadNotifier();
  const deps: PlaybookDeps = {
    // The follow-through never reads the alert.
    alerts: new FakeAlertSource({
      number: 7,
      state: "resolved",
      secretType: "aws_access_key_id",
      secret: accessKeyId,
    }),
    directory,
    incidents,
    notifier,
    log: new MemoryLog(),
    clock: new FakeClock(new Date(containedAt.getTime() + 40 * DAY_MS)),
    settings: settings(),
    prevention: {
      repositories,
      evidence: { putOnce: async () => Promise.reject(new Error("unused")), get: async () => undefined },
    },
    issues: { tracker, hideIps: false },
  };
  const run = async () => {
    const result = await followThrough(deps, { deleteProposalDays: 30 });
    return {
      result,
      check: result.checked[0]?.check,
      reminder: notifier.reminders.at(-1)?.join("\n") ?? "",
      summary: notifier.summaries.at(-1)?.join("\n") ?? "",
      issueBody: tracker.bodies.get(issue.number) ?? "",
    };
  };
  return { account, accessKeyId, iam, repositories, tracker, issue, incidents, notifier, run };
}
