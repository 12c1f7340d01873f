/**
 * The incident record: what happened to one leaked key, step by step, with times. It is the system's
 * memory between retries (design.md: created once with a conditional write, updated with If-Match).
 */

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
  | "delivery-duplicate";

export type StepOutcome = "done" | "skipped" | "failed" | "would-do";

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

export interface Incident {
  id: string;
  version: 1;
  source: "github-alert" | "manual";
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
  warnings: string[];
  failure?: { step: StepName; code: string; message: string };
  timeline: TimelineEntry[];
  createdAt: string;
  updatedAt: string;
}

export function stepDone(incident: Incident, step: StepName): boolean {
  return incident.timeline.some((entry) => entry.step === step && entry.outcome === "done");
}
