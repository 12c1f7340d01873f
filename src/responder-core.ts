/**
 * What every way of running the responder shares for steps 1-4 (identify, locate, contain, close the
 * loop): the SDK clients, built once, behind the playbook's ports. The deployed containment function
 * is built from this alone, so its bundle carries neither Slack nor forensics nor the OIDC plan
 * (issue 13: the 2 AM path loads only what it runs); responder.ts adds steps 5-8 for one process.
 */
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { AwsKeyDirectory } from "./adapters/aws/account-access.js";
import { awsClients, IAM_REGION } from "./adapters/aws/aws-clients.js";
import { OrganizationAccounts } from "./adapters/aws/organization-accounts.js";
import { awsRequestHandler } from "./adapters/aws/request-handler.js";
import { GitHubAlertSource } from "./adapters/github/alert-source.js";
import { type GitHubClients, githubClients } from "./adapters/github/octokit.js";
import { SelftestAlertSource } from "./adapters/github/selftest-alert-source.js";
import { createStores } from "./adapters/incident-stores.js";
import type { Env, RespondConfig } from "./config.js";
import { ConfigError } from "./domain/errors.js";
import type { Log } from "./logger.js";
import type { PlaybookDeps } from "./playbook/respond.js";
import {
  type AlertSource,
  type Clock,
  type EvidenceStore,
  type IncidentStore,
  type Notifier,
  systemClock,
} from "./ports.js";

/** A manual response has no alert: reaching GitHub then is a wiring bug, said plainly. */
const noGitHub: AlertSource = {
  getAlert: () => Promise.reject(new ConfigError("GitHub is not configured (GITHUB_APP_ID or GITHUB_TOKEN)")),
  resolveAlert: () =>
    Promise.reject(new ConfigError("GitHub is not configured (GITHUB_APP_ID or GITHUB_TOKEN)")),
  leakOrigin: async () => ({ people: [] }),
};

/** SDK attempts per call: throttling and 5xx are retried with backoff before the playbook sees them. */
export const AWS_MAX_ATTEMPTS = 5;

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

export type CoreDeps = Omit<PlaybookDeps, "notifier"> & {
  evidence: EvidenceStore;
  /** Present when GitHub is configured: steps 7-8 reach the repository through it. */
  github?: GitHubClients;
  region: string;
};

export function createCoreDeps(
  config: RespondConfig,
  log: Log,
  env: Env = process.env,
  overrides: ResponderOverrides = {},
): CoreDeps {
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
  return {
    region,
    alerts,
    directory,
    incidents: overrides.incidents ?? stores.incidents,
    evidence: overrides.evidence ?? stores.evidence,
    log,
    clock: overrides.clock ?? systemClock,
    settings: {
      mode: config.mode,
      protectedUsers: config.protectedUsers,
      managedAccountIds: config.managedAccountIds,
    },
    ...(github ? { github } : {}),
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
    // Deliveries of one alert running at once through these deps wait for each other (respondToAlert).
    inFlight: new Map(),
  };
}
