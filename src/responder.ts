/**
 * The composition root of the respond side in one process: the shared clients of steps 1-4
 * (responder-core.ts) with steps 5-8 on top. The CLI, the local server, the demo and the deployed
 * investigation and notification stages build the responder here, so they differ only in
 * configuration (the sandbox is just other endpoints).
 */
import { GitHubIssueTracker } from "./adapters/github/issue-tracker.js";
import { GitHubRepositorySource } from "./adapters/github/repository-source.js";
import { LogNotifier } from "./adapters/local/log-notifier.js";
import { DEFAULT_RETRY as SLACK_RETRY, SlackNotifier } from "./adapters/slack/slack-notifier.js";
import type { Env, RespondConfig } from "./config.js";
import { loadActionsRanges } from "./forensics/actions-ranges.js";
import { lookupEventsPacer } from "./forensics/region-pacer.js";
import type { Log } from "./logger.js";
import { afterContainment } from "./playbook/after-containment.js";
import type { PlaybookDeps } from "./playbook/respond.js";
import { Slots } from "./playbook/slots.js";
import type { Notifier } from "./ports.js";
import { createCoreDeps, type ResponderOverrides } from "./responder-core.js";

export type { ResponderOverrides } from "./responder-core.js";

/** One pacer per process: every snapshot in it shares the 2 requests/second per account and region. */
const sharedPacer = lookupEventsPacer();

/**
 * Steps 5-8 of at most this many incidents at once per process. A Lambda invocation holds 5 records,
 * so this binds only where one process handles a storm (`serve`, the demo's storm); there it keeps
 * CPU and sockets for containing the next keys (see slots.ts).
 */
const afterContainmentSlots = new Slots(16);

/** Slack as configured (bot token or incoming webhook), or the log when there is none. */
export function createNotifier(
  config: RespondConfig,
  log: Log,
  overrides: Pick<ResponderOverrides, "slackRetryMinMs"> = {},
): Notifier {
  if (!config.slack) return new LogNotifier(log);
  return new SlackNotifier(
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
      timeoutMs: config.callTimeoutMs,
      ...(overrides.slackRetryMinMs === undefined
        ? {}
        : { retryConfig: { ...SLACK_RETRY, minTimeout: overrides.slackRetryMinMs } }),
    },
  );
}

export function createPlaybookDeps(
  config: RespondConfig,
  log: Log,
  env: Env = process.env,
  overrides: ResponderOverrides = {},
): PlaybookDeps {
  const { github, evidence, region: _region, ...core } = createCoreDeps(config, log, env, overrides);
  const rangesFile = config.forensics.actionsRangesFile;
  return {
    ...core,
    notifier: overrides.notifier ?? createNotifier(config, log, overrides),
    ...(github ? { prevention: { repositories: new GitHubRepositorySource(github), evidence } } : {}),
    ...(github && config.githubIssue.enabled
      ? { issues: { tracker: new GitHubIssueTracker(github), hideIps: config.githubIssue.hideIps } }
      : {}),
    afterContainment,
    afterContainmentSlots,
    investigation: {
      evidence,
      pacer: sharedPacer,
      forensics: config.forensics,
      actionsRanges: async () => {
        const loaded = await loadActionsRanges({
          apiUrl: config.github?.apiUrl ?? "https://api.github.com",
          timeoutMs: config.callTimeoutMs,
          ...(rangesFile ? { cacheFile: rangesFile } : {}),
        });
        if (loaded.available) return { ranges: loaded.ranges };
        log.warn("GitHub Actions runner ranges unavailable", { problem: loaded.problem });
        return { problem: loaded.problem };
      },
    },
  };
}
