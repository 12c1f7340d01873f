/**
 * The sandbox's world: AWS accounts with users, keys, roles and policies; S3 buckets; SQS queues;
 * GitHub repositories with secret scanning alerts and issues; what Slack received. Tests and the demo
 * seed it and inspect it directly; the SDK clients reach it only over HTTP.
 */
import { fakeAccessKeyId, fakeSecretAccessKey, fakeSessionToken } from "./fake-ids.js";

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  status: "Active" | "Inactive";
  createdAt: Date;
  lastUsed?: { date: Date; service: string; region: string };
}

export interface UserRecord {
  name: string;
  userId: string;
  arn: string;
  path: string;
  createdAt: Date;
  accessKeys: Map<string, AccessKeyRecord>;
  inlinePolicies: Map<string, string>;
  attachedPolicies: Array<{ policyName: string; policyArn: string }>;
}

export interface RoleRecord {
  name: string;
  roleId: string;
  arn: string;
  /** Account ids or role ARNs allowed to assume it (the sandbox's simplified trust policy). */
  trustedPrincipals: string[];
  /** The trust policy's `sts:ExternalId` condition, when it has one. */
  externalId?: string;
  /**
   * The trust policy iam:GetRole shows (JSON), when a test wrote one (an OIDC role for GitHub's
   * workflows, say); otherwise it is made from trustedPrincipals. AssumeRole still reads those.
   */
  trustPolicy?: string;
  inlinePolicies: Map<string, string>;
}

/** An IAM OIDC identity provider (iam:GetOpenIDConnectProvider). */
export interface OidcProviderRecord {
  /** Without the scheme, as IAM returns it: `token.actions.githubusercontent.com`. */
  url: string;
  clientIds: string[];
  createdAt: Date;
}

/** AWS Organizations: an account's lifecycle state (ListAccounts' `State`). */
export type OrganizationAccountState =
  | "ACTIVE"
  | "SUSPENDED"
  | "PENDING_CLOSURE"
  | "CLOSED"
  | "PENDING_ACTIVATION";

/** The organisation the sandbox's accounts belong to, when a test creates one. */
export interface OrganizationRecord {
  id: string;
  managementAccountId: string;
  /** Accounts that may call ListAccounts besides the management account. */
  delegatedAdministrators: Set<string>;
  /** Account id -> state, in the order they joined. */
  members: Map<string, OrganizationAccountState>;
}

export interface AccountRecord {
  id: string;
  alias: string;
  users: Map<string, UserRecord>;
  roles: Map<string, RoleRecord>;
  /** OIDC providers by ARN (absent: none created). */
  oidcProviders?: Map<string, OidcProviderRecord>;
  /** Regions enabled for this account (account:ListRegions; sandbox/aws/account.ts). */
  enabledRegions: string[];
}

/** Who signed an AWS request: resolved from the SigV4 access key id. */
export interface Caller {
  accessKeyId: string;
  accountId: string;
  arn: string;
  userId: string;
  kind: "user" | "assumed-role" | "session";
  /** The IAM user that owns the long-term key, or that minted the session token. */
  userName?: string;
  roleName?: string;
  /** Temporary credentials: when they were issued (aws:TokenIssueTime) and when they expire. */
  issuedAt?: Date;
  expiresAt?: Date;
}

export interface CredentialRecord {
  caller: Caller;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface StoredObject {
  body: Buffer;
  etag: string;
  contentType: string;
  lastModified: Date;
  metadata: Record<string, string>;
  /** Returned as x-amz-version-id; a DELETE may name it (`?versionId=`). */
  versionId?: string;
  /** Object Lock retention of this version, from x-amz-object-lock-mode / -retain-until-date. */
  retention?: { mode: "GOVERNANCE" | "COMPLIANCE"; retainUntil: Date };
}

/** An SQS message attribute as the JSON protocol carries it (BinaryValue base64-encoded). */
export interface QueueMessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface QueueMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  receiptHandle?: string;
  invisibleUntil: number;
  receiveCount: number;
  sentAt: number;
  attributes: Record<string, string>;
  messageAttributes?: Record<string, QueueMessageAttribute>;
  md5OfMessageAttributes?: string;
}

export interface QueueRecord {
  name: string;
  accountId: string;
  url: string;
  messages: QueueMessage[];
  visibilityTimeoutSeconds: number;
  /** Other queue attributes as set (RedrivePolicy, DelaySeconds, ReceiveMessageWaitTimeSeconds...). */
  attributes?: Record<string, string>;
  createdAt?: number;
}

export interface GitHubAlertLocation {
  type: "commit" | string;
  details: Record<string, unknown>;
}

export interface GitHubAlert {
  number: number;
  state: "open" | "resolved";
  resolution: string | null;
  resolutionComment: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  secretType: string;
  secretTypeDisplayName: string;
  /** The leaked value as GitHub would return it: the test's planted secret lives here. */
  secret: string;
  validity: "active" | "inactive" | "unknown";
  publiclyLeaked: boolean;
  createdAt: string;
  locations: GitHubAlertLocation[];
  /** GHES before 3.x and some alerts carry no `first_location_detected`: only the locations API has it. */
  omitFirstLocation?: boolean;
  /** How many PATCH requests resolved it (idempotency tests count them). */
  resolveCount: number;
}

export interface GitHubIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  createdAt: string;
}

/** A commit's author or committer: git's name, and the GitHub account when GitHub matched one. */
export interface GitHubCommitPerson {
  name: string;
  login?: string;
}

export interface GitHubRepo {
  id: number;
  owner: string;
  ownerId: number;
  name: string;
  fullName: string;
  private: boolean;
  defaultBranch: string;
  createdAt: string;
  alerts: Map<number, GitHubAlert>;
  issues: GitHubIssue[];
  /** path -> file content (for .github/workflows/*.yml). */
  files: Map<string, string>;
  /** Commits the alerts point at: sha -> when it was committed (the leak time), and by whom. */
  commits?: Map<
    string,
    { date: string; message?: string; author?: GitHubCommitPerson; committer?: GitHubCommitPerson }
  >;
  /** Issue and pull request comments the alerts point at: comment id -> its author. */
  comments?: Map<number, { login: string; createdAt: string }>;
  environments: string[];
  /** GET /repos/{o}/{r}/actions/oidc/customization/sub; absent = never customised (GitHub's default). */
  oidcSubClaim?: { use_default: boolean; include_claim_keys?: string[] };
  /** Installation that can see this repository (GitHub App mode). */
  installationId?: number;
  /** Names of the repository's Actions secrets (GET .../actions/secrets); GitHub never returns values. */
  actionsSecrets?: string[];
  /** The App was not granted `secrets: read`: listing the secrets answers 403, as GitHub does. */
  secretsUnreadable?: boolean;
  /** Secret names of each environment (GET .../environments/{name}/secrets); the same 403 without the permission. */
  environmentSecrets?: Map<string, string[]>;
  /** Issues are turned off in the repository's settings: the issue calls answer 410 Gone. */
  issuesDisabled?: boolean;
}

export interface SlackMessage {
  receivedAt: Date;
  path: string;
  /** The parsed JSON payload as Slack received it. */
  payload: Record<string, unknown>;
  raw: string;
  /**
   * The channel the message counts against for the posting limit: the channel id (Web API) or the
   * webhook's path (an incoming webhook posts to one fixed channel).
   */
  channelKey: string;
  /** Web API messages: where they went. */
  channel?: string;
  ts?: string;
  threadTs?: string;
}

/** A file uploaded with files.getUploadURLExternal and shared with files.completeUploadExternal. */
export interface SlackFile {
  id: string;
  filename: string;
  length: number;
  bytes?: Buffer;
  /** Set once completed: where it was shared. */
  title?: string;
  channel?: string;
  threadTs?: string;
}

/**
 * Slack's posting limit per channel (facts.md: about one message a second, "short bursts >1
 * allowed", for chat.postMessage and incoming webhooks alike): a token bucket of `burst` messages
 * refilled one every `intervalMs`. Tests scale `intervalMs` down together with the notifier's own.
 */
export interface SlackRateLimit {
  intervalMs: number;
  burst: number;
}

/** Slack's documented pace with a small burst allowance (Slack publishes no burst size). */
export const SLACK_POSTING_LIMIT: SlackRateLimit = { intervalMs: 1000, burst: 3 };

/** A message Slack refused with 429 under the posting limit. */
export interface SlackRefusal {
  at: Date;
  channelKey: string;
  path: string;
  /** What the Retry-After header said, in whole seconds (as Slack sends it). */
  retryAfterSeconds: number;
}

/**
 * One raw CloudTrail record, as CloudTrail writes it to a trail's log files and returns it, as a JSON
 * string, in LookupEvents' `CloudTrailEvent` (facts.md: AWS, CloudTrail).
 */
export interface TrailRecord {
  eventVersion: string;
  userIdentity: TrailUserIdentity;
  /** ISO 8601 to the second, as CloudTrail prints it ("2026-11-26T02:00:01Z"). */
  eventTime: string;
  /** e.g. "iam.amazonaws.com". */
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  resources?: Array<{ accountId?: string; type?: string; ARN: string }>;
  eventType: string;
  /** Data events (S3 object reads and writes...) are false: LookupEvents never returns them. */
  managementEvent: boolean;
  recipientAccountId: string;
  eventCategory: "Management" | "Data";
  tlsDetails?: { tlsVersion: string; cipherSuite: string; clientProvidedHostHeader: string };
}

export interface TrailUserIdentity {
  type: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  /** Present for temporary credentials: the issuer (empty for GetSessionToken) and the creation date. */
  sessionContext?: {
    sessionIssuer?: {
      type?: string;
      principalId?: string;
      arn?: string;
      accountId?: string;
      userName?: string;
    };
    webIdFederationData?: Record<string, unknown>;
    attributes?: { creationDate?: string; mfaAuthenticated?: string };
  };
}

export interface CallRecord {
  service: string;
  operation: string;
  accountId?: string;
  callerArn?: string;
  status: number;
  startedAt: number;
  endedAt: number;
}

export class SandboxState {
  readonly accounts = new Map<string, AccountRecord>();
  readonly credentials = new Map<string, CredentialRecord>();
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly queues = new Map<string, QueueRecord>();
  readonly repos = new Map<string, GitHubRepo>();
  /** GitHub App mode: the App's public key verifies the JWT; tokens map to their installation. */
  readonly githubApps = new Map<number, { publicKeyPem: string }>();
  readonly installationTokens = new Map<string, { installationId: number; expiresAt: Date }>();
  /** Plain token mode: personal or fine-grained tokens that may call the API. */
  readonly githubTokens = new Set<string>();
  /** CloudTrail event history: account id -> region -> records, newest first (see addTrailRecords). */
  readonly trail = new Map<string, Map<string, TrailRecord[]>>();
  /** When each admitted LookupEvents request arrived, per trailKey(account, region). */
  readonly trailLookups = new Map<string, number[]>();
  /** How many LookupEvents requests the 2-per-second limit refused, per trailKey(account, region). */
  readonly trailThrottles = new Map<string, number>();
  /** What GitHub's `GET /meta` answers: the Actions runner ranges (facts.md: tell CI from others). */
  githubMeta: { actions: string[] } = { actions: [] };
  /**
   * IAM's request rate limit per account, off unless a test or the storm turns it on. AWS publishes
   * no figure; IAM throttles bursts of calls from one account with `Throttling` (HTTP 400).
   */
  iamRateLimit: { perSecond: number; burst: number } | undefined;
  /** Token buckets of that limit, per account, and how many IAM calls it refused. */
  readonly iamBuckets = new Map<string, { tokens: number; at: number }>();
  iamThrottles = 0;
  readonly slackMessages: SlackMessage[] = [];
  /** Files uploaded through the Web API's external upload flow, by file id. */
  readonly slackFiles = new Map<string, SlackFile>();
  /** Bot tokens chat.postMessage accepts (generated at run time). */
  readonly slackBotTokens = new Set<string>();
  /** Opt-in: the per-channel posting limit (off when undefined, so paced tests need not care). */
  slackRateLimit: SlackRateLimit | undefined;
  /** Messages refused by the posting limit, in order. */
  readonly slackRefusals: SlackRefusal[] = [];
  /** The posting limit's bucket per channel key: tokens left as of `at` (ms). */
  readonly slackBuckets = new Map<string, { tokens: number; at: number }>();
  readonly calls: CallRecord[] = [];
  /** AWS Organizations (sandbox/aws/organizations.ts); undefined: the accounts are in no organisation. */
  organization: OrganizationRecord | undefined;
  #nextId = 1000;

  nextNumericId(): number {
    this.#nextId += 1;
    return this.#nextId;
  }

  addAccount(id: string, alias = `account-${id.slice(-4)}`, enabledRegions = DEFAULT_REGIONS): AccountRecord {
    const account: AccountRecord = {
      id,
      alias,
      users: new Map(),
      roles: new Map(),
      enabledRegions: [...enabledRegions],
    };
    this.accounts.set(id, account);
    return account;
  }

  account(id: string): AccountRecord {
    const account = this.accounts.get(id);
    if (!account) throw new Error(`sandbox: no account ${id}`);
    return account;
  }

  addUser(accountId: string, name: string): UserRecord {
    const account = this.account(accountId);
    const user: UserRecord = {
      name,
      userId: `AIDA${fakeAccessKeyId().slice(4)}`,
      arn: `arn:aws:iam::${accountId}:user/${name}`,
      path: "/",
      createdAt: new Date(),
      accessKeys: new Map(),
      inlinePolicies: new Map(),
      attachedPolicies: [],
    };
    account.users.set(name, user);
    return user;
  }

  /** A long-term key for the user, registered so the sandbox recognises requests signed with it. */
  addAccessKey(
    accountId: string,
    userName: string,
    options: { status?: "Active" | "Inactive"; createdAt?: Date } = {},
  ): AccessKeyRecord {
    const user = this.user(accountId, userName);
    const key: AccessKeyRecord = {
      accessKeyId: fakeAccessKeyId("AKIA"),
      secretAccessKey: fakeSecretAccessKey(),
      status: options.status ?? "Active",
      createdAt: options.createdAt ?? new Date(),
    };
    user.accessKeys.set(key.accessKeyId, key);
    this.credentials.set(key.accessKeyId, {
      secretAccessKey: key.secretAccessKey,
      caller: {
        accessKeyId: key.accessKeyId,
        accountId,
        arn: user.arn,
        userId: user.userId,
        kind: "user",
        userName,
      },
    });
    return key;
  }

  user(accountId: string, userName: string): UserRecord {
    const user = this.account(accountId).users.get(userName);
    if (!user) throw new Error(`sandbox: no user ${userName} in ${accountId}`);
    return user;
  }

  /** An OIDC provider in the account, as `aws iam create-open-id-connect-provider` makes it. */
  addOidcProvider(accountId: string, url: string, clientIds: string[]): string {
    const account = this.account(accountId);
    const host = url.replace(/^https:\/\//, "");
    const arn = `arn:aws:iam::${accountId}:oidc-provider/${host}`;
    account.oidcProviders ??= new Map();
    account.oidcProviders.set(arn, { url: host, clientIds, createdAt: new Date() });
    return arn;
  }

  addRole(accountId: string, name: string, trustedPrincipals: string[]): RoleRecord {
    const role: RoleRecord = {
      name,
      roleId: `AROA${fakeAccessKeyId().slice(4)}`,
      arn: `arn:aws:iam::${accountId}:role/${name}`,
      trustedPrincipals,
      inlinePolicies: new Map(),
    };
    this.account(accountId).roles.set(name, role);
    return role;
  }

  /**
   * Temporary credentials (ASIA...) for an assumed role or a user's session token. A seeded CloudTrail
   * history may name the key id before the credentials exist, so the id can be given.
   */
  issueTemporaryCredentials(
    caller: Omit<Caller, "accessKeyId">,
    accessKeyId = fakeAccessKeyId("ASIA"),
  ): CredentialRecord & { accessKeyId: string } {
    const record: CredentialRecord = {
      caller: { ...caller, accessKeyId },
      secretAccessKey: fakeSecretAccessKey(),
      sessionToken: fakeSessionToken(),
    };
    this.credentials.set(accessKeyId, record);
    return { ...record, accessKeyId };
  }

  /** Where a long-term key lives: its account and user, if anywhere in the sandbox. */
  findAccessKey(
    accessKeyId: string,
  ): { account: AccountRecord; user: UserRecord; key: AccessKeyRecord } | undefined {
    for (const account of this.accounts.values()) {
      for (const user of account.users.values()) {
        const key = user.accessKeys.get(accessKeyId);
        if (key) return { account, user, key };
      }
    }
    return undefined;
  }

  addRepo(
    fullName: string,
    options: Partial<Omit<GitHubRepo, "fullName" | "owner" | "name">> = {},
  ): GitHubRepo {
    const [owner = "", name = ""] = fullName.split("/");
    const repo: GitHubRepo = {
      id: options.id ?? this.nextNumericId(),
      owner,
      ownerId: options.ownerId ?? this.nextNumericId(),
      name,
      fullName,
      private: options.private ?? true,
      defaultBranch: options.defaultBranch ?? "main",
      createdAt: options.createdAt ?? "2024-03-01T10:00:00Z",
      alerts: options.alerts ?? new Map(),
      issues: options.issues ?? [],
      files: options.files ?? new Map(),
      commits: options.commits ?? new Map(),
      comments: options.comments ?? new Map(),
      environments: options.environments ?? [],
      ...(options.installationId === undefined ? {} : { installationId: options.installationId }),
      ...(options.actionsSecrets === undefined ? {} : { actionsSecrets: options.actionsSecrets }),
      ...(options.environmentSecrets === undefined ? {} : { environmentSecrets: options.environmentSecrets }),
    };
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  repo(fullName: string): GitHubRepo | undefined {
    return this.repos.get(fullName.toLowerCase());
  }

  addAlert(
    fullName: string,
    alert: Partial<GitHubAlert> & Pick<GitHubAlert, "secret" | "secretType">,
  ): GitHubAlert {
    const repo = this.repo(fullName);
    if (!repo) throw new Error(`sandbox: no repository ${fullName}`);
    const number = alert.number ?? repo.alerts.size + 1;
    const record: GitHubAlert = {
      number,
      state: "open",
      resolution: null,
      resolutionComment: null,
      resolvedAt: null,
      resolvedBy: null,
      secretTypeDisplayName: "Amazon AWS Access Key ID",
      validity: "active",
      publiclyLeaked: false,
      createdAt: new Date().toISOString(),
      locations: [],
      resolveCount: 0,
      ...alert,
    };
    repo.alerts.set(number, record);
    return record;
  }

  /**
   * Files raw CloudTrail records under their account and awsRegion (facts.md: global-service events
   * are already in us-east-1 in the records themselves), kept newest first as LookupEvents reads them.
   */
  addTrailRecords(accountId: string, records: TrailRecord[]): void {
    const regions = this.trail.get(accountId) ?? new Map<string, TrailRecord[]>();
    this.trail.set(accountId, regions);
    const touched = new Set<TrailRecord[]>();
    for (const record of records) {
      let list = regions.get(record.awsRegion);
      if (!list) {
        list = [];
        regions.set(record.awsRegion, list);
      }
      list.push(record);
      touched.add(list);
    }
    for (const list of touched) list.sort(newestFirst);
  }

  /** The records of one account and region, newest first (empty when there are none). */
  trailRecords(accountId: string, region: string): readonly TrailRecord[] {
    return this.trail.get(accountId)?.get(region) ?? [];
  }

  /** LookupEvents requests refused by the rate limit, for one account (and region), or in total. */
  trailThrottleCount(accountId?: string, region?: string): number {
    let total = 0;
    for (const [key, count] of this.trailThrottles) {
      const [account, keyRegion] = key.split("/");
      if (accountId !== undefined && account !== accountId) continue;
      if (region !== undefined && keyRegion !== region) continue;
      total += count;
    }
    return total;
  }

  /** Messages the posting limit refused, for one channel key or in total. */
  slackRefusalCount(channelKey?: string): number {
    return this.slackRefusals.filter((r) => channelKey === undefined || r.channelKey === channelKey).length;
  }

  /** What one channel received, in order (top-level messages and thread replies alike). */
  slackMessagesIn(channelKey: string): SlackMessage[] {
    return this.slackMessages.filter((m) => m.channelKey === channelKey);
  }

  recordCall(call: CallRecord): void {
    this.calls.push(call);
  }

  callsTo(service: string, operation?: string): CallRecord[] {
    return this.calls.filter(
      (c) => c.service === service && (operation === undefined || c.operation === operation),
    );
  }
}

/** The key of the per-account, per-region LookupEvents limit (facts.md: 2 requests/second). */
export function trailKey(accountId: string, region: string): string {
  return `${accountId}/${region}`;
}

/**
 * LookupEvents order: newest first; events of the same second by event id, so that pagination has
 * one total order to resume from.
 */
export function newestFirst(a: TrailRecord, b: TrailRecord): number {
  const byTime = Date.parse(b.eventTime) - Date.parse(a.eventTime);
  if (byTime !== 0) return byTime;
  return a.eventID < b.eventID ? -1 : a.eventID > b.eventID ? 1 : 0;
}

/** A realistic set of enabled regions (the 17 regions enabled by default). */
export const DEFAULT_REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "ca-central-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-central-1",
  "eu-north-1",
  "ap-south-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-southeast-1",
  "ap-southeast-2",
  "sa-east-1",
];
