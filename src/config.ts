/**
 * Configuration is read and validated once, at start-up, from an environment map (style.md:
 * `loadConfig(env = process.env)`); every error names the variable. Secrets come from the
 * environment here; in AWS the function resolves them from SSM first (see src/adapters/aws/ssm-secrets.ts).
 */
import { isAccessKeyId, keyKind } from "./domain/access-key.js";
import { ConfigError } from "./domain/errors.js";

export type Env = Readonly<Record<string, string | undefined>>;

/** facts.md: the AWS secret types GitHub secret scanning reports. */
export const DEFAULT_AWS_SECRET_TYPES = [
  "aws_access_key_id",
  "aws_secret_access_key",
  "aws_temporary_access_key_id",
  "aws_session_token",
  "aws_api_key",
] as const;

export interface IntakeConfig {
  webhookSecrets: string[];
  awsSecretTypes: string[];
  /** Bodies larger than this are refused with 413 before anything else is done. */
  maxBodyBytes: number;
}

export interface GitHubAuthConfig {
  apiUrl: string;
  auth: { kind: "app"; appId: number; privateKey: string } | { kind: "token"; token: string };
}

export interface RespondConfig {
  mode: "enforce" | "dry-run";
  protectedUsers: string[];
  managedAccountIds: string[];
  /** Every ACTIVE account of the AWS organisation is managed too (ORGANIZATION_ACCOUNTS). */
  organizationAccounts: boolean;
  memberRoleName: string;
  /** Sent as ExternalId when assuming the member role (the member template's ExternalId). */
  memberRoleExternalId?: string;
  /** Absent only for a manual response to a key (no alert to read or resolve). */
  github?: GitHubAuthConfig;
  /** The only key a selftest delivery may name (`leak-responder selftest`): the operator's canary. */
  selftestCanaryKeyId?: string;
  /** Absent: notifications go to the log. */
  slack?:
    | { kind: "webhook"; url: string; owners: Record<string, string> }
    | { kind: "bot"; token: string; channel: string; apiUrl?: string; owners: Record<string, string> };
  /** Open an issue in the affected repository (default on); hide source IPs in it if asked. */
  githubIssue: { enabled: boolean; hideIps: boolean };
  /**
   * Where incidents live: the S3 bucket in AWS (evidence locked there for evidenceRetentionDays), a
   * folder for local runs (nothing can be locked on a filesystem).
   */
  store: { kind: "s3"; bucket: string; evidenceRetentionDays: number } | { kind: "file"; dir: string };
  /** Deliveries of one SQS message before it goes to the dead-letter queue (the redrive policy). */
  maxReceiveCount: number;
  /**
   * The deployed stages' FIFO queues (INVESTIGATION_QUEUE_URL, NOTIFICATION_QUEUE_URL): containment
   * hands over to them. Absent where one process runs the whole playbook.
   */
  stageQueues?: { investigation: string; notification: string };
  /**
   * The stages' FIFO dead-letter queues (INVESTIGATION_DEAD_LETTER_QUEUE_URL,
   * NOTIFICATION_DEAD_LETTER_QUEUE_URL): a message that no delivery can make succeed is moved there
   * at once (src/adapters/aws/poison-messages.ts). Each stage function is given its own queue's only.
   */
  deadLetterQueues: { investigation?: string; notification?: string };
  /** Follow-through: days unused, with the migration verified, before deleting the key is proposed. */
  deleteProposalDays: number;
  /**
   * How long one call to AWS, GitHub or Slack may take before it is abandoned (and retried by the
   * client like a 5xx): a hung dependency must cost seconds, not the function's whole timeout.
   */
  callTimeoutMs: number;
  forensics: {
    /** Days of history before the leak (default 7; CloudTrail keeps at most 90). */
    lookbackDays: number;
    /** Minutes after containment still in the window (default 15). */
    graceMinutes: number;
    /** Overrides the enabled-regions lookup (comma list). */
    regions?: string[];
    /** An offline copy of GitHub's /meta for the Actions runner ranges. */
    actionsRangesFile?: string;
  };
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function required(env: Env, name: string, why: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is not set: ${why}`);
  return value;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive whole number, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string, fallback?: string): string {
  const raw = env[name]?.trim() || fallback;
  if (!raw) throw new ConfigError(`${name} is not set`);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    // The value may be a secret (a Slack webhook URL): never echo it.
    throw new ConfigError(`${name} is not a valid http(s) URL`);
  }
  // Every one of these URLs carries a token (or is one): clear text only to the local sandbox.
  const secure =
    parsed.protocol === "https:" || (parsed.protocol === "http:" && isLoopbackHost(parsed.hostname));
  if (!secure) {
    throw new ConfigError(`${name} must be an https URL (http is allowed only on a loopback address)`);
  }
  return raw.replace(/\/+$/, "");
}

/** `URL.hostname` keeps IPv6 brackets; a name like "localhost.example" is not loopback. */
function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(hostname)
  );
}

export function loadIntakeConfig(env: Env = process.env): IntakeConfig {
  const current = required(
    env,
    "GITHUB_WEBHOOK_SECRET",
    "the intake cannot verify GitHub's signature without it",
  );
  const previous = env.GITHUB_WEBHOOK_SECRET_PREVIOUS?.trim();
  const types = list(env.AWS_SECRET_TYPES);
  return {
    webhookSecrets: previous ? [current, previous] : [current],
    awsSecretTypes: types.length > 0 ? types : [...DEFAULT_AWS_SECRET_TYPES],
    maxBodyBytes: positiveInt(env, "MAX_WEBHOOK_BODY_BYTES", 256 * 1024),
  };
}

export function loadGitHubAuthConfig(env: Env = process.env): GitHubAuthConfig {
  const apiUrl = url(env, "GITHUB_API_URL", "https://api.github.com");
  const appId = env.GITHUB_APP_ID?.trim();
  if (appId) {
    const id = Number(appId);
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new ConfigError(`GITHUB_APP_ID must be the App's numeric id, got "${appId}"`);
    }
    const privateKey = required(
      env,
      "GITHUB_APP_PRIVATE_KEY",
      "GITHUB_APP_ID is set, so the App's private key (PEM) is needed to mint installation tokens",
    ).replace(/\\n/g, "\n");
    return { apiUrl, auth: { kind: "app", appId: id, privateKey } };
  }
  const token = env.GITHUB_TOKEN?.trim();
  if (!token) {
    throw new ConfigError(
      "Neither GITHUB_APP_ID (with GITHUB_APP_PRIVATE_KEY) nor GITHUB_TOKEN is set: the responder cannot read the alert",
    );
  }
  return { apiUrl, auth: { kind: "token", token } };
}

export function loadRespondConfig(
  env: Env = process.env,
  options: { github: "required" | "optional" } = { github: "required" },
): RespondConfig {
  const mode = env.RESPONDER_MODE?.trim() || "enforce";
  if (mode !== "enforce" && mode !== "dry-run") {
    throw new ConfigError(`RESPONDER_MODE must be "enforce" or "dry-run", got "${mode}"`);
  }
  const managedAccountIds = list(env.MANAGED_ACCOUNT_IDS);
  for (const id of managedAccountIds) {
    if (!/^\d{12}$/.test(id)) {
      throw new ConfigError(`MANAGED_ACCOUNT_IDS must list 12-digit AWS account ids, got "${id}"`);
    }
  }
  const memberRoleName = env.MEMBER_ROLE_NAME?.trim() || "LeakResponderMember";
  if (!/^[\w+=,.@-]{1,64}$/.test(memberRoleName)) {
    throw new ConfigError(`MEMBER_ROLE_NAME is not a valid IAM role name: "${memberRoleName}"`);
  }
  // AWS: 2-1224 characters of [\w+=,.@:/-].
  const externalId = env.MEMBER_ROLE_EXTERNAL_ID?.trim();
  if (externalId && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
    throw new ConfigError(
      "MEMBER_ROLE_EXTERNAL_ID must be 2-1224 characters of letters, digits and +=,.@:/-",
    );
  }
  const bucket = env.INCIDENT_BUCKET?.trim();
  const dir = env.INCIDENT_DIR?.trim();
  if (!bucket && !dir) {
    throw new ConfigError(
      "Neither INCIDENT_BUCKET (S3, in AWS) nor INCIDENT_DIR (local runs) is set: incidents need a home",
    );
  }
  const lookbackDays = positiveInt(env, "LOOKBACK_DAYS", 7);
  if (lookbackDays > 90)
    throw new ConfigError(`LOOKBACK_DAYS must be at most 90 (CloudTrail keeps 90 days), got ${lookbackDays}`);
  const regions = list(env.SNAPSHOT_REGIONS);
  for (const region of regions) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
      throw new ConfigError(`SNAPSHOT_REGIONS has "${region}", not a region name`);
  }
  const rangesFile = env.ACTIONS_RANGES_FILE?.trim();
  // A long-term key (AKIA) of a canary IAM user: the selftest contains it and nothing else.
  const canaryKeyId = env.SELFTEST_CANARY_KEY_ID?.trim();
  if (canaryKeyId && !(isAccessKeyId(canaryKeyId) && keyKind(canaryKeyId) === "long-term")) {
    throw new ConfigError(
      "SELFTEST_CANARY_KEY_ID must be an access key id of an IAM user (AKIA + 16 characters)",
    );
  }
  return {
    forensics: {
      lookbackDays,
      graceMinutes: positiveInt(env, "SNAPSHOT_GRACE_MINUTES", 15),
      ...(regions.length > 0 ? { regions } : {}),
      ...(rangesFile ? { actionsRangesFile: rangesFile } : {}),
    },
    store: bucket
      ? { kind: "s3", bucket, evidenceRetentionDays: evidenceRetentionDays(env) }
      : { kind: "file", dir: dir ?? "" },
    maxReceiveCount: positiveInt(env, "MAX_RECEIVE_COUNT", 5),
    ...stageQueues(env),
    deadLetterQueues: deadLetterQueues(env),
    deleteProposalDays: positiveInt(env, "DELETE_PROPOSAL_DAYS", 30),
    callTimeoutMs: callTimeoutMs(env),
    mode,
    protectedUsers: list(env.PROTECTED_USERS),
    managedAccountIds,
    organizationAccounts: flag(env, "ORGANIZATION_ACCOUNTS", false),
    memberRoleName,
    ...(externalId ? { memberRoleExternalId: externalId } : {}),
    ...(canaryKeyId ? { selftestCanaryKeyId: canaryKeyId } : {}),
    ...(options.github === "required" || env.GITHUB_APP_ID?.trim() || env.GITHUB_TOKEN?.trim()
      ? { github: loadGitHubAuthConfig(env) }
      : {}),
    ...slackConfig(env),
    githubIssue: {
      enabled: flag(env, "GITHUB_ISSUE", true),
      hideIps: flag(env, "GITHUB_ISSUE_HIDE_IPS", false),
    },
  };
}

/** Both stage queues or neither; each an SQS FIFO queue URL (the message groups are the guarantee). */
function stageQueues(env: Env): Pick<RespondConfig, "stageQueues"> {
  const investigation = env.INVESTIGATION_QUEUE_URL?.trim();
  const notification = env.NOTIFICATION_QUEUE_URL?.trim();
  if (!investigation && !notification) return {};
  if (!investigation || !notification) {
    throw new ConfigError(
      `${investigation ? "NOTIFICATION_QUEUE_URL" : "INVESTIGATION_QUEUE_URL"} is not set: the stages need both queues or neither`,
    );
  }
  for (const [name, url] of [
    ["INVESTIGATION_QUEUE_URL", investigation],
    ["NOTIFICATION_QUEUE_URL", notification],
  ] as const) {
    if (!/^https?:\/\/\S+\.fifo$/.test(url))
      throw new ConfigError(`${name} must be the URL of an SQS FIFO queue (ending in .fifo), got "${url}"`);
  }
  return { stageQueues: { investigation, notification } };
}

function deadLetterQueues(env: Env): RespondConfig["deadLetterQueues"] {
  const queues: RespondConfig["deadLetterQueues"] = {};
  for (const [stage, name] of [
    ["investigation", "INVESTIGATION_DEAD_LETTER_QUEUE_URL"],
    ["notification", "NOTIFICATION_DEAD_LETTER_QUEUE_URL"],
  ] as const) {
    const url = env[name]?.trim();
    if (!url) continue;
    // A FIFO queue's dead-letter queue is FIFO too: the move keeps the message's group.
    if (!/^https?:\/\/\S+\.fifo$/.test(url))
      throw new ConfigError(`${name} must be the URL of an SQS FIFO queue (ending in .fifo), got "${url}"`);
    queues[stage] = url;
  }
  return queues;
}

/** A call that takes longer is abandoned and retried; see RespondConfig.callTimeoutMs. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;
/** Every client retries a few times inside the respond function's 300 s: keep each try well inside. */
const MAX_CALL_TIMEOUT_MS = 60_000;

export function callTimeoutMs(env: Env): number {
  const ms = positiveInt(env, "CALL_TIMEOUT_MS", DEFAULT_CALL_TIMEOUT_MS);
  if (ms > MAX_CALL_TIMEOUT_MS)
    throw new ConfigError(`CALL_TIMEOUT_MS must be at most ${MAX_CALL_TIMEOUT_MS} (ms), got ${ms}`);
  return ms;
}

/** Days each evidence object stays under Object Lock (COMPLIANCE) in S3. */
const DEFAULT_EVIDENCE_RETENTION_DAYS = 365;
/**
 * Nobody, root included, can shorten or lift a COMPLIANCE lock: a typo must fail at start-up, not
 * lock evidence (and its storage bill) for decades.
 */
export const MAX_EVIDENCE_RETENTION_DAYS = 3650;

export function evidenceRetentionDays(env: Env): number {
  const days = positiveInt(env, "EVIDENCE_RETENTION_DAYS", DEFAULT_EVIDENCE_RETENTION_DAYS);
  if (days > MAX_EVIDENCE_RETENTION_DAYS) {
    throw new ConfigError(
      `EVIDENCE_RETENTION_DAYS must be at most ${MAX_EVIDENCE_RETENTION_DAYS} (a COMPLIANCE lock cannot be shortened), got ${days}`,
    );
  }
  return days;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** SLACK_OWNERS: `owner/repo=<!subteam^S123>,ci-deploy=<@U123>` (repository or IAM user -> mention). */
function owners(env: Env): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of list(env.SLACK_OWNERS)) {
    const [key, mention] = entry.split("=").map((part) => part.trim());
    if (!key || !mention)
      throw new ConfigError(`SLACK_OWNERS entries look like name=<@U123>, got "${entry}"`);
    map[key.toLowerCase()] = mention;
  }
  return map;
}

function slackConfig(env: Env): Pick<RespondConfig, "slack"> {
  const token = env.SLACK_BOT_TOKEN?.trim();
  if (token) {
    const channel = required(
      env,
      "SLACK_CHANNEL",
      "SLACK_BOT_TOKEN is set, so a channel id to post in is needed",
    );
    const apiUrl = env.SLACK_API_URL?.trim();
    return {
      slack: {
        kind: "bot",
        token,
        channel,
        owners: owners(env),
        ...(apiUrl ? { apiUrl: `${url(env, "SLACK_API_URL")}/` } : {}),
      },
    };
  }
  if (env.SLACK_WEBHOOK_URL?.trim())
    return { slack: { kind: "webhook", url: url(env, "SLACK_WEBHOOK_URL"), owners: owners(env) } };
  return {};
}
