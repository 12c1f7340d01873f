/**
 * The audit report of one incident as plain, JSON-serialisable data (design.md, step 8 "Tell"): the
 * timeline with the time between milestones, what was done, what the analysis found, the evidence
 * with its SHA-256 values, the plan and what is still open. The Markdown, HTML and JSON renderings
 * are all drawn from this one model, so they cannot disagree.
 *
 * What goes in is chosen field by field: nothing is copied wholesale from an event (request
 * parameters and responses may hold anything, secrets included), every string is made printable and
 * cut to a length, and every list is capped with the number left out.
 */
import type { Incident, StepName, StepOutcome, TimelineEntry } from "../domain/incident.js";
import type { Findings, Origin } from "../forensics/findings.js";
import { missingByRegion, missingLines, partialExplanation } from "../forensics/partial-snapshot.js";
import { printable } from "../forensics/printable-text.js";
import { SIGNAL_CATEGORIES, type SignalCategory } from "../forensics/signals.js";
import type { TrailEvent } from "../forensics/trail-event.js";
import { containedAt, entryOf, timeToContainMs } from "../playbook/timeline.js";
import { type ActivityData, type ActivityGrouping, bucketActivity } from "./activity-buckets.js";
import { formatUtc, isoUtc, msBetween, utcTimesInText } from "./time-format.js";

export const REPORT_VERSION = 1;

const TEXT_MAX = 600;
const LONG_TEXT_MAX = 2_000;
const PLAN_SUMMARY_MAX = 20_000;
export const MAX_REASONS = 25;
export const MAX_ADDRESSES = 15;
export const MAX_SIGNALS_PER_CATEGORY = 15;
export const MAX_DETAILS = 5;
export const MAX_LIST = 25;
export const MAX_PLAN_FILES = 100;
export const MAX_STEPS = 100;

export type MilestoneId =
  | "leak"
  | "webhook-received"
  | "key-deactivated"
  | "sessions-revoked"
  | "alert-resolved"
  | "notified"
  | "snapshot-taken"
  | "analyzed"
  | "planned"
  | "followed-up";

export interface Milestone {
  id: MilestoneId;
  label: string;
  /** Absent when the step is not on the timeline (not reached, or not recorded). */
  at?: string;
  outcome: StepOutcome | "not-recorded";
  detail?: string;
  /** From the previous milestone that has a time. */
  sincePreviousMs?: number;
  /** From the leak: how long the key was exposed by then. */
  sinceLeakMs?: number;
}

export interface ReportAction {
  step: StepName;
  outcome: StepOutcome;
  at: string;
  text: string;
}

export interface ReportFollowUp {
  /** `now`: the key or its sessions may still work; `soon`: evidence or clean-up; `later`: prevention. */
  priority: "now" | "soon" | "later";
  text: string;
}

export interface ReportEvidenceFile {
  name: string;
  /** Where it is stored (S3 key or file path). */
  key?: string;
  bytes?: number;
  sha256: string;
  /** What the file is. */
  role: "events" | "manifest" | "findings" | "report" | "other";
  /** The SHA-256 of the bytes read back when the report was made, compared with the recorded one. */
  verified?: "match" | "MISMATCH" | "not-read";
  /** The manifest lists this file with another SHA-256 than the incident does. */
  manifestSha256?: string;
}

export interface FindingsDigest {
  verdict: string;
  headline: string;
  reasons: string[];
  reasonsOmitted: number;
  notes: string[];
  totals: { events: number; succeeded: number; denied: number; failed: number };
  firstUse?: string;
  lastUse?: string;
  afterLeak: {
    calls: number;
    succeeded: number;
    denied: number;
    failed: number;
    firstAt?: string;
    lastAt?: string;
    fromElsewhere: number;
  };
  afterContainment?: { calls: number; succeeded: number; denied: number; succeededAfterGrace: number };
  signals: Array<{
    category: SignalCategory;
    items: Array<{
      action: string;
      does: string;
      severity: string;
      succeeded: number;
      attempted: number;
      details: string[];
    }>;
    omitted: number;
  }>;
  addresses: Array<{
    address: string;
    /** "yes", "no", or "unknown" when GitHub's runner ranges were unavailable. */
    githubActions: "yes" | "no" | "unknown";
    origin: Origin;
    calls: number;
    succeeded: number;
    denied: number;
    afterLeak: number;
    firstSeen: string;
    lastSeen: string;
    regions: string[];
    userAgent?: string;
    note?: string;
  }>;
  addressesOmitted: number;
  regions: Array<{ region: string; calls: number; afterLeak: number; denied: number; newSinceLeak: boolean }>;
  artifacts: Array<{ kind: string; name: string; eventTime: string; sourceIPAddress?: string }>;
  derivedCredentials: Array<{
    accessKeyId: string;
    via: string;
    mintedAt: string;
    expiration?: string;
    roleArn?: string;
    calls: number;
  }>;
  rolesAssumed: Array<{ roleArn: string; times: number; afterLeak: number }>;
  deniedBursts: Array<{
    address: string;
    start: string;
    durationSeconds: number;
    deniedCalls: number;
    distinctActions: number;
  }>;
}

export interface AuditReport {
  version: typeof REPORT_VERSION;
  generatedAt: string;
  incident: {
    id: string;
    status: Incident["status"];
    summary: string;
    mode: Incident["mode"];
    source: Incident["source"];
    accessKeyId?: string;
    secretType?: string;
    secretFingerprint?: string;
    accountId?: string;
    userName?: string;
    viaMemberRole?: boolean;
    repository?: string;
    alertNumber?: number;
    alertUrl?: string;
    githubIssue?: { number: number; url: string };
    /** Where the key was found, and who put it there; the API path is never shown. */
    leakLocation?: Omit<NonNullable<Incident["leakLocation"]>, "apiPath">;
    leakedAt?: string;
    leakedAtSource?: "commit" | "alert";
    createdAt: string;
    updatedAt: string;
  };
  durations: {
    /** Webhook received (or start, for a manual run) to key deactivated. */
    timeToContainMs?: number;
    /** The leak to key deactivated: how long the key was usable by whoever found it. */
    exposureMs?: number;
    /** Webhook received to the findings. */
    timeToFindingsMs?: number;
  };
  /** The snapshot was given up before it finished: said at the top, with what was not read. */
  partial?: { warning: string; missing: string[] };
  milestones: Milestone[];
  /** Every playbook step as recorded, in order (capped). */
  steps: Array<Pick<TimelineEntry, "step" | "outcome" | "at" | "detail" | "durationMs">>;
  stepsOmitted: number;
  actions: ReportAction[];
  findings?: FindingsDigest;
  activity: ActivityData;
  evidence: {
    window?: { startTime: string; endTime: string };
    regions: string[];
    incompleteRegions: string[];
    complete?: boolean;
    /** Events per region, as the manifest counted them. */
    eventsPerRegion: Array<{ region: string; events: number }>;
    events?: number;
    files: ReportEvidenceFile[];
  };
  plan?: {
    summary: string;
    files: string[];
    filesOmitted: number;
    roles: string[];
    nothingToMigrate?: boolean;
    /** Where the plan's files are stored. */
    location?: string;
  };
  followUps: ReportFollowUp[];
  /** The incident's warnings, as recorded during the response. */
  warnings: string[];
  /** What the report could not read (a missing or unreadable evidence file): said, never hidden. */
  gaps: string[];
}

export interface ReportInput {
  incident: Incident;
  findings?: Findings;
  /** The evidence manifest as stored (manifest.json): read defensively. */
  manifest?: unknown;
  /** The snapshot's events, for the activity chart (only their time, region and call are used). */
  events?: readonly TrailEvent[];
  /** The migration plan; without it, the plan summary recorded on the incident is used. */
  plan?: { summary: string; files: ReadonlyArray<{ path: string }> };
  /** SHA-256 of evidence files as read back now, by name: each is compared with the recorded one. */
  readBack?: Readonly<Record<string, string>>;
  /** Problems met while gathering the input (a file missing, unreadable): shown, never hidden. */
  problems?: readonly string[];
  generatedAt: string;
  groupBy?: ActivityGrouping;
}

function text(value: unknown, max = TEXT_MAX): string {
  return printable(typeof value === "string" ? value : String(value ?? ""), max);
}

/** A sentence for a person: any time it quotes is written the way the report writes times. */
function prose(value: unknown, max = TEXT_MAX): string {
  return utcTimesInText(text(value, max));
}

/** Keeps line breaks (a plan summary is Markdown), neutralises everything else unprintable. */
function multiline(value: string, max: number): string {
  return value
    .slice(0, max)
    .split(/\r?\n/)
    .map((line) => printable(line, max))
    .join("\n");
}

function optionalText(value: unknown, max = TEXT_MAX): string | undefined {
  return typeof value === "string" && value.length > 0 ? printable(value, max) : undefined;
}

function capped<T, U>(
  items: readonly T[] | undefined,
  max: number,
  map: (item: T) => U,
): { items: U[]; omitted: number } {
  const list = Array.isArray(items) ? items : [];
  return { items: list.slice(0, max).map(map), omitted: Math.max(list.length - max, 0) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A count as the renderers may print it unescaped: a number, whatever the stored JSON held. */
function count(value: unknown): number {
  return finiteNumber(value) ?? 0;
}

const MILESTONES: ReadonlyArray<{ id: Exclude<MilestoneId, "leak">; step: StepName; label: string }> = [
  { id: "webhook-received", step: "webhook-received", label: "Alert webhook received" },
  { id: "key-deactivated", step: "key-deactivated", label: "Key deactivated" },
  { id: "sessions-revoked", step: "sessions-revoked", label: "Sessions revoked" },
  { id: "alert-resolved", step: "alert-resolved", label: "GitHub alert resolved" },
  { id: "notified", step: "notified", label: "Owners notified" },
  { id: "snapshot-taken", step: "snapshot-taken", label: "CloudTrail snapshot done" },
  { id: "analyzed", step: "analyzed", label: "Findings ready" },
  { id: "planned", step: "planned", label: "OIDC migration plan written" },
  { id: "followed-up", step: "followed-up", label: "Follow-up sent (findings and plan)" },
];

/** The entry that counts for a step: the one that got it done, else the last attempt. */
function entryFor(incident: Incident, step: StepName): TimelineEntry | undefined {
  return entryOf(incident, step) ?? incident.timeline.filter((entry) => entry.step === step).at(-1);
}

function milestones(incident: Incident): Milestone[] {
  const list: Milestone[] = [];
  const leakLabel =
    incident.leakedAtSource === "commit"
      ? "Key committed (the leak)"
      : incident.leakedAtSource === "alert"
        ? "GitHub alert created (commit time unknown)"
        : "Leak time unknown";
  list.push({
    id: "leak",
    label: leakLabel,
    outcome: incident.leakedAt ? "done" : "not-recorded",
    ...(incident.leakedAt ? { at: incident.leakedAt } : {}),
    ...(incident.leakLocation?.commitSha && incident.leakedAtSource === "commit"
      ? {
          detail: text(
            `commit ${incident.leakLocation.commitSha.slice(0, 12)}${incident.leakLocation.path ? ` (${incident.leakLocation.path})` : ""}`,
          ),
        }
      : {}),
  });
  // A manual run has no webhook: its first step stands for the start.
  const manualStart = incident.source === "manual" ? incident.timeline[0] : undefined;
  for (const milestone of MILESTONES) {
    const entry =
      milestone.id === "webhook-received" && manualStart ? manualStart : entryFor(incident, milestone.step);
    const label =
      milestone.id === "webhook-received" && manualStart
        ? "Manual response started"
        : milestone.id === "snapshot-taken" && entry?.outcome === "partial"
          ? "CloudTrail snapshot stopped (PARTIAL: not all history read)"
          : milestone.label;
    list.push({
      id: milestone.id,
      label,
      outcome: entry?.outcome ?? "not-recorded",
      ...(entry ? { at: entry.at, detail: prose(entry.detail) } : {}),
    });
  }
  // The durations between the milestones that happened, in time order.
  // By time, not by text: an alert's "…:00Z" and a step's "…:00.500Z" do not sort as strings do.
  const timed = list
    .filter((m) => m.at !== undefined && !Number.isNaN(Date.parse(m.at)))
    .sort((a, b) => Date.parse(a.at ?? "") - Date.parse(b.at ?? ""));
  let previous: Milestone | undefined;
  for (const milestone of timed) {
    const sincePrevious = msBetween(previous?.at, milestone.at);
    if (sincePrevious !== undefined) milestone.sincePreviousMs = sincePrevious;
    const sinceLeak = msBetween(incident.leakedAt, milestone.at);
    if (sinceLeak !== undefined && milestone.id !== "leak") milestone.sinceLeakMs = sinceLeak;
    previous = milestone;
  }
  return [...timed, ...list.filter((m) => !timed.includes(m))];
}

const ACTION_STEPS: ReadonlySet<StepName> = new Set([
  "key-deactivated",
  "sessions-revoked",
  "quarantine-checked",
  "key-status-verified",
  "alert-resolved",
  "notified",
  "roles-revoked",
  "evidence-stored",
  "planned",
  "issue-opened",
  "followed-up",
  "report-written",
]);

function actions(incident: Incident): ReportAction[] {
  return incident.timeline
    .filter((entry) => ACTION_STEPS.has(entry.step))
    .slice(0, MAX_STEPS)
    .map((entry) => ({
      step: entry.step,
      outcome: entry.outcome,
      at: entry.at,
      text: prose(entry.detail, LONG_TEXT_MAX),
    }));
}

function digest(findings: Findings): FindingsDigest {
  const reasons = capped(findings.reasons, MAX_REASONS, (reason) => prose(reason, LONG_TEXT_MAX));
  const addresses = capped(findings.addresses, MAX_ADDRESSES, (address) => {
    const userAgent = optionalText(address.userAgents?.[0]?.userAgent, 300);
    const note = optionalText(address.note);
    return {
      address: text(address.address, 200),
      githubActions:
        address.githubActions === true
          ? ("yes" as const)
          : address.githubActions === false
            ? ("no" as const)
            : ("unknown" as const),
      origin: address.origin,
      calls: count(address.calls),
      succeeded: count(address.succeeded),
      denied: count(address.denied),
      afterLeak: count(address.afterLeak),
      firstSeen: text(address.firstSeen, 40),
      lastSeen: text(address.lastSeen, 40),
      regions: capped(address.regions, MAX_LIST, (r) => text(r, 40)).items,
      ...(userAgent ? { userAgent } : {}),
      ...(note ? { note } : {}),
    };
  });
  const signals: FindingsDigest["signals"] = [];
  for (const category of SIGNAL_CATEGORIES) {
    const raised = (findings.signals?.[category] ?? []).filter((s) => s.succeeded + s.attempted > 0);
    if (raised.length === 0) continue;
    const list = capped(raised, MAX_SIGNALS_PER_CATEGORY, (signal) => ({
      action: text(signal.action, 120),
      does: text(signal.does, 200),
      severity: text(signal.severity, 20),
      succeeded: count(signal.succeeded),
      attempted: count(signal.attempted),
      details: capped(signal.details, MAX_DETAILS, (d) => text(d, 300)).items,
    }));
    signals.push({ category, items: list.items, omitted: list.omitted });
  }
  const byOrigin = findings.afterLeak.byOrigin;
  const contained = findings.afterContainment;
  return {
    verdict: text(findings.verdict, 40),
    headline: prose(findings.headline, LONG_TEXT_MAX),
    reasons: reasons.items,
    reasonsOmitted: reasons.omitted,
    notes: capped(findings.notes, MAX_LIST, (n) => prose(n, LONG_TEXT_MAX)).items,
    totals: {
      events: count(findings.totals.events),
      succeeded: count(findings.totals.succeeded),
      denied: count(findings.totals.denied),
      failed: count(findings.totals.failed),
    },
    ...(findings.firstUse ? { firstUse: text(findings.firstUse, 40) } : {}),
    ...(findings.lastUse ? { lastUse: text(findings.lastUse, 40) } : {}),
    afterLeak: {
      calls: count(findings.afterLeak.calls),
      succeeded: count(findings.afterLeak.succeeded),
      denied: count(findings.afterLeak.denied),
      failed: count(findings.afterLeak.failed),
      ...(findings.afterLeak.firstAt ? { firstAt: text(findings.afterLeak.firstAt, 40) } : {}),
      ...(findings.afterLeak.lastAt ? { lastAt: text(findings.afterLeak.lastAt, 40) } : {}),
      fromElsewhere: (byOrigin?.elsewhere ?? 0) + (byOrigin?.unknown ?? 0),
    },
    ...(contained
      ? {
          afterContainment: {
            calls: count(contained.calls),
            succeeded: count(contained.succeeded),
            denied: count(contained.denied),
            succeededAfterGrace: count(contained.succeededAfterGrace),
          },
        }
      : {}),
    signals,
    addresses: addresses.items,
    addressesOmitted: addresses.omitted + (finiteNumber(findings.addressesOmitted) ?? 0),
    regions: capped(findings.regions, 50, (r) => ({
      region: text(r.region, 40),
      calls: count(r.calls),
      afterLeak: count(r.afterLeak),
      denied: count(r.denied),
      newSinceLeak: r.newSinceLeak === true,
    })).items,
    artifacts: capped(findings.artifacts, MAX_LIST, (a) => ({
      kind: text(a.kind, 40),
      name: text(a.name, 300),
      eventTime: text(a.eventTime, 40),
      ...(a.sourceIPAddress ? { sourceIPAddress: text(a.sourceIPAddress, 200) } : {}),
    })).items,
    derivedCredentials: capped(findings.derivedCredentials, MAX_LIST, (d) => ({
      accessKeyId: text(d.accessKeyId, 40),
      via: text(d.via, 60),
      mintedAt: text(d.mintedAt, 40),
      ...(d.expiration ? { expiration: isoUtc(text(d.expiration, 60)) } : {}),
      ...(d.roleArn ? { roleArn: text(d.roleArn, 300) } : {}),
      calls: count(d.calls),
    })).items,
    rolesAssumed: capped(findings.rolesAssumed, MAX_LIST, (r) => ({
      roleArn: text(r.roleArn, 300),
      times: count(r.times),
      afterLeak: count(r.afterLeak),
    })).items,
    deniedBursts: capped(findings.deniedBursts, MAX_LIST, (b) => ({
      address: text(b.address, 200),
      start: text(b.start, 40),
      durationSeconds: count(b.durationSeconds),
      deniedCalls: count(b.deniedCalls),
      distinctActions: count(b.distinctActions),
    })).items,
  };
}

interface ManifestFacts {
  window?: { startTime: string; endTime: string };
  regions: string[];
  incompleteRegions: string[];
  complete?: boolean;
  eventsPerRegion: Array<{ region: string; events: number }>;
  events?: number;
  files: Array<{ name: string; sha256: string; bytes?: number }>;
}

/** What the report needs from manifest.json, read without trusting its shape. */
function manifestFacts(manifest: unknown): ManifestFacts {
  const facts: ManifestFacts = { regions: [], incompleteRegions: [], eventsPerRegion: [], files: [] };
  if (!isRecord(manifest)) return facts;
  const window = manifest.window;
  if (isRecord(window) && typeof window.startTime === "string" && typeof window.endTime === "string") {
    facts.window = { startTime: text(window.startTime, 40), endTime: text(window.endTime, 40) };
  }
  const strings = (value: unknown) =>
    Array.isArray(value)
      ? value
          .filter((v): v is string => typeof v === "string")
          .slice(0, 100)
          .map((v) => text(v, 60))
      : [];
  facts.regions = strings(manifest.regions);
  facts.incompleteRegions = strings(manifest.incompleteRegions);
  if (typeof manifest.complete === "boolean") facts.complete = manifest.complete;
  const events = finiteNumber(manifest.events);
  if (events !== undefined) facts.events = events;
  if (isRecord(manifest.eventsPerRegion)) {
    facts.eventsPerRegion = Object.entries(manifest.eventsPerRegion)
      .filter((entry): entry is [string, number] => finiteNumber(entry[1]) !== undefined)
      .slice(0, 100)
      .map(([region, count]) => ({ region: text(region, 60), events: count }))
      .sort((a, b) => b.events - a.events || a.region.localeCompare(b.region));
  }
  if (Array.isArray(manifest.files)) {
    for (const file of manifest.files.slice(0, 1000)) {
      if (!isRecord(file) || typeof file.name !== "string" || typeof file.sha256 !== "string") continue;
      const bytes = finiteNumber(file.bytes);
      facts.files.push({
        name: text(file.name, 200),
        sha256: text(file.sha256, 80),
        ...(bytes === undefined ? {} : { bytes }),
      });
    }
  }
  return facts;
}

function evidenceFiles(
  incident: Incident,
  manifest: ManifestFacts,
  readBack: Readonly<Record<string, string>>,
): ReportEvidenceFile[] {
  const forensics = incident.forensics;
  const files: ReportEvidenceFile[] = [];
  const fromManifest = new Map(manifest.files.map((file) => [file.name, file]));
  const add = (
    file: { name: string; key?: string; sha256: string; bytes?: number },
    role: ReportEvidenceFile["role"],
  ) => {
    const name = text(file.name, 200);
    const read = readBack[file.name];
    const listed = fromManifest.get(name);
    files.push({
      name,
      ...(file.key ? { key: text(file.key, 400) } : {}),
      ...(finiteNumber(file.bytes) === undefined ? {} : { bytes: count(file.bytes) }),
      sha256: text(file.sha256, 80),
      role,
      verified: read === undefined ? "not-read" : read === file.sha256 ? "match" : "MISMATCH",
      ...(listed && listed.sha256 !== file.sha256 ? { manifestSha256: listed.sha256 } : {}),
    });
  };
  for (const part of forensics?.parts ?? []) add(part, "events");
  // Parts the manifest lists that the incident does not (an incident record behind its evidence).
  for (const file of manifest.files) {
    if (!files.some((f) => f.name === file.name))
      add(file, file.name.startsWith("cloudtrail-events") ? "events" : "other");
  }
  if (forensics?.manifest) add(forensics.manifest, "manifest");
  if (forensics?.findings) add(forensics.findings, "findings");
  for (const file of incident.report ?? []) add(file, "report");
  return files;
}

function followUps(
  report: Omit<AuditReport, "followUps">,
  incident: Incident,
  findings: Findings | undefined,
): ReportFollowUp[] {
  const items: ReportFollowUp[] = [];
  const user = incident.location?.userName;
  const account = incident.location?.accountId;
  const key = incident.accessKeyId;
  const keyText = key ?? "the leaked key";
  const deactivated =
    entryOf(incident, "key-deactivated") !== undefined || incident.containment?.keyStatusAfter === "Inactive";

  if (incident.failure) {
    items.push({
      priority: "now",
      text: text(
        `Containment failed at ${incident.failure.step} (${incident.failure.code}): ${incident.failure.message}`,
        LONG_TEXT_MAX,
      ),
    });
  }
  if (incident.mode === "dry-run" || incident.status === "dry-run") {
    items.push({
      priority: "now",
      text: "This was a dry run: nothing was changed and the key is still active. Contain it by hand or rerun in enforce mode.",
    });
  } else if (!deactivated && key) {
    items.push({
      priority: "now",
      text: text(
        `Deactivate the key by hand${account ? ` in account ${account}` : ""}: aws iam update-access-key${user ? ` --user-name ${user}` : ""} --access-key-id ${key} --status Inactive`,
        LONG_TEXT_MAX,
      ),
    });
  }
  if (incident.mode !== "dry-run" && !entryOf(incident, "sessions-revoked") && user) {
    items.push({
      priority: "now",
      text: text(
        `Revoke the sessions the key minted: IAM console > Users > ${user} > Revoke active sessions${account ? ` (account ${account})` : ""}.`,
      ),
    });
  }
  const forensics = incident.forensics;
  // A partial snapshot names the time range not read, where it is known.
  const notRead = forensics?.partial ? missingByRegion(forensics.partial) : new Map<string, string>();
  for (const region of forensics?.incompleteRegions ?? []) {
    const missing = notRead.get(region);
    items.push({
      priority: "soon",
      text: prose(
        `${missing ? `PARTIAL snapshot, ${missing}` : `CloudTrail history is incomplete in ${region}`}: look up ${keyText} there by hand (CloudTrail > Event history, filter by access key).`,
      ),
    });
  }
  if (forensics?.checkpoint && forensics.checkpoint.pending.length > 0) {
    items.push({
      priority: "soon",
      text: `The CloudTrail snapshot has not finished: ${forensics.checkpoint.pending.length} region/key lookup(s) still pending.`,
    });
  }
  for (const role of forensics?.rolesAssumed ?? []) {
    if (!forensics?.rolesRevoked.includes(role)) {
      items.push({
        priority: "now",
        text: text(`Sessions of role ${role}, which the key assumed, were NOT revoked: revoke them by hand.`),
      });
    }
  }
  for (const policy of incident.containment?.quarantinePolicies ?? []) {
    items.push({
      priority: "soon",
      text: text(
        `AWS attached ${policy} to ${user ?? "the user"}: remove it once the key is replaced (it keeps denying some calls).`,
      ),
    });
  }
  for (const artifact of findings?.artifacts.slice(0, MAX_LIST) ?? []) {
    items.push({
      priority: "now",
      text: text(
        `Inspect and remove what was created after the leak: ${artifact.kind} ${artifact.name} (${formatUtc(artifact.eventTime)}).`,
      ),
    });
  }
  if (findings && (findings.verdict === "compromised" || findings.verdict === "suspicious")) {
    items.push({
      priority: "now",
      text: `The verdict is ${findings.verdict}: review the findings with security and rotate what the key could read (secrets, parameters, data).`,
    });
  }
  if (!findings && incident.status !== "not-ours") {
    items.push({
      priority: "soon",
      text: "No findings are stored for this incident: analyse the CloudTrail history (leak-responder analyze).",
    });
  }
  if (incident.repository && incident.alertNumber !== undefined && !entryOf(incident, "alert-resolved")) {
    items.push({
      priority: "soon",
      text: text(`Resolve GitHub alert #${incident.alertNumber} of ${incident.repository} as revoked.`),
    });
  }
  if (incident.repository) {
    const plan = report.plan;
    items.push({
      priority: "later",
      text: !plan
        ? text(`Plan the move to GitHub Actions OIDC: leak-responder plan --repo ${incident.repository}`)
        : plan.nothingToMigrate
          ? text(
              `No workflow of ${incident.repository} uses a static key: find what else used it and move that off static keys.`,
            )
          : text(
              `Carry out the OIDC migration plan for ${incident.repository} (${plan.files.length} file(s)), then remove the static key from the repository's secrets.`,
            ),
    });
  }
  if (user && deactivated) {
    // design.md (Never): deletion is recommended, never automatic.
    items.push({
      priority: "later",
      text: text(
        `Delete the access key, then the IAM user ${user}${account ? ` in ${account}` : ""}, once the migration is done (never done automatically).`,
      ),
    });
  }
  const rank = { now: 0, soon: 1, later: 2 } as const;
  return items.sort((a, b) => rank[a.priority] - rank[b.priority]);
}

function planOf(input: ReportInput, incident: Incident): AuditReport["plan"] {
  const recorded = incident.plan;
  const paths = input.plan ? input.plan.files.map((f) => f.path) : recorded?.files;
  const summary = input.plan?.summary ?? recorded?.summary;
  if (summary === undefined || paths === undefined) return undefined;
  const files = capped(paths, MAX_PLAN_FILES, (path) => text(path, 300));
  return {
    summary: multiline(summary, PLAN_SUMMARY_MAX),
    files: files.items,
    filesOmitted: files.omitted,
    roles: capped(recorded?.roles, MAX_LIST, (role) => text(role, 200)).items,
    ...(recorded
      ? { nothingToMigrate: recorded.nothingToMigrate, location: text(recorded.location, 400) }
      : {}),
  };
}

export function buildReport(input: ReportInput): AuditReport {
  const { incident, findings } = input;
  const manifest = manifestFacts(input.manifest);
  const leakLabel =
    incident.leakedAtSource === "commit"
      ? "key committed"
      : incident.leakedAtSource === "alert"
        ? "alert created"
        : undefined;
  const contained = containedAt(incident);
  const window = manifest.window ?? incident.forensics?.window;
  const activity = bucketActivity(input.events ?? [], {
    ...(input.groupBy ? { groupBy: input.groupBy } : {}),
    ...(window ? { window } : {}),
    ...(incident.leakedAt ? { leakedAt: incident.leakedAt } : {}),
    ...(leakLabel ? { leakLabel } : {}),
    ...(contained ? { containedAt: contained } : {}),
  });
  const start = incident.timeline[0]?.at;
  const timeToContain = timeToContainMs(incident);
  const exposure = msBetween(incident.leakedAt, entryOf(incident, "key-deactivated")?.at);
  const toFindings = msBetween(start, entryOf(incident, "analyzed")?.at);
  const location = incident.location;
  const leak = incident.leakLocation;
  const plan = planOf(input, incident);
  const steps = capped(incident.timeline, MAX_STEPS, (entry) => ({
    step: entry.step,
    outcome: entry.outcome,
    at: entry.at,
    detail: prose(entry.detail, LONG_TEXT_MAX),
    ...(finiteNumber(entry.durationMs) === undefined ? {} : { durationMs: count(entry.durationMs) }),
  }));
  const partial: Omit<AuditReport, "followUps"> = {
    version: REPORT_VERSION,
    generatedAt: input.generatedAt,
    incident: {
      id: text(incident.id, 200),
      status: incident.status,
      summary: prose(incident.summary, LONG_TEXT_MAX),
      mode: incident.mode,
      source: incident.source,
      ...(incident.accessKeyId ? { accessKeyId: text(incident.accessKeyId, 40) } : {}),
      ...(incident.secretType ? { secretType: text(incident.secretType, 80) } : {}),
      ...(incident.secretFingerprint ? { secretFingerprint: text(incident.secretFingerprint, 40) } : {}),
      ...(location?.accountId ? { accountId: text(location.accountId, 20) } : {}),
      ...(location?.userName ? { userName: text(location.userName, 128) } : {}),
      ...(location ? { viaMemberRole: location.viaMemberRole } : {}),
      ...(incident.repository ? { repository: text(incident.repository, 200) } : {}),
      ...(finiteNumber(incident.alertNumber) === undefined
        ? {}
        : { alertNumber: count(incident.alertNumber) }),
      ...(incident.alertUrl ? { alertUrl: text(incident.alertUrl, 500) } : {}),
      ...(incident.githubIssue
        ? {
            githubIssue: {
              number: count(incident.githubIssue.number),
              url: text(incident.githubIssue.url, 500),
            },
          }
        : {}),
      ...(leak
        ? {
            leakLocation: {
              ...(leak.type ? { type: text(leak.type, 60) } : {}),
              ...(leak.path ? { path: text(leak.path, 500) } : {}),
              ...(finiteNumber(leak.startLine) === undefined ? {} : { startLine: count(leak.startLine) }),
              ...(leak.commitSha ? { commitSha: text(leak.commitSha, 64) } : {}),
              ...(leak.url ? { url: text(leak.url, 1000) } : {}),
              ...(leak.people?.length
                ? {
                    people: leak.people.slice(0, 4).map((person) => ({
                      role: person.role === "committer" ? "committer" : "author",
                      ...(person.login ? { login: text(person.login, 100) } : {}),
                      ...(person.name ? { name: text(person.name, 200) } : {}),
                    })),
                  }
                : {}),
            },
          }
        : {}),
      ...(incident.leakedAt ? { leakedAt: incident.leakedAt } : {}),
      ...(incident.leakedAtSource ? { leakedAtSource: incident.leakedAtSource } : {}),
      createdAt: incident.createdAt,
      updatedAt: incident.updatedAt,
    },
    durations: {
      ...(timeToContain === undefined ? {} : { timeToContainMs: timeToContain }),
      ...(exposure === undefined ? {} : { exposureMs: exposure }),
      ...(toFindings === undefined ? {} : { timeToFindingsMs: toFindings }),
    },
    ...(incident.forensics?.partial
      ? {
          partial: {
            warning: prose(partialExplanation(incident.forensics.partial), LONG_TEXT_MAX),
            missing: missingLines(incident.forensics.partial)
              .slice(0, MAX_LIST)
              .map((line) => prose(line)),
          },
        }
      : {}),
    milestones: milestones(incident),
    steps: steps.items,
    stepsOmitted: steps.omitted,
    actions: actions(incident),
    ...(findings ? { findings: digest(findings) } : {}),
    activity,
    evidence: {
      ...(window ? { window } : {}),
      regions: manifest.regions.length > 0 ? manifest.regions : (incident.forensics?.regions ?? []),
      incompleteRegions:
        manifest.incompleteRegions.length > 0
          ? manifest.incompleteRegions
          : (incident.forensics?.incompleteRegions ?? []),
      ...(manifest.complete === undefined
        ? incident.forensics
          ? { complete: incident.forensics.complete }
          : {}
        : { complete: manifest.complete }),
      eventsPerRegion: manifest.eventsPerRegion,
      ...(manifest.events === undefined
        ? incident.forensics
          ? { events: incident.forensics.eventCount }
          : {}
        : { events: manifest.events }),
      files: evidenceFiles(incident, manifest, input.readBack ?? {}),
    },
    ...(plan ? { plan } : {}),
    warnings: incident.warnings.slice(0, MAX_LIST).map((w) => prose(w, LONG_TEXT_MAX)),
    gaps: (input.problems ?? []).slice(0, MAX_LIST).map((p) => prose(p, LONG_TEXT_MAX)),
  };
  return { ...partial, followUps: followUps(partial, incident, findings) };
}
