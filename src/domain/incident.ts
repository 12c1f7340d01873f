/**
 * The incident record: what happened to one leaked key, step by step, with times. It is the system's
 * memory between retries (design.md: created once with a conditional write, updated with If-Match).
 */
import type { RepositoryVisibility } from "./alert-job.js";

export type IncidentStatus =
  | "contained"
  | "contained-with-warnings"
  | "escalated"
  | "not-ours"
  | "dry-run"
  | "failed";

/** The playbook's steps, in order; each is recorded at most once as done. */
export type StepName =
  | "webhook-received"
  | "alert-fetched"
  | "key-located"
  | "key-deactivated"
  | "sessions-revoked"
  | "quarantine-checked"
  | "key-status-verified"
  | "alert-resolved"
  | "incident-recorded"
  | "notified"
  | "delivery-duplicate"
  | "snapshot-taken"
  | "roles-revoked"
  | "evidence-stored"
  | "analyzed"
  | "planned"
  | "issue-opened"
  | "report-written"
  | "report-attached"
  | "followed-through"
  | "followed-up";

/** `partial`: given up before it finished, what it did get is kept and used (a snapshot cut short). */
export type StepOutcome = "done" | "skipped" | "failed" | "would-do" | "partial";

export interface TimelineEntry {
  step: StepName;
  outcome: StepOutcome;
  /** ISO 8601, millisecond precision. */
  at: string;
  detail: string;
  durationMs?: number;
}

export interface KeyLocation {
  accountId: string;
  /** True when the account is not the responder's own and a member role was assumed. */
  viaMemberRole: boolean;
  userName?: string;
  lastUsed?: { date?: string; service?: string; region?: string };
}

/**
 * Who put the key where it was found, as GitHub records it: a commit's author and committer, or the
 * author of the comment, issue or pull request. Never shown in a public repository's issue.
 */
export interface LeakPerson {
  role: "author" | "committer";
  /** The GitHub account, when GitHub matched one. */
  login?: string;
  /** The name in the commit (git's, chosen by whoever committed). */
  name?: string;
}

export interface Incident {
  id: string;
  version: 1;
  /** What started it: a GitHub alert, a person (`respond --key`), or AWS Health's exposure notice. */
  source: "github-alert" | "manual" | "aws-health";
  status: IncidentStatus;
  /** Why the status is what it is, in one sentence a tired person understands. */
  summary: string;
  /** Unknown only when the alert could not even be read. */
  accessKeyId?: string;
  /** design.md: at most a short fingerprint of the secret, never the secret. */
  secretFingerprint?: string;
  secretType?: string;
  repository?: string;
  alertNumber?: number;
  alertUrl?: string;
  /**
   * How a person had resolved the GitHub alert before the responder's first run (`false_positive`,
   * `used_in_tests`, `revoked`...). The responder never overwrites it: the alert is left as they set it.
   */
  alertResolvedBefore?: string;
  /** The GitHub App installation that delivered the alert (to reach the repository again). */
  installationId?: number;
  /**
   * The repository's visibility from the webhook; absent when unknown (a manual run, AWS Health, an
   * older job). Anything but private or internal gets the public issue: no account, address or name.
   */
  repositoryVisibility?: RepositoryVisibility;
  /** Where the key was found: the alert's first location. */
  leakLocation?: {
    /** GitHub's location type: commit, wiki_commit, issue_comment, pull_request_body... */
    type?: string;
    path?: string;
    startLine?: number;
    commitSha?: string;
    /** A page a person can open, never an API URL. */
    url?: string;
    /**
     * The API path of the comment, issue or pull request holding the key (`/repos/o/r/issues/comments/1`),
     * read after containment for its author. Never shown.
     */
    apiPath?: string;
    /** Recorded after containment (an empty list: looked up, GitHub named nobody). */
    people?: LeakPerson[];
  };
  deliveryIds: string[];
  mode: "enforce" | "dry-run";
  location?: KeyLocation;
  containment?: {
    /** The deny-older-sessions cut-off: sessions issued before it are denied. */
    containedAt?: string;
    keyStatusAfter?: "Active" | "Inactive" | "unknown";
    alreadyInactive?: boolean;
    denyPolicyName?: string;
    quarantinePolicies: string[];
  };
  /** When the key leaked: the first location's commit time, else the alert's creation. */
  leakedAt?: string;
  leakedAtSource?: "commit" | "alert";
  forensics?: ForensicsSummary;
  /** Step 7: the OIDC migration plan, in brief; its files are stored beside the evidence. */
  plan?: PlanSummary;
  /** The last daily follow-through check, once contained. */
  followThrough?: FollowThroughCheck;
  /** The issue opened in the affected repository. */
  githubIssue?: { number: number; url: string };
  /** The audit report's files. */
  report?: EvidenceFile[];
  /**
   * Which delivery is running the incident's remaining steps, until when. Another delivery of the
   * same alert that finds a live lease only records itself: two workers never both resolve the
   * alert or send the message. The owner's own retry (same delivery id) carries on.
   */
  lease?: { owner: string; until: string };
  /** Where the first message went (Slack thread for the follow-up). */
  notifications?: { slack?: { channel?: string; ts?: string } };
  warnings: string[];
  failure?: { step: StepName; code: string; message: string };
  timeline: TimelineEntry[];
  createdAt: string;
  updatedAt: string;
}

/** The key is dead (with or without something a person must finish): the steps after containment run. */
export function isContained(status: IncidentStatus): boolean {
  return status === "contained" || status === "contained-with-warnings";
}

export function stepDone(incident: Incident, step: StepName): boolean {
  return incident.timeline.some((entry) => entry.step === step && entry.outcome === "done");
}

export interface EvidenceFile {
  name: string;
  key: string;
  sha256: string;
  bytes: number;
}

/** What the snapshot and the analysis found, in brief: the full findings are evidence beside it. */
export interface ForensicsSummary {
  window: { startTime: string; endTime: string };
  regions: string[];
  accessKeyIds: string[];
  eventCount: number;
  /** Regions whose history could not be read completely, by name: nothing claims completeness it lacks. */
  incompleteRegions: string[];
  complete: boolean;
  rolesAssumed: string[];
  rolesRevoked: string[];
  /** Event files written so far (one per invocation when a long history is continued). */
  parts: EvidenceFile[];
  manifest?: EvidenceFile;
  findings?: EvidenceFile;
  verdict?: string;
  headline?: string;
  signalCounts?: Record<string, number>;
  /** Set when the snapshot was given up before it finished: the parts stored are analysed as they are. */
  partial?: PartialSnapshot;
  /** Where the snapshot continues in the next invocation. */
  checkpoint?: {
    pending: Array<{ accessKeyId: string; region: string; nextToken?: string }>;
    seenKeys: string[];
  };
}

export interface PartialSnapshot {
  /** Why it stopped, in a sentence. */
  reason: string;
  /** The histories not read (or not read to the end), one per key and region. */
  missing: MissingHistory[];
}

/** A key's history in one region that the snapshot did not read: what happened in it is unknown. */
export interface MissingHistory {
  accessKeyId: string;
  region: string;
  /** The time range not read (ISO 8601): LookupEvents reads newest first, so it is the oldest part. */
  from: string;
  until: string;
}

/** The last daily follow-through check (src/playbook/follow-through.ts). */
export interface FollowThroughCheck {
  checkedAt: string;
  keyStatus: "Active" | "Inactive" | "missing";
  /** IAM's last use of the key, when it is after containment (it should never be). */
  usedAfterContainment?: string;
  /** Steps in the repository's workflows that still use static AWS keys (absent: not checked). */
  staticUsesLeft?: number;
  daysSinceContainment: number;
  /**
   * The repository secret names checked for (the plan's, earlier checks', the workflows' today):
   * kept from day to day, since a migrated workflow no longer names them. Names only, never values.
   */
  keySecrets?: string[];
  /** Those of keySecrets still set as repository Actions secrets (absent: not told). */
  secretsLeft?: string[];
  /** Why the repository secrets could not be told (the App lacking Secrets: read, say). */
  secretsUnknown?: string;
  /**
   * The GitHub environments whose secrets were checked for the key's names (the planned roles' and
   * today's workflows' environments): kept from day to day, like keySecrets.
   */
  environments?: string[];
  /** Key secrets still set in those environments, by environment (absent: not told; empty: none). */
  environmentSecretsLeft?: Array<{ environment: string; names: string[] }>;
  /** Why some environment's secrets could not be told. */
  environmentSecretsUnknown?: string;
  /**
   * The plan's roles in the key's account, each as found there (absent: no role planned, or they
   * could not be read: oidcUnknown says why).
   */
  oidcRoles?: OidcRoleCheck[];
  /** GitHub's OIDC provider in the key's account, read with the roles. */
  oidcProvider?: "created" | "missing" | "no-sts-audience";
  /** Why the roles and the provider could not be read (the investigator role lacks iam:GetRole, say). */
  oidcUnknown?: string;
  /** Migration verified and the key unused long enough: a person may delete it. */
  proposal?: "delete-key";
  /** The issue's checklist items ticked by this check (their text), or why the issue was not updated. */
  checklist?: { ticked: string[] } | { problem: string };
  /** Why a part could not be checked. */
  problem?: string;
}

/**
 * One planned role as IAM has it: created and trusted only by the repository's pinned workflows
 * (facts.md: aud sts.amazonaws.com, sub pinned, never `repo:ORG/REPO:*`), not created, trusting more
 * than that, or trusting something else (another repository, no GitHub provider).
 */
export interface OidcRoleCheck {
  name: string;
  state: "created" | "missing" | "too-wide" | "not-this-repository";
  /** What is wrong with its trust, in a person's words. */
  detail?: string;
}

export interface PlanSummary {
  /** Short, readable Markdown. */
  summary: string;
  /** Paths of the plan's files, relative to `location`. */
  files: string[];
  roles: string[];
  nothingToMigrate: boolean;
  /** The repository secrets that held the key, by name (key-secrets.ts); the follow-through checks them. */
  keySecrets?: string[];
  /** The GitHub environments the planned roles serve: the follow-through checks their secrets too. */
  environments?: string[];
  /**
   * Of `roles`, those in another partition (AWS China, GovCloud: another account): the follow-through
   * cannot read them in the key's account and does not wait for them.
   */
  rolesElsewhere?: string[];
  /** Where the files are: `incidents/<id>/evidence/plan/`. */
  location: string;
}
