/**
 * The composition root of the respond side: real SDK clients, built once, wired into the playbook's
 * ports. The Lambda function, the CLI, the local server and the demo all build the responder here,
 * so they differ only in configuration (the sandbox is just other endpoints).
 */
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { AwsKeyDirectory } from "./adapters/aws/account-access.js";
import { awsClients, IAM_REGION } from "./adapters/aws/aws-clients.js";
import { OrganizationAccounts } from "./adapters/aws/organization-accounts.js";
import { awsRequestHandler } from "./adapters/aws/request-handler.js";
import { GitHubAlertSource } from "./adapters/github/alert-source.js";
import { GitHubIssueTracker } from "./adapters/github/issue-tracker.js";
import { githubClients } from "./adapters/github/octokit.js";
import { GitHubRepositorySource } from "./adapters/github/repository-source.js";
import { SelftestAlertSource } from "./adapters/github/selftest-alert-source.js";
import { createStores } from "./adapters/incident-stores.js";
import { LogNotifier } from "./adapters/local/log-notifier.js";
import { DEFAULT_RETRY as SLACK_RETRY, SlackNotifier } from "./adapters/slack/slack-notifier.js";
import type { Env, RespondConfig } from "./config.js";
import { ConfigError } from "./domain/errors.js";
import { loadActionsRanges } from "./forensics/actions-ranges.js";
import { lookupEventsPacer } from "./forensics/region-pacer.js";
import type { Log } from "./logger.js";
import type { PlaybookDeps } from "./playbook/respond.js";
import { Slots } from "./playbook/slots.js";
import {
  type AlertSource,
  type Clock,
  type EvidenceStore,
  type IncidentStore,
  type Notifier,
  systemClock,
} from "./ports.js";

/** One pacer per process: every snapshot in it shares the 2 requests/second per account and region. */
const sharedPacer = lookupEventsPacer();

/**
 * Steps 5-8 of at most this many incidents at once per process. A Lambda invocation holds 5 records,
 * so this binds only where one process handles a storm (`serve`, the demo's storm); there it keeps
 * CPU and sockets for containing the next keys (see slots.ts).
 */
const afterContainmentSlots = new Slots(16);

/** A manual response has no alert: reaching GitHub then is a wiring bug, said plainly. */
const noGitHub: AlertSource = {
  getAlert: () => Promise.reject(new ConfigError("GitHub is not configured (GITHUB_APP_ID or GITHUB_TOKEN)")),
  resolveAlert: () =>
    Promise.reject(new ConfigError("GitHub is not configured (GITHUB_APP_ID or GITHUB_TOKEN)")),
  leakOrigin: async () => ({ people: [] }),
};

/** SDK attempts per call: throttling and 5xx are retried with backoff before the playbook sees them. */
const AWS_MAX_ATTEMPTS = 5;

export interface ResponderOverrides {
  clock?: Clock;
  notifier?: Notifier;
  incidents?: IncidentStore;
  evidence?: EvidenceStore;
  /** Known without a call in Lambda (the function's ARN); looked up with GetCallerIdentity otherwise. */
  homeAccountId?: string;
  /** GitHub retry timing (tests shorten it). */
  githubRetryBaseMs?: number;
  /** Slack retry timing (tests shorten it; the retry count stays production's). */
  slackRetryMinMs?: number;
}

export function createPlaybookDeps(
  config: RespondConfig,
  log: Log,
  env: Env = process.env,
  overrides: ResponderOverrides = {},
): PlaybookDeps {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  const timeoutMs = config.callTimeoutMs;
  const sts = new STSClient({
    region,
    maxAttempts: AWS_MAX_ATTEMPTS,
    requestHandler: awsRequestHandler(timeoutMs),
  });
  const directory = new AwsKeyDirectory({
    sts,
    clients: awsClients({ maxAttempts: AWS_MAX_ATTEMPTS, callTimeoutMs: timeoutMs }),
    memberRoleName: config.memberRoleName,
    ...(config.memberRoleExternalId ? { externalId: config.memberRoleExternalId } : {}),
    ...(overrides.homeAccountId ? { homeAccountId: overrides.homeAccountId } : {}),
  });
  const github = config.github
    ? githubClients(config.github, {
        timeoutMs,
        ...(overrides.githubRetryBaseMs === undefined
          ? {}
          : { retryAfterBaseMs: overrides.githubRetryBaseMs }),
      })
    : undefined;
  // Always decorated: a selftest delivery is answered with the canary key and never reaches GitHub.
  const alerts = new SelftestAlertSource(
    github ? new GitHubAlertSource(github) : noGitHub,
    config.selftestCanaryKeyId,
  );
  const stores = createStores(config.store, region, AWS_MAX_ATTEMPTS, timeoutMs);
  const incidents = overrides.incidents ?? stores.incidents;
  const evidence = overrides.evidence ?? stores.evidence;
  const rangesFile = config.forensics.actionsRangesFile;
  const notifier =
    overrides.notifier ??
    (config.slack
      ? new SlackNotifier(
          config.slack.kind === "webhook"
            ? { kind: "webhook", url: config.slack.url }
            : {
                kind: "bot",
                token: config.slack.token,
                channel: config.slack.channel,
                ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}),
              },
          {
            owners: config.slack.owners,
            timeoutMs,
            ...(overrides.slackRetryMinMs === undefined
              ? {}
              : { retryConfig: { ...SLACK_RETRY, minTimeout: overrides.slackRetryMinMs } }),
          },
        )
      : new LogNotifier(log));
  return {
    alerts,
    directory,
    incidents,
    notifier,
    log,
    clock: overrides.clock ?? systemClock,
    settings: {
      mode: config.mode,
      protectedUsers: config.protectedUsers,
      managedAccountIds: config.managedAccountIds,
    },
    ...(config.organizationAccounts
      ? {
          // Organizations' endpoint, like IAM's, is global in us-east-1.
          memberAccounts: new OrganizationAccounts(
            new OrganizationsClient({
              region: IAM_REGION,
              maxAttempts: AWS_MAX_ATTEMPTS,
              requestHandler: awsRequestHandler(timeoutMs),
            }),
          ),
        }
      : {}),
    ...(github ? { prevention: { repositories: new GitHubRepositorySource(github), evidence } } : {}),
    ...(github && config.githubIssue.enabled
      ? { issues: { tracker: new GitHubIssueTracker(github), hideIps: config.githubIssue.hideIps } }
      : {}),
    afterContainmentSlots,
    // Deliveries of one alert running at once through these deps wait for each other (respondToAlert).
    inFlight: new Map(),
    investigation: {
      evidence,
      pacer: sharedPacer,
      forensics: config.forensics,
      actionsRanges: async () => {
        const loaded = await loadActionsRanges({
          apiUrl: config.github?.apiUrl ?? "https://api.github.com",
          timeoutMs,
          ...(rangesFile ? { cacheFile: rangesFile } : {}),
        });
        if (loaded.available) return { ranges: loaded.ranges };
        log.warn("GitHub Actions runner ranges unavailable", { problem: loaded.problem });
        return { problem: loaded.problem };
      },
    },
  };
}
