/**
 * What one stage of the deployed responder hands the next (issue 13: respond split by concern).
 *
 *   alert queue --> contain --> investigation queue (FIFO, a message group per AWS account)
 *                          \--> notification queue (FIFO, one message group: the Slack channel)
 *
 * Messages carry identifiers, never anything secret: every stage reads the incident from the store
 * and does what the incident says is still to do, so a message delivered twice repeats nothing.
 */
import { InvalidInputError } from "./errors.js";
import type { Incident } from "./incident.js";

export type InvestigationTask =
  /** Steps 5-7 and the issue for a contained incident; `continuation` counts hand-overs to a fresh run. */
  | { kind: "investigate"; incidentId: string; accountId: string; continuation: number; attempt: number }
  /**
   * The daily follow-through (follow-through.ts), put here by the schedule rule; `resume` when an
   * earlier part ran out of time and handed the rest of the day's incidents to a fresh run.
   */
  | { kind: "follow-through"; resume?: FollowThroughProgress };

/** The FIFO message group of every follow-through message (serverless.yml, FollowThroughSchedule). */
export const FOLLOW_THROUGH_GROUP = "follow-through";

/** The day's counts so far, carried from part to part so that the last posts one summary for all. */
export interface FollowThroughTally {
  /** When the day's first part started (ISO 8601): a check recorded since then belongs to this run. */
  since: string;
  checked: number;
  /** Incidents whose key was reactivated or used after containment. */
  alerts: string[];
  /** Incidents whose workflows still hold static AWS keys. */
  staticKeysLeft: number;
  /** Incidents whose key secrets are still set (repository or environment). */
  secretsLeft: number;
  /** Incidents whose planned OIDC roles or provider are not created yet. */
  rolesToCreate: number;
  /** Incidents with a role that trusts more than, or other than, its repository's pinned workflows. */
  rolesWrong: string[];
  proposals: number;
  /** Incidents that could not be checked (tried again tomorrow). */
  failed: string[];
}

/** Where the next part carries on: after `after` in the store's sorted ids. */
export interface FollowThroughProgress {
  after: string;
  /** Hand-overs so far: every message of a run differs, so the queue never drops one as a duplicate. */
  part: number;
  tally: FollowThroughTally;
}

export type NotificationTask =
  /**
   * The notice the incident is due, as recorded: the first message, or the follow-up and the report.
   * `status` tells a failed incident that a retry contained from the failure notice before it (the
   * queue drops a message identical to one it took in the last 5 minutes).
   */
  | { kind: "notice"; incidentId: string; notice: "first" | "follow-up"; status?: string }
  /**
   * A message about an incident that is not in the store (a dry run, or a store that refused the
   * record): the incident travels with it, since nothing else can tell it.
   */
  | { kind: "unrecorded"; incident: Incident; notice: UnrecordedNotice }
  | { kind: "remind"; incidentId: string; lines: string[] }
  | { kind: "announce"; lines: string[] };

export type UnrecordedNotice = "contained" | "partial" | "failed" | "escalated" | "not-ours" | "dry-run";

const UNRECORDED_NOTICES: ReadonlySet<string> = new Set([
  "contained",
  "partial",
  "failed",
  "escalated",
  "not-ours",
  "dry-run",
]);

/** The daily schedule's constant input (serverless.yml, FollowThroughSchedule). */
export const FOLLOW_THROUGH_TASK = { source: "leak-responder.schedule", task: "follow-through" } as const;

function parseObject(body: string, what: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidInputError(`The ${what} message is not JSON`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new InvalidInputError(`The ${what} message is not an object`);
  return raw as Record<string, unknown>;
}

const INCIDENT_ID = /^[a-z0-9_.-]{1,200}$/i;

function incidentIdOf(raw: Record<string, unknown>, what: string): string {
  const id = raw.incidentId;
  if (typeof id !== "string" || !INCIDENT_ID.test(id))
    throw new InvalidInputError(`The ${what} message has no valid incidentId`);
  return id;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : 0;
}

function lines(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((line) => typeof line !== "string"))
    throw new InvalidInputError(`The ${what} message has no lines to post`);
  return value as string[];
}

function incidentIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((id) => typeof id !== "string" || !INCIDENT_ID.test(id)))
    throw new InvalidInputError("The follow-through message has malformed incident ids");
  return value as string[];
}

function followThroughProgress(value: unknown): FollowThroughProgress {
  if (typeof value !== "object" || value === null)
    throw new InvalidInputError("The follow-through message has no progress");
  const raw = value as Record<string, unknown>;
  const tally = (typeof raw.tally === "object" && raw.tally !== null ? raw.tally : {}) as Record<
    string,
    unknown
  >;
  if (typeof tally.since !== "string" || Number.isNaN(Date.parse(tally.since)))
    throw new InvalidInputError("The follow-through message has no start time");
  return {
    after: incidentIdOf({ incidentId: raw.after }, "follow-through"),
    part: count(raw.part),
    tally: {
      since: tally.since,
      checked: count(tally.checked),
      alerts: incidentIds(tally.alerts),
      staticKeysLeft: count(tally.staticKeysLeft),
      secretsLeft: count(tally.secretsLeft),
      rolesToCreate: count(tally.rolesToCreate),
      rolesWrong: incidentIds(tally.rolesWrong),
      proposals: count(tally.proposals),
      failed: incidentIds(tally.failed),
    },
  };
}

export function parseInvestigationTask(body: string): InvestigationTask {
  const raw = parseObject(body, "investigation");
  if (raw.source === FOLLOW_THROUGH_TASK.source) {
    if (raw.task !== FOLLOW_THROUGH_TASK.task) throw new InvalidInputError("Unknown scheduled task");
    return { kind: "follow-through" };
  }
  if (raw.kind === "follow-through")
    return { kind: "follow-through", resume: followThroughProgress(raw.resume) };
  if (raw.kind !== "investigate") throw new InvalidInputError("Unknown investigation task");
  const accountId = raw.accountId;
  if (typeof accountId !== "string" || !/^\d{12}$/.test(accountId))
    throw new InvalidInputError("The investigation message has no valid accountId");
  return {
    kind: "investigate",
    incidentId: incidentIdOf(raw, "investigation"),
    accountId,
    continuation: count(raw.continuation),
    attempt: count(raw.attempt),
  };
}

export function parseNotificationTask(body: string): NotificationTask {
  const raw = parseObject(body, "notification");
  switch (raw.kind) {
    case "notice": {
      if (raw.notice !== "first" && raw.notice !== "follow-up")
        throw new InvalidInputError("The notification message names no known notice");
      return {
        kind: "notice",
        incidentId: incidentIdOf(raw, "notification"),
        notice: raw.notice,
        ...(typeof raw.status === "string" ? { status: raw.status } : {}),
      };
    }
    case "unrecorded": {
      const incident = raw.incident as Incident | undefined;
      const notice = raw.notice;
      if (typeof notice !== "string" || !UNRECORDED_NOTICES.has(notice))
        throw new InvalidInputError("The notification message names no known notice");
      if (typeof incident !== "object" || incident === null || typeof incident.id !== "string")
        throw new InvalidInputError("The notification message carries no incident");
      return { kind: "unrecorded", incident, notice: notice as UnrecordedNotice };
    }
    case "remind":
      return {
        kind: "remind",
        incidentId: incidentIdOf(raw, "reminder"),
        lines: lines(raw.lines, "reminder"),
      };
    case "announce":
      return { kind: "announce", lines: lines(raw.lines, "summary") };
    default:
      throw new InvalidInputError("Unknown notification task");
  }
}
