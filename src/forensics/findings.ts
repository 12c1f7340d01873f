/**
 * What the analysis of a key's CloudTrail history found (playbook step 6, "Understand"). Plain JSON:
 * it is stored beside the evidence, rendered in Slack and the audit report, and read by the OIDC plan
 * (`actions`). Every list is sorted deterministically and capped, with the number left out, so a
 * hostile or enormous history still gives a message-sized result.
 */
import type { PartialSnapshot } from "../domain/incident.js";
import type { Severity, SignalCategory } from "./signals.js";

export const FINDINGS_VERSION = 1;

/**
 * - `no-use-since-leak`: no call at or after the leak time.
 * - `expected-use-only`: every call after the leak came from GitHub Actions runners (or declared
 *   networks), and nothing unusual happened.
 * - `suspicious`: something a person must look at (calls from elsewhere, recon, denied bursts,
 *   attempts that were denied, addresses that could not be checked), but no damage seen to succeed.
 * - `compromised`: someone other than the expected CI changed or explored the account with the key.
 */
export type Verdict = "no-use-since-leak" | "expected-use-only" | "suspicious" | "compromised";

/** Where a call came from, as far as the trail and the runner ranges can tell. */
export type Origin =
  /** An address in GitHub's Actions runner ranges. */
  | "github-actions"
  /** An address in a network the caller declared (self-hosted runners, a known egress). */
  | "expected-network"
  /** An AWS service acting for the principal ("cloudformation.amazonaws.com", "AWS Internal"). */
  | "aws-service"
  /** Any other source: not a runner. */
  | "elsewhere"
  /** An address that could not be checked (the runner ranges were unavailable), or none at all. */
  | "unknown";

/** `permitted`: a dry run that would have succeeded (the call did nothing, the permission is proven). */
export type CallOutcome = "succeeded" | "denied" | "failed" | "permitted";

/** One event, as much of it as a person needs to find it again in the evidence. */
export interface EventRef {
  eventId: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress?: string;
  accessKeyId?: string;
  outcome: CallOutcome;
  errorCode?: string;
  origin: Origin;
}

/**
 * - `succeeded`: after the leak, went through, not explained by expected use: counts.
 * - `attempted`: after the leak, denied or failed: counts with less weight.
 * - `explained`: after the leak, but what the expected CI does (shown, does not count).
 * - `before-leak`: context only.
 */
export type SignalStatus = "succeeded" | "attempted" | "explained" | "before-leak";

export interface SignalEvent extends EventRef {
  status: SignalStatus;
  detail?: string;
  explanation?: string;
}

export interface SignalFinding {
  /** The rule: `service:Operation` (signals.ts). */
  id: string;
  category: SignalCategory;
  severity: Severity;
  /** Completes "used the key to ...". */
  does: string;
  /** The IAM action, e.g. "iam:CreateUser". */
  action: string;
  /** Where the rule comes from (facts.md, MITRE ATT&CK, Stratus Red Team, AWS docs). */
  source: string;
  succeeded: number;
  attempted: number;
  explained: number;
  beforeLeak: number;
  /** Severity weight x successes + a fraction for attempts, after the leak and unexplained. */
  weight: number;
  /** What was created, launched or changed ("user svc-backup", "10 × c5.24xlarge in sa-east-1"). */
  details: string[];
  /** The events, those that count first. */
  events: SignalEvent[];
  eventsOmitted: number;
}

export interface AddressFinding {
  /** The sourceIPAddress as logged: an IP address, or an AWS service name. */
  address: string;
  origin: Origin;
  /** Whether the address is in GitHub's Actions ranges; "unknown" when the ranges were unavailable. */
  githubActions: boolean | "unknown";
  calls: number;
  succeeded: number;
  denied: number;
  failed: number;
  afterLeak: number;
  firstSeen: string;
  lastSeen: string;
  userAgents: Array<{ userAgent: string; calls: number }>;
  regions: string[];
  accessKeyIds: string[];
  /** Rules this address raised after the leak that count (not explained). */
  signals: string[];
  /** e.g. a private address: the call came through a VPC endpoint or from a self-hosted runner. */
  note?: string;
}

export interface RegionFinding {
  region: string;
  calls: number;
  succeeded: number;
  denied: number;
  failed: number;
  afterLeak: number;
  firstSeen: string;
  lastSeen: string;
  /** Used after the leak and never before it: attackers favour regions nobody watches. */
  newSinceLeak: boolean;
}

export interface ServiceFinding {
  eventSource: string;
  calls: number;
  succeeded: number;
  denied: number;
  failed: number;
}

export interface EventNameFinding {
  eventSource: string;
  eventName: string;
  action: string;
  calls: number;
  succeeded: number;
  denied: number;
  failed: number;
  afterLeak: number;
}

/** Many denied calls from one address in a short window: someone enumerating what the key may do. */
export interface DeniedBurst {
  address: string;
  origin: Origin;
  start: string;
  end: string;
  durationSeconds: number;
  deniedCalls: number;
  distinctActions: number;
  /** The most frequent denied actions, most frequent first. */
  actions: string[];
  accessKeyIds: string[];
  afterLeak: boolean;
  afterContainment: boolean;
}

export interface KeyFinding {
  accessKeyId: string;
  kind: "long-term" | "temporary";
  /** `leaked`: one of the keys under investigation; `derived`: minted by them in this history. */
  role: "leaked" | "derived" | "other";
  calls: number;
  succeeded: number;
  denied: number;
  firstSeen: string;
  lastSeen: string;
  addresses: string[];
}

/** Temporary credentials minted by the keys (facts.md: they outlive deactivation by up to 36 h). */
export interface DerivedCredential {
  accessKeyId: string;
  /** The call that minted them: GetSessionToken, GetFederationToken, AssumeRole. */
  via: string;
  mintedAt: string;
  mintedBy?: string;
  eventId: string;
  sourceIPAddress?: string;
  origin: Origin;
  roleArn?: string;
  expiration?: string;
  afterLeak: boolean;
  /** Calls made with them in this history. */
  calls: number;
  lastUsed?: string;
}

export interface RoleAssumption {
  roleArn: string;
  sessionNames: string[];
  times: number;
  firstAt: string;
  lastAt: string;
  addresses: string[];
  derivedKeys: string[];
  afterLeak: number;
}

/** Something a successful call after the leak created: to inspect, and usually to remove. */
export interface Artifact {
  kind:
    | "iam-user"
    | "access-key"
    | "login-profile"
    | "iam-role"
    | "identity-provider"
    | "ec2-instances"
    | "spot-request"
    | "lambda-function"
    | "key-pair";
  name: string;
  eventId: string;
  eventTime: string;
  sourceIPAddress?: string;
  origin: Origin;
}

/**
 * One IAM action the keys exercised successfully, for the least-privilege policy. Calls are split by
 * trust: `expected` (before the leak, or from runners/declared networks without a signal that
 * counts), `foreign` (after the leak, from elsewhere) and `uncertain` (the rest). `resources` come
 * from expected calls only, so an attacker's targets never widen the plan; empty means the action
 * names no resource (it needs "*").
 */
export interface ActionUse {
  action: string;
  eventSource: string;
  calls: number;
  expectedCalls: number;
  foreignCalls: number;
  uncertainCalls: number;
  resources: string[];
  resourcesOmitted: number;
  /** True for calls any principal may make (sts:GetCallerIdentity): a policy needs no statement. */
  needsNoPermission: boolean;
  firstSeen: string;
  lastSeen: string;
}

export type RangesStatus =
  | { available: true; description: string; size: number }
  | { available: false; reason: string };

export interface Findings {
  version: typeof FINDINGS_VERSION;
  verdict: Verdict;
  /** One sentence a tired person understands. */
  headline: string;
  /** Why the verdict is what it is, most serious first. */
  reasons: string[];
  /** Context that does not change the verdict (ranges source, missing leak time, minted sessions). */
  notes: string[];
  /** Set when the snapshot was given up before it finished: these findings cover only what was read. */
  partial?: PartialSnapshot;
  leakedAt?: string;
  containedAt?: string;
  totals: {
    /** Events analysed: those of the keys under investigation and the credentials they minted. */
    events: number;
    succeeded: number;
    denied: number;
    failed: number;
    /** Events of other principals in the input, ignored (a log file holds the whole account). */
    outOfScope: number;
  };
  firstUse?: string;
  lastUse?: string;
  lastSuccess?: string;
  afterLeak: {
    calls: number;
    succeeded: number;
    denied: number;
    failed: number;
    firstAt?: string;
    lastAt?: string;
    byOrigin: Record<Origin, number>;
  };
  /** Present when a containment time was given: denied calls are expected, successes are not. */
  afterContainment?: {
    calls: number;
    succeeded: number;
    denied: number;
    failed: number;
    /** Successes later than CONTAINMENT_GRACE_MS after containment (IAM changes take minutes). */
    succeededAfterGrace: number;
    graceSeconds: number;
    successes: EventRef[];
  };
  githubActionsRanges: RangesStatus;
  addresses: AddressFinding[];
  addressesOmitted: number;
  regions: RegionFinding[];
  services: ServiceFinding[];
  eventNames: EventNameFinding[];
  eventNamesOmitted: number;
  errorCodes: Array<{ errorCode: string; count: number }>;
  userAgents: Array<{ userAgent: string; calls: number }>;
  deniedBursts: DeniedBurst[];
  signals: Record<SignalCategory, SignalFinding[]>;
  keys: KeyFinding[];
  derivedCredentials: DerivedCredential[];
  rolesAssumed: RoleAssumption[];
  artifacts: Artifact[];
  actions: ActionUse[];
}
