/**
 * The small interfaces the playbook depends on (design.md: ports and adapters). Adapters in
 * src/adapters implement them with the real SDKs; the playbook never imports an SDK.
 */
import type { AlertJob } from "./domain/alert-job.js";
import type { Incident, LeakPerson } from "./domain/incident.js";
import type { SecretValue } from "./domain/secret.js";
import type { InvestigationTask, NotificationTask } from "./domain/stage-task.js";
import type { Findings } from "./forensics/findings.js";
import type { TrailEvent } from "./forensics/trail-event.js";

export interface AlertRef {
  repository: string;
  alertNumber: number;
  installationId?: number;
}

export interface AlertLocation {
  type: string;
  path?: string;
  startLine?: number;
  commitSha?: string;
  /** A page a person can open (`html_url`, `page_url`), never an API URL. */
  url?: string;
  /**
   * The API path of the comment, issue or pull request holding the key (`/repos/o/r/issues/comments/1`),
   * from the location's API URL: where its author is read. Never linked.
   */
  apiPath?: string;
}

/** When and by whom the key was put where it was found (facts.md: locations name no person). */
export interface LeakOrigin {
  /** A commit location's commit time (the leak time). */
  committedAt?: string;
  people: LeakPerson[];
}

export interface AlertDetails {
  number: number;
  state: string;
  resolution?: string | null;
  secretType: string;
  secretTypeDisplayName?: string;
  /** The raw alert value: read once to extract the key id and a fingerprint, never stored. */
  secret: SecretValue;
  htmlUrl?: string;
  createdAt?: string;
  validity?: string;
  publiclyLeaked?: boolean;
  firstLocation?: AlertLocation;
}

/** GitHub secret scanning, as the playbook needs it (facts.md: GitHub, the alert). */
export interface AlertSource {
  getAlert(ref: AlertRef): Promise<AlertDetails>;
  /** PATCH state=resolved, resolution=revoked, with a comment saying what was done. */
  resolveAlert(ref: AlertRef, comment: string): Promise<void>;
  /**
   * A commit location's time, author and committer (GET the commit); a comment's, issue's or pull
   * request's author (GET its `apiPath`). Nothing known: no people.
   */
  leakOrigin(ref: AlertRef, location: { commitSha?: string; apiPath?: string }): Promise<LeakOrigin>;
}

export interface KeyOwner {
  userName: string;
  lastUsed?: { date?: string; service?: string; region?: string };
}

/** IAM in one account, reached with the responder's own role or the member-account role. */
export interface AccountIam {
  readonly accountId: string;
  readonly viaMemberRole: boolean;
  /** iam:GetAccessKeyLastUsed; undefined when the key is not in this account. */
  findKeyOwner(accessKeyId: string): Promise<KeyOwner | undefined>;
  /** iam:UpdateAccessKey Status=Inactive (facts.md: deactivate, never delete). */
  deactivateKey(userName: string, accessKeyId: string): Promise<void>;
  /** iam:PutUserPolicy with the deny-older-sessions document; returns the policy name. */
  denyOlderUserSessions(userName: string, cutoff: Date): Promise<string>;
  /** iam:ListAttachedUserPolicies: names of managed policies attached to the user. */
  attachedUserPolicies(userName: string): Promise<string[]>;
  /** iam:ListAccessKeys: the key's status as IAM reports it now. */
  keyStatus(userName: string, accessKeyId: string): Promise<"Active" | "Inactive" | undefined>;
  /** iam:PutRolePolicy with the deny-older-sessions document (a role the leaked key assumed). */
  denyOlderRoleSessions(roleName: string, cutoff: Date): Promise<string>;
  /** iam:GetRole: the role's trust policy (JSON text), or undefined when the account has no such role. */
  roleTrustPolicy(roleName: string): Promise<string | undefined>;
  /** iam:GetOpenIDConnectProvider: the provider's audiences (client ids), or undefined when it is absent. */
  oidcProviderAudiences(providerArn: string): Promise<string[] | undefined>;
}

export interface TrailPage {
  events: TrailEvent[];
  /** The raw CloudTrail records (JSON), kept verbatim as evidence. */
  raw: string[];
  nextToken?: string;
}

/** CloudTrail event history (and the enabled regions) in one account (facts.md: AWS, CloudTrail). */
export interface ActivityLog {
  readonly accountId: string;
  /** account:ListRegions (every page, ENABLED and ENABLED_BY_DEFAULT): the regions enabled for the account. */
  enabledRegions(): Promise<string[]>;
  /** One cloudtrail:LookupEvents page for one access key id in one region (MaxResults 50). */
  lookupByAccessKey(input: {
    region: string;
    accessKeyId: string;
    startTime: Date;
    endTime: Date;
    nextToken?: string;
  }): Promise<TrailPage>;
}

export interface EvidenceObject {
  key: string;
  sha256: string;
  bytes: number;
}

export interface PutOnceOptions {
  /**
   * Keep the object under retention (default true). In S3 that is Object Lock in COMPLIANCE mode for
   * EVIDENCE_RETENTION_DAYS: nobody, root included, can delete or replace it before the date. The
   * reports opt out: they are renderings of the evidence and the incident, made again at will, and a
   * wrong one must be removable. The filesystem store cannot lock anything and ignores it.
   */
  retain?: boolean;
}

/**
 * Evidence and reports beside the incident, written once. In S3 the evidence is also locked
 * (PutOnceOptions.retain); on the local filesystem it is only written exclusively.
 */
export interface EvidenceStore {
  /** Throws ConflictError when the object already exists. */
  putOnce(
    incidentId: string,
    name: string,
    body: Buffer,
    contentType: string,
    options?: PutOnceOptions,
  ): Promise<EvidenceObject>;
  get(incidentId: string, name: string): Promise<Buffer | undefined>;
}

/** Which account owns a key, and IAM in that account. */
export interface KeyDirectory {
  /** sts:GetAccessKeyInfo. */
  accountOf(accessKeyId: string): Promise<string>;
  /** The responder's own account (sts:GetCallerIdentity, cached). */
  homeAccountId(): Promise<string>;
  /** IAM in the account: the home credentials, or the member role assumed and cached. */
  iamIn(accountId: string): Promise<AccountIam>;
  /** CloudTrail in the account, with the same credentials as iamIn. */
  activityIn(accountId: string): Promise<ActivityLog>;
}

/**
 * Member accounts beyond the static MANAGED_ACCOUNT_IDS: the organisation's ACTIVE accounts (AWS
 * Organizations), so an account that joins is covered without a redeploy.
 */
export interface MemberAccounts {
  /** The member account ids; cached by the adapter, so cheap to ask on every alert. */
  list(): Promise<readonly string[]>;
}

export interface StoredIncident {
  incident: Incident;
  etag: string;
}

/** design.md (Storage): created once with If-None-Match, updated with If-Match on its ETag. */
export interface IncidentStore {
  get(id: string): Promise<StoredIncident | undefined>;
  /** Throws ConflictError when the incident already exists. */
  create(incident: Incident): Promise<string>;
  /** Throws ConflictError when the stored ETag is no longer `etag`. */
  update(incident: Incident, etag: string): Promise<string>;
  list(): Promise<string[]>;
}

/** "partial": the key is deactivated but something a person must finish by hand failed (sessions, say). */
export type NotificationKind = "contained" | "partial" | "failed" | "escalated" | "not-ours" | "dry-run";

/** Where a message went, so a follow-up can reply in its thread (bot token mode). */
export interface NotificationReceipt {
  channel?: string;
  ts?: string;
}

export interface FollowUp {
  incident: Incident;
  findings?: Findings;
  plan?: { summary: string; files: string[]; location?: string };
  reportLocation?: string;
}

/** One message about an incident: the first message (by its kind) or the follow-up. */
export type NoticeKind = NotificationKind | "follow-up";

export interface NoticeOptions {
  /**
   * An earlier run may already have sent this notice and the notifier cannot check (an incoming
   * webhook has no read-back): the message must say plainly that it may repeat an earlier one.
   */
  possibleRepeat?: boolean;
}

export interface Notifier {
  /** The first message: contained (or the loud failure). */
  notify(
    incident: Incident,
    kind: NotificationKind,
    options?: NoticeOptions,
  ): Promise<NotificationReceipt | undefined>;
  /** The follow-up once forensics and the plan are done. */
  followUp(details: FollowUp, options?: NoticeOptions): Promise<void>;
  /**
   * Where the notice already is, if an earlier run sent it (a run can die between sending a message
   * and recording it on the incident); undefined when the channel does not have it. Only notifiers
   * that can read their channel back have this; a failure means "cannot tell".
   */
  findSent?(incident: Incident, kind: NoticeKind): Promise<NotificationReceipt | undefined>;
  /**
   * Puts the audit report in the incident's thread as a file, so the people there need no S3 access
   * to read it. Only notifiers that can upload have this (a Slack bot token, not a webhook).
   */
  attachReport?(incident: Incident, report: ReportAttachment): Promise<void>;
  /** A follow-through reminder, in the incident's thread where there is one. */
  remind?(incident: Incident, lines: readonly string[]): Promise<void>;
  /** A message of its own in the channel (the follow-through's daily summary). */
  announce?(lines: readonly string[]): Promise<void>;
  /**
   * Resolves once the channel may take another message (its pace, a Retry-After). The notification
   * stage waits for it before it lets go of the queue's message group, so the next process to post
   * keeps the pace too.
   */
  quiet?(): Promise<void>;
}

export interface ReportAttachment {
  filename: string;
  title: string;
  body: Buffer;
}

/**
 * The queues between the deployed stages (issue 13): containment hands a contained incident to the
 * investigation queue and every message to the notification queue (stage-task.ts). Absent where one
 * process runs the whole playbook (the CLI, the demo, `serve`).
 */
export interface StageQueues {
  /** An incident's investigation (its account's group), or the rest of the day's follow-through. */
  investigate(task: InvestigationTask): Promise<void>;
  notify(task: NotificationTask): Promise<void>;
}

export interface JobQueue {
  send(job: AlertJob): Promise<{ messageId: string }>;
}

/** Issues in the affected repository (step 8: tell the people who own the code). */
export interface IssueTracker {
  /** An open or closed issue carrying `marker` in its title, if one exists (so a retry never opens two). */
  findIssue(
    ref: AlertRef,
    label: string,
    marker: string,
  ): Promise<{ number: number; url: string } | undefined>;
  openIssue(
    ref: AlertRef,
    issue: { title: string; body: string; labels: string[] },
  ): Promise<{ number: number; url: string }>;
  /**
   * Ticks the issue's checklist items whose text is exactly one of `items` (`- [ ] text` becomes
   * `- [x] text`); a person's own edits and ticks stay. Returns the items ticked now (none: the issue
   * was not written), or why the issue cannot be updated (gone, issues disabled).
   */
  updateChecklist?(
    ref: IssueRepositoryRef,
    issueNumber: number,
    items: readonly string[],
  ): Promise<{ ticked: string[] } | { unavailable: string }>;
}

/** A repository as the issue calls need it (an incident a person started has no alert number). */
export type IssueRepositoryRef = Pick<AlertRef, "repository" | "installationId">;

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
