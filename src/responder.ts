/**
 * The composition root of the respond side: real SDK clients, built once, wired into the playbook's
 * ports. The Lambda function, the CLI, the local server and the demo all build the responder here,
 * so they differ only in configuration (the sandbox is just other endpoints).
 */
import { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { AwsKeyDirectory } from "./adapters/aws/account-access.js";
import { awsClients } from "./adapters/aws/aws-clients.js";
import { S3IncidentStore } from "./adapters/aws/s3-incident-store.js";
import { GitHubAlertSource } from "./adapters/github/alert-source.js";
import { githubClients } from "./adapters/github/octokit.js";
import { FileIncidentStore } from "./adapters/local/file-incident-store.js";
import { LogNotifier } from "./adapters/local/log-notifier.js";
import { SlackWebhookNotifier } from "./adapters/slack/webhook-notifier.js";
import type { Env, RespondConfig } from "./config.js";
import { ConfigError } from "./domain/errors.js";
import type { Log } from "./logger.js";
import type { PlaybookDeps } from "./playbook/respond.js";
import { type AlertSource, type Clock, type IncidentStore, type Notifier, systemClock } from "./ports.js";

/** A manual response has no alert: reaching GitHub then is a wiring bug, said plainly. */
const noGitHub: AlertSource = {
  getAlert: () => Promise.reject(new ConfigError("GitHub is not configured (GITHUB_APP_ID or GITHUB_TOKEN)")),
  resolveAlert: () =>
    Promise.reject(new ConfigError("GitHub is not configured (GITHUB_APP_ID or GITHUB_TOKEN)")),
};

/** SDK attempts per call: throttling and 5xx are retried with backoff before the playbook sees them. */
const AWS_MAX_ATTEMPTS = 5;

export interface ResponderOverrides {
  clock?: Clock;
  notifier?: Notifier;
  incidents?: IncidentStore;
  /** Known without a call in Lambda (the function's ARN); looked up with GetCallerIdentity otherwise. */
  homeAccountId?: string;
  /** GitHub retry timing (tests shorten it). */
  githubRetryBaseMs?: number;
}

export function createPlaybookDeps(
  config: RespondConfig,
  log: Log,
  env: Env = process.env,
  overrides: ResponderOverrides = {},
): PlaybookDeps {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  const sts = new STSClient({ region, maxAttempts: AWS_MAX_ATTEMPTS });
  const directory = new AwsKeyDirectory({
    sts,
    clients: awsClients({ maxAttempts: AWS_MAX_ATTEMPTS }),
    memberRoleName: config.memberRoleName,
    ...(overrides.homeAccountId ? { homeAccountId: overrides.homeAccountId } : {}),
  });
  const alerts = config.github
    ? new GitHubAlertSource(
        githubClients(config.github, {
          ...(overrides.githubRetryBaseMs === undefined
            ? {}
            : { retryAfterBaseMs: overrides.githubRetryBaseMs }),
        }),
      )
    : noGitHub;
  const incidents =
    overrides.incidents ??
    (config.store.kind === "s3"
      ? new S3IncidentStore(new S3Client({ region, maxAttempts: AWS_MAX_ATTEMPTS }), config.store.bucket)
      : new FileIncidentStore(config.store.dir));
  const notifier =
    overrides.notifier ??
    (config.slackWebhookUrl ? new SlackWebhookNotifier(config.slackWebhookUrl) : new LogNotifier(log));
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
  };
}
