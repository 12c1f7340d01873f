/**
 * Playbook step 6, "Understand" (design.md): from a key's CloudTrail history to findings and a
 * verdict. Pure and deterministic: no clock, no I/O; the same events and context give the same
 * JSON, whatever order the events came in.
 *
 * The history is scoped to the keys under investigation and the temporary credentials they minted
 * (facts.md, AWS: CloudTrail: pivot), each call is classified by outcome, origin (GitHub Actions
 * runner or not) and time (before/after the leak, after containment), signals are raised from
 * signals.ts and judged by verdict.ts.
 */
import { InvalidInputError } from "../domain/errors.js";
import type { PartialSnapshot } from "../domain/incident.js";
import { type ActionsRanges, createActionsRanges, describeProvenance } from "./actions-ranges.js";
import { isJsonObject } from "./bounded-json.js";
import { createOriginClassifier } from "./call-origin.js";
import { outcomeOf } from "./call-outcome.js";
import { type DeniedCall, findDeniedBursts } from "./denied-bursts.js";
import { canonicalEventName, iamActionOf, needsNoPermission, resourcesOf } from "./event-actions.js";
import {
  type ActionUse,
  type AddressFinding,
  type Artifact,
  type CallOutcome,
  type DeniedBurst,
  type DerivedCredential,
  type EventNameFinding,
  type EventRef,
  FINDINGS_VERSION,
  type Findings,
  type KeyFinding,
  type Origin,
  type RegionFinding,
  type RoleAssumption,
  type ServiceFinding,
  type SignalEvent,
  type SignalFinding,
  type SignalStatus,
} from "./findings.js";
import { compareEvents } from "./parse-trail.js";
import { missingRegions } from "./partial-snapshot.js";
import { printable } from "./printable-text.js";
import { sequenceSignals } from "./sequence-signals.js";
import {
  ATTEMPT_WEIGHT,
  SEVERITY_WEIGHT,
  SIGNAL_CATEGORIES,
  type SignalCategory,
  type SignalRule,
  signalDetail,
  signalRulesFor,
} from "./signals.js";
import type { TrailEvent } from "./trail-event.js";
import { type CountedHit, judge, listOf } from "./verdict.js";

/**
 * IAM changes take minutes to apply everywhere (facts.md, AWS: locate and contain: "Propagation
 * takes minutes"): a success this soon after containment is noted, later ones are a red flag.
 */
export const CONTAINMENT_GRACE_MS = 5 * 60_000;

export const MAX_EVENTS_PER_SIGNAL = 20;
export const MAX_DETAILS_PER_SIGNAL = 10;
export const MAX_ADDRESSES = 200;
export const MAX_USER_AGENTS_PER_ADDRESS = 5;
export const MAX_USER_AGENTS = 20;
export const MAX_EVENT_NAMES = 300;
export const MAX_REGIONS = 50;
export const MAX_ERROR_CODES = 50;
export const MAX_RESOURCES_PER_ACTION = 50;
export const MAX_ACTIONS = 500;
export const MAX_ARTIFACTS = 100;
export const MAX_KEYS = 100;
export const MAX_LATE_SUCCESSES = 20;

export interface ExpectedUse {
  /** Substrings of the user agents the CI's calls carry; calls from runners without one are flagged. */
  userAgents?: readonly string[] | undefined;
  /** CIDRs of self-hosted runners or known egress, trusted like GitHub Actions runners. */
  networks?: readonly string[] | undefined;
}

export interface AnalyzeContext {
  /** When the key became public (ISO 8601): the first commit or alert time. */
  leakedAt?: string | undefined;
  /** When containment took effect (ISO 8601): the deny-older-sessions cut-off. */
  containedAt?: string | undefined;
  /** The keys under investigation. Without them every event is analysed (and AKIA keys count as leaked). */
  accessKeyIds?: readonly string[] | undefined;
  actionsRanges?: ActionsRanges | undefined;
  /** Why the ranges are missing, when they are; said in the findings. */
  actionsRangesProblem?: string | undefined;
  expected?: ExpectedUse | undefined;
  /** Regions the snapshot could not read: the verdict never clears a key over an unread history. */
  unreadRegions?: readonly string[] | undefined;
  /** The snapshot was given up before it finished: the findings say so, and what was not read. */
  partial?: PartialSnapshot | undefined;
}

/** One call, classified once. */
interface Observation {
  event: TrailEvent;
  timeMs: number;
  outcome: CallOutcome;
  origin: Origin;
  address: string;
  afterLeak: boolean;
  afterContainment: boolean;
  call: string;
  action: string;
  agentOk: boolean;
  hits: Array<{ rule: SignalRule; status: SignalStatus; explanation?: string; detail?: string }>;
}

const TRUSTED_ORIGINS = new Set<Origin>(["github-actions", "expected-network"]);
const NO_ADDRESS = "(no address)";
const CREDENTIAL_ID = /^[A-Z0-9]{16,128}$/;

export function analyzeTrail(events: readonly TrailEvent[], context: AnalyzeContext = {}): Findings {
  const leakMs = contextTime(context.leakedAt, "leakedAt");
  const containMs = contextTime(context.containedAt, "containedAt");
  const leakKnown = leakMs !== undefined;

  const sorted = dedupeAndSort(events);
  const { inScope, outOfScope, derivedIds, createdIds } = scope(sorted, context.accessKeyIds);

  const networks = context.expected?.networks;
  const classifier = createOriginClassifier(
    context.actionsRanges,
    networks && networks.length > 0 ? createActionsRanges(networks) : undefined,
  );
  const agents = (context.expected?.userAgents ?? []).filter((agent) => agent.length > 0);

  const observations: Observation[] = inScope.map((event) => {
    const timeMs = Date.parse(event.eventTime);
    const origin = classifier.originOf(event);
    return {
      event,
      timeMs,
      outcome: outcomeOf(event),
      origin,
      address: event.sourceIPAddress ?? NO_ADDRESS,
      afterLeak: leakMs === undefined || timeMs >= leakMs,
      afterContainment: containMs !== undefined && timeMs >= containMs,
      call: `${event.eventSource} ${canonicalEventName(event.eventSource, event.eventName)}`,
      action: iamActionOf(event),
      agentOk:
        agents.length === 0 ||
        (event.userAgent !== undefined && agents.some((a) => event.userAgent?.includes(a))),
      hits: [],
    };
  });
  attributeServiceCalls(observations);

  // What the key did as its owner: before the leak; or, without a leak time, from runners.
  const baseline = new Set(
    observations
      .filter((o) => o.outcome === "succeeded" && (leakKnown ? !o.afterLeak : TRUSTED_ORIGINS.has(o.origin)))
      .map((o) => o.call),
  );
  const sequenceRules = sequenceSignals(observations.map((o) => o.event));
  for (const observation of observations) {
    raiseSignals(observation, baseline, leakKnown, sequenceRules.get(observation.event.eventId) ?? []);
  }
  const knownAddresses = new Set(
    leakKnown
      ? observations.filter((o) => !o.afterLeak && o.outcome === "succeeded").map((o) => o.address)
      : [],
  );

  const bursts = deniedBursts(observations, leakMs, containMs);
  const countedBursts = bursts.filter(
    (burst) => burst.afterLeak && (!burst.afterContainment || !TRUSTED_ORIGINS.has(burst.origin)),
  );
  const inCountedBurst = burstEventIds(observations, countedBursts);

  const afterLeak = observations.filter((o) => o.afterLeak);
  const judgement = judge({
    ...(context.leakedAt !== undefined && leakMs !== undefined
      ? { leakedAt: new Date(leakMs).toISOString() }
      : {}),
    afterLeakCalls: afterLeak.length,
    ...lastOf(observations, () => true, "lastUse"),
    runnerAddresses: new Set(afterLeak.filter((o) => TRUSTED_ORIGINS.has(o.origin)).map((o) => o.address))
      .size,
    byOrigin: countByOrigin(afterLeak),
    hits: countedHits(afterLeak, baseline, inCountedBurst, { derivedIds, createdIds }, knownAddresses),
    explainedRules: [
      ...new Set(
        afterLeak.flatMap((o) => o.hits.filter((h) => h.status === "explained").map((h) => h.rule.id)),
      ),
    ].sort(),
    foreignUse: foreignUse(afterLeak, inCountedBurst, knownAddresses),
    unknownUse: {
      calls: afterLeak.filter((o) => o.origin === "unknown").length,
      addresses: [...new Set(afterLeak.filter((o) => o.origin === "unknown").map((o) => o.address))].sort(),
      ...(context.actionsRanges ? {} : { reason: rangesProblem(context) }),
    },
    bursts: countedBursts,
    unfamiliarAgents: unfamiliarAgents(afterLeak, agents.length > 0),
    lateSuccesses: lateSuccesses(observations, containMs).map((o) => ({
      address: o.address,
      origin: o.origin,
      eventName: o.event.eventName,
      eventTime: o.event.eventTime,
    })),
    graceMinutes: CONTAINMENT_GRACE_MS / 60_000,
    unreadRegions: [
      ...new Set([
        ...(context.unreadRegions ?? []),
        ...(context.partial ? missingRegions(context.partial) : []),
      ]),
    ].sort(),
    ...(context.partial ? { partialReason: context.partial.reason } : {}),
  });

  const findings: Findings = {
    version: FINDINGS_VERSION,
    verdict: judgement.verdict,
    headline: judgement.headline,
    reasons: judgement.reasons,
    notes: notes(observations, context, { leakKnown, outOfScope, containMs, derivedIds }),
    totals: {
      events: observations.length,
      succeeded: observations.filter((o) => o.outcome === "succeeded").length,
      denied: observations.filter((o) => o.outcome === "denied").length,
      failed: observations.filter((o) => o.outcome === "failed" || o.outcome === "permitted").length,
      outOfScope,
    },
    afterLeak: {
      calls: afterLeak.length,
      succeeded: afterLeak.filter((o) => o.outcome === "succeeded").length,
      denied: afterLeak.filter((o) => o.outcome === "denied").length,
      failed: afterLeak.filter((o) => o.outcome === "failed" || o.outcome === "permitted").length,
      ...firstOf(afterLeak, () => true, "firstAt"),
      ...lastOf(afterLeak, () => true, "lastAt"),
      byOrigin: countByOrigin(afterLeak),
    },
    githubActionsRanges: context.actionsRanges
      ? {
          available: true,
          description: describeProvenance(context.actionsRanges),
          size: context.actionsRanges.size,
        }
      : { available: false, reason: rangesProblem(context) },
    ...addressFindings(observations, classifier),
    regions: regionFindings(observations),
    services: serviceFindings(observations),
    ...eventNameFindings(observations),
    errorCodes: errorCodeFindings(observations),
    userAgents: topUserAgents(observations, MAX_USER_AGENTS),
    deniedBursts: bursts,
    signals: signalFindings(observations),
    keys: keyFindings(observations, context.accessKeyIds, derivedIds),
    derivedCredentials: derivedCredentials(observations),
    rolesAssumed: rolesAssumed(observations),
    artifacts: artifacts(observations),
    actions: actionUses(observations, leakKnown),
  };
  if (context.partial) findings.partial = context.partial;
  if (leakMs !== undefined) findings.leakedAt = new Date(leakMs).toISOString();
  if (containMs !== undefined) {
    findings.containedAt = new Date(containMs).toISOString();
    findings.afterContainment = afterContainment(observations, containMs);
  }
  Object.assign(
    findings,
    firstOf(observations, () => true, "firstUse"),
  );
  Object.assign(
    findings,
    lastOf(observations, () => true, "lastUse"),
  );
  Object.assign(
    findings,
    lastOf(observations, (o) => o.outcome === "succeeded", "lastSuccess"),
  );
  return findings;
}

function contextTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) || !Number.isFinite(ms)) {
    throw new InvalidInputError(
      `${name} must be an ISO 8601 time such as 2026-11-02T09:14:08Z, not "${printable(value, 40)}"`,
    );
  }
  return ms;
}

function dedupeAndSort(events: readonly TrailEvent[]): TrailEvent[] {
  const byId = new Map<string, TrailEvent>();
  for (const event of events) {
    if (!byId.has(event.eventId) && Number.isFinite(Date.parse(event.eventTime)))
      byId.set(event.eventId, event);
  }
  // Normalise the time text so string order is time order, whoever built the events.
  return [...byId.values()]
    .map((event) => {
      const iso = new Date(Date.parse(event.eventTime)).toISOString();
      return iso === event.eventTime ? event : { ...event, eventTime: iso };
    })
    .sort(compareEvents);
}

/** The keys' events and those of the credentials they minted, transitively (facts.md: pivot). */
function scope(
  events: TrailEvent[],
  accessKeyIds: readonly string[] | undefined,
): { inScope: TrailEvent[]; outOfScope: number; derivedIds: Set<string>; createdIds: Set<string> } {
  const derivedIds = new Set<string>();
  const createdIds = new Set<string>();
  if (!accessKeyIds || accessKeyIds.length === 0) {
    for (const event of events) {
      const minted = mintedKeyId(event);
      if (minted) derivedIds.add(minted);
      const created = createdKeyId(event);
      if (created) createdIds.add(created);
    }
    return { inScope: events, outOfScope: 0, derivedIds, createdIds };
  }
  const keys = new Set(accessKeyIds);
  // Fixed point: a minted key may mint another; events may be out of order across regions.
  for (let grew = true; grew; ) {
    grew = false;
    for (const event of events) {
      const caller = event.userIdentity.accessKeyId;
      if (!caller || !keys.has(caller)) continue;
      const minted = mintedKeyId(event);
      if (minted && !keys.has(minted)) {
        keys.add(minted);
        derivedIds.add(minted);
        grew = true;
      }
      // A backdoor key the key created: what it did is the attacker's doing too (issue 11).
      const created = createdKeyId(event);
      if (created && !keys.has(created)) {
        keys.add(created);
        createdIds.add(created);
        grew = true;
      }
    }
  }
  const inScope = events.filter((event) => {
    const caller = event.userIdentity.accessKeyId;
    return caller !== undefined && keys.has(caller);
  });
  return { inScope, outOfScope: events.length - inScope.length, derivedIds, createdIds };
}

/** `responseElements.accessKey.accessKeyId` of a successful iam:CreateAccessKey. */
function createdKeyId(event: TrailEvent): string | undefined {
  if (event.errorCode || event.eventSource !== "iam.amazonaws.com" || event.eventName !== "CreateAccessKey") {
    return undefined;
  }
  const accessKey = event.responseElements?.accessKey;
  const id = isJsonObject(accessKey) ? accessKey.accessKeyId : undefined;
  return typeof id === "string" && CREDENTIAL_ID.test(id) ? id : undefined;
}

/** How long after a call an AWS service may still act for it (a CloudFormation stack, an Auto Scaling group). */
const SERVICE_ATTRIBUTION_MS = 60 * 60_000;

/**
 * A call an AWS service made for the key ("cloudformation.amazonaws.com", "AWS Internal", invokedBy)
 * was started by the key's last own call before it: it takes that caller's address and origin, so a
 * stack an attacker launched is the attacker's doing, not "an AWS service" (issue 11).
 */
function attributeServiceCalls(observations: Observation[]): void {
  const lastOwnCall = new Map<string, Observation>();
  for (const o of observations) {
    const key = o.event.userIdentity.accessKeyId ?? "";
    if (o.origin !== "aws-service") {
      lastOwnCall.set(key, o);
      continue;
    }
    const starter = lastOwnCall.get(key);
    if (!starter || o.timeMs - starter.timeMs > SERVICE_ATTRIBUTION_MS) continue;
    o.origin = starter.origin;
    o.address = starter.address;
    o.agentOk = starter.agentOk;
  }
}

/** `responseElements.credentials.accessKeyId` of a successful GetSessionToken/GetFederationToken/AssumeRole. */
function mintedKeyId(event: TrailEvent): string | undefined {
  if (event.errorCode) return undefined;
  const credentials = event.responseElements?.credentials;
  const id = isJsonObject(credentials) ? credentials.accessKeyId : undefined;
  return typeof id === "string" && CREDENTIAL_ID.test(id) ? id : undefined;
}

function raiseSignals(
  observation: Observation,
  baseline: Set<string>,
  leakKnown: boolean,
  sequenceRules: readonly SignalRule[],
): void {
  for (const rule of [...signalRulesFor(observation.event), ...sequenceRules]) {
    const detail = signalDetail(rule, observation.event);
    let status: SignalStatus;
    let explanation: string | undefined;
    if (!observation.afterLeak) status = "before-leak";
    else {
      explanation = explain(rule, observation, baseline, leakKnown);
      status = explanation ? "explained" : observation.outcome === "succeeded" ? "succeeded" : "attempted";
    }
    observation.hits.push({
      rule,
      status,
      ...(explanation ? { explanation } : {}),
      ...(detail ? { detail } : {}),
    });
  }
}

function explain(
  rule: SignalRule,
  o: Observation,
  baseline: Set<string>,
  leakKnown: boolean,
): string | undefined {
  if (TRUSTED_ORIGINS.has(o.origin) && o.agentOk) {
    if (rule.keyCheck) return "configure-aws-credentials checks the key on every run";
    if (baseline.has(o.call)) {
      return leakKnown ? "the key did this before the leak" : "the key does this from GitHub Actions runners";
    }
  }
  if (o.origin === "aws-service" && baseline.has(o.call))
    return "an AWS service acting for the key, as before the leak";
  return undefined;
}

/** Hits that count for the verdict; denied calls inside a counted burst are told by the burst. */
function countedHits(
  afterLeak: Observation[],
  baseline: Set<string>,
  inBurst: Set<string>,
  keys: { derivedIds: Set<string>; createdIds: Set<string> },
  knownAddresses: Set<string>,
): CountedHit[] {
  const hits: CountedHit[] = [];
  for (const o of afterLeak) {
    const caller = o.event.userIdentity.accessKeyId;
    for (const hit of o.hits) {
      if (hit.status !== "succeeded" && hit.status !== "attempted") continue;
      if (hit.status === "attempted" && inBurst.has(o.event.eventId)) continue;
      hits.push({
        rule: hit.rule,
        action: o.action,
        status: hit.status,
        origin: o.origin,
        address: o.address,
        eventTime: o.event.eventTime,
        outcome: o.outcome,
        ...(hit.detail ? { detail: hit.detail } : {}),
        baseline: baseline.has(o.call),
        agentOk: o.agentOk,
        knownAddress: knownAddresses.has(o.address),
        ...(caller && keys.derivedIds.has(caller) ? { derivedKey: caller } : {}),
        ...(caller && keys.createdIds.has(caller) ? { createdKey: caller } : {}),
      });
    }
  }
  return hits;
}

function countsAgainst(o: Observation): boolean {
  return o.hits.some((hit) => hit.status === "succeeded" || hit.status === "attempted");
}

function deniedBursts(observations: Observation[], leakMs?: number, containMs?: number): DeniedBurst[] {
  const originByAddress = new Map(observations.map((o) => [o.address, o.origin]));
  const calls: DeniedCall[] = observations
    .filter((o) => o.outcome === "denied")
    .map((o) => ({
      address: o.address,
      timeMs: o.timeMs,
      action: o.action,
      accessKeyId: o.event.userIdentity.accessKeyId,
    }));
  return findDeniedBursts(calls).map((raw) => {
    const startMs = raw.calls[0]?.timeMs ?? 0;
    const endMs = raw.calls[raw.calls.length - 1]?.timeMs ?? startMs;
    const actionCounts = countBy(raw.calls.map((call) => call.action));
    return {
      address: raw.address,
      origin: originByAddress.get(raw.address) ?? "unknown",
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      durationSeconds: Math.round((endMs - startMs) / 1000),
      deniedCalls: raw.calls.length,
      distinctActions: actionCounts.length,
      actions: actionCounts.slice(0, 10).map(([action]) => action),
      accessKeyIds: [
        ...new Set(raw.calls.flatMap((call) => (call.accessKeyId ? [call.accessKeyId] : []))),
      ].sort(),
      afterLeak: leakMs === undefined || startMs >= leakMs,
      afterContainment: containMs !== undefined && startMs >= containMs,
    };
  });
}

function burstEventIds(observations: Observation[], bursts: DeniedBurst[]): Set<string> {
  const ids = new Set<string>();
  for (const burst of bursts) {
    for (const o of observations) {
      if (
        o.outcome === "denied" &&
        o.address === burst.address &&
        o.event.eventTime >= burst.start &&
        o.event.eventTime <= burst.end
      ) {
        ids.add(o.event.eventId);
      }
    }
  }
  return ids;
}

function foreignUse(afterLeak: Observation[], inBurst: Set<string>, knownAddresses: Set<string>) {
  const byAddress = new Map<string, Observation[]>();
  for (const o of afterLeak) {
    if (o.origin !== "elsewhere" || countsAgainst(o) || inBurst.has(o.event.eventId)) continue;
    const list = byAddress.get(o.address) ?? [];
    list.push(o);
    byAddress.set(o.address, list);
  }
  return [...byAddress.entries()]
    .map(([address, list]) => ({
      address,
      calls: list.length,
      succeeded: list.filter((o) => o.outcome === "succeeded").length,
      actions: countBy(list.map((o) => o.action)).map(([action]) => action),
      writes: list.filter((o) => o.outcome === "succeeded" && o.event.readOnly === false).length,
      knownAddress: knownAddresses.has(address),
    }))
    .sort((a, b) => b.calls - a.calls || compareText(a.address, b.address));
}

function unfamiliarAgents(afterLeak: Observation[], declared: boolean) {
  if (!declared) return [];
  const agents = afterLeak
    .filter((o) => TRUSTED_ORIGINS.has(o.origin) && !o.agentOk)
    .map((o) => o.event.userAgent ?? "(none)");
  return countBy(agents).map(([userAgent, calls]) => ({ userAgent: printable(userAgent, 120), calls }));
}

function lateSuccesses(observations: Observation[], containMs?: number): Observation[] {
  if (containMs === undefined) return [];
  return observations.filter(
    (o) => o.outcome === "succeeded" && o.timeMs >= containMs + CONTAINMENT_GRACE_MS,
  );
}

function afterContainment(
  observations: Observation[],
  containMs: number,
): NonNullable<Findings["afterContainment"]> {
  const after = observations.filter((o) => o.afterContainment);
  const successes = after.filter((o) => o.outcome === "succeeded");
  return {
    calls: after.length,
    succeeded: successes.length,
    denied: after.filter((o) => o.outcome === "denied").length,
    failed: after.filter((o) => o.outcome === "failed" || o.outcome === "permitted").length,
    succeededAfterGrace: successes.filter((o) => o.timeMs >= containMs + CONTAINMENT_GRACE_MS).length,
    graceSeconds: CONTAINMENT_GRACE_MS / 1000,
    successes: successes.slice(0, MAX_LATE_SUCCESSES).map(eventRef),
  };
}

function rangesProblem(context: AnalyzeContext): string {
  return context.actionsRangesProblem ?? "no GitHub Actions ranges were given";
}

function notes(
  observations: Observation[],
  context: AnalyzeContext,
  facts: { leakKnown: boolean; outOfScope: number; containMs: number | undefined; derivedIds: Set<string> },
): string[] {
  const notes: string[] = [];
  if (context.actionsRanges) notes.push(describeProvenance(context.actionsRanges));
  else {
    notes.push(
      `GitHub Actions ranges unavailable (${rangesProblem(context)}): addresses are marked "unknown", not "not GitHub".`,
    );
  }
  if (observations.some((o) => o.origin === "github-actions")) {
    notes.push(
      "GitHub-hosted runner addresses are shared by every GitHub user: a runner address shows GitHub Actions, not your workflow.",
    );
  }
  if (!facts.leakKnown) {
    notes.push(
      "No leak time given: every call is treated as after the leak, and the CI's usual calls are those made from runners.",
    );
  }
  if (facts.outOfScope > 0) {
    notes.push(
      `${facts.outOfScope} event${facts.outOfScope === 1 ? "" : "s"} of other principals ignored: only the keys under investigation and the credentials they minted are analysed.`,
    );
  }
  if (facts.leakKnown) {
    const before = observations.filter((o) => !o.afterLeak && o.origin === "elsewhere");
    if (before.length > 0) {
      const addresses = [...new Set(before.map((o) => o.address))].sort();
      notes.push(
        `${before.length} call${before.length === 1 ? "" : "s"} before the leak came from outside GitHub Actions (${listOf(addresses, 3)}): the key had other users, or leaked earlier than the leak time.`,
      );
    }
  }
  if (facts.derivedIds.size > 0) {
    notes.push(
      `${facts.derivedIds.size} set${facts.derivedIds.size === 1 ? "" : "s"} of temporary credentials minted by the key (${listOf([...facts.derivedIds].sort(), 3)}): deactivating the key does not end them (valid up to 36 h); the deny-older-sessions policy does (facts.md).`,
    );
  }
  if (facts.containMs !== undefined) {
    const containMs = facts.containMs;
    const early = observations.filter(
      (o) =>
        o.outcome === "succeeded" && o.timeMs >= containMs && o.timeMs < containMs + CONTAINMENT_GRACE_MS,
    );
    if (early.length > 0) {
      notes.push(
        `${early.length} call${early.length === 1 ? "" : "s"} succeeded within ${CONTAINMENT_GRACE_MS / 60_000} minutes of containment: IAM changes take minutes to apply (facts.md).`,
      );
    }
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------
// Aggregations
// ---------------------------------------------------------------------------------------------

function eventRef(o: Observation): EventRef {
  const e = o.event;
  const ref: EventRef = {
    eventId: e.eventId,
    eventTime: e.eventTime,
    eventSource: e.eventSource,
    eventName: e.eventName,
    awsRegion: e.awsRegion,
    outcome: o.outcome,
    origin: o.origin,
  };
  if (e.sourceIPAddress !== undefined) ref.sourceIPAddress = e.sourceIPAddress;
  if (e.userIdentity.accessKeyId !== undefined) ref.accessKeyId = e.userIdentity.accessKeyId;
  if (e.errorCode !== undefined) ref.errorCode = e.errorCode;
  return ref;
}

function countByOrigin(observations: Observation[]): Record<Origin, number> {
  const counts: Record<Origin, number> = {
    "github-actions": 0,
    "expected-network": 0,
    "aws-service": 0,
    elsewhere: 0,
    unknown: 0,
  };
  for (const o of observations) counts[o.origin]++;
  return counts;
}

function firstOf<K extends string>(
  observations: Observation[],
  test: (o: Observation) => boolean,
  key: K,
): Partial<Record<K, string>> {
  const found = observations.find(test);
  return found ? ({ [key]: found.event.eventTime } as Record<K, string>) : {};
}

function lastOf<K extends string>(
  observations: Observation[],
  test: (o: Observation) => boolean,
  key: K,
): Partial<Record<K, string>> {
  for (let i = observations.length - 1; i >= 0; i--) {
    const o = observations[i];
    if (o && test(o)) return { [key]: o.event.eventTime } as Record<K, string>;
  }
  return {};
}

/** [value, count] pairs, most frequent first, then by value. */
function countBy(values: readonly string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Tally {
  calls: number;
  succeeded: number;
  denied: number;
  failed: number;
  afterLeak: number;
}

function tally(list: Observation[]): Tally {
  const t: Tally = { calls: list.length, succeeded: 0, denied: 0, failed: 0, afterLeak: 0 };
  for (const o of list) {
    // A dry run did nothing: it is tallied with the calls that did not go through.
    t[o.outcome === "permitted" ? "failed" : o.outcome]++;
    if (o.afterLeak) t.afterLeak++;
  }
  return t;
}

function groupBy(observations: Observation[], key: (o: Observation) => string): Map<string, Observation[]> {
  const groups = new Map<string, Observation[]>();
  for (const o of observations) {
    const k = key(o);
    const list = groups.get(k);
    if (list) list.push(o);
    else groups.set(k, [o]);
  }
  return groups;
}

const ORIGIN_ORDER: Record<Origin, number> = {
  elsewhere: 0,
  unknown: 1,
  "aws-service": 2,
  "expected-network": 3,
  "github-actions": 4,
};

function addressFindings(
  observations: Observation[],
  classifier: ReturnType<typeof createOriginClassifier>,
): { addresses: AddressFinding[]; addressesOmitted: number } {
  const all = [...groupBy(observations, (o) => o.address).entries()].map(([address, list]) => {
    const first = list[0];
    const last = list[list.length - 1];
    const origin = first?.origin ?? "unknown";
    const finding: AddressFinding = {
      address: printable(address, 256),
      origin,
      githubActions: address === NO_ADDRESS ? false : classifier.githubActions(address),
      ...pickTally(tally(list)),
      firstSeen: first?.event.eventTime ?? "",
      lastSeen: last?.event.eventTime ?? "",
      userAgents: topUserAgents(list, MAX_USER_AGENTS_PER_ADDRESS),
      regions: [...new Set(list.map((o) => o.event.awsRegion))].sort().slice(0, MAX_REGIONS),
      accessKeyIds: [
        ...new Set(
          list.flatMap((o) => (o.event.userIdentity.accessKeyId ? [o.event.userIdentity.accessKeyId] : [])),
        ),
      ]
        .sort()
        .slice(0, MAX_KEYS),
      signals: [
        ...new Set(
          list.flatMap((o) =>
            o.hits.filter((h) => h.status === "succeeded" || h.status === "attempted").map((h) => h.rule.id),
          ),
        ),
      ].sort(),
    };
    const note =
      address === NO_ADDRESS
        ? "the events carry no source address"
        : classifier.noteFor(address, first?.event.vpcEndpointId);
    if (note) finding.note = note;
    return finding;
  });
  all.sort(
    (a, b) =>
      ORIGIN_ORDER[a.origin] - ORIGIN_ORDER[b.origin] ||
      b.signals.length - a.signals.length ||
      b.calls - a.calls ||
      compareText(a.address, b.address),
  );
  return {
    addresses: all.slice(0, MAX_ADDRESSES),
    addressesOmitted: Math.max(0, all.length - MAX_ADDRESSES),
  };
}

function pickTally(t: Tally): Tally {
  return {
    calls: t.calls,
    succeeded: t.succeeded,
    denied: t.denied,
    failed: t.failed,
    afterLeak: t.afterLeak,
  };
}

function topUserAgents(
  observations: Observation[],
  max: number,
): Array<{ userAgent: string; calls: number }> {
  return countBy(observations.flatMap((o) => (o.event.userAgent ? [o.event.userAgent] : [])))
    .slice(0, max)
    .map(([userAgent, calls]) => ({ userAgent, calls }));
}

function regionFindings(observations: Observation[]): RegionFinding[] {
  return [...groupBy(observations, (o) => o.event.awsRegion).entries()]
    .map(([region, list]) => {
      const t = tally(list);
      return {
        region,
        ...t,
        firstSeen: list[0]?.event.eventTime ?? "",
        lastSeen: list[list.length - 1]?.event.eventTime ?? "",
        newSinceLeak:
          t.afterLeak === t.calls && list.some((o) => o.afterLeak) && observations.some((o) => !o.afterLeak),
      };
    })
    .sort((a, b) => b.calls - a.calls || compareText(a.region, b.region))
    .slice(0, MAX_REGIONS);
}

function serviceFindings(observations: Observation[]): ServiceFinding[] {
  return [...groupBy(observations, (o) => o.event.eventSource).entries()]
    .map(([eventSource, list]) => {
      const { calls, succeeded, denied, failed } = tally(list);
      return { eventSource, calls, succeeded, denied, failed };
    })
    .sort((a, b) => b.calls - a.calls || compareText(a.eventSource, b.eventSource));
}

function eventNameFindings(observations: Observation[]): {
  eventNames: EventNameFinding[];
  eventNamesOmitted: number;
} {
  const all = [...groupBy(observations, (o) => `${o.event.eventSource} ${o.event.eventName}`).values()]
    .map((list) => {
      const first = list[0];
      return {
        eventSource: first?.event.eventSource ?? "",
        eventName: first?.event.eventName ?? "",
        action: first?.action ?? "",
        ...tally(list),
      };
    })
    .sort(
      (a, b) =>
        b.calls - a.calls ||
        compareText(a.eventSource, b.eventSource) ||
        compareText(a.eventName, b.eventName),
    );
  return {
    eventNames: all.slice(0, MAX_EVENT_NAMES),
    eventNamesOmitted: Math.max(0, all.length - MAX_EVENT_NAMES),
  };
}

function errorCodeFindings(observations: Observation[]): Array<{ errorCode: string; count: number }> {
  return countBy(observations.flatMap((o) => (o.event.errorCode ? [o.event.errorCode] : [])))
    .slice(0, MAX_ERROR_CODES)
    .map(([errorCode, count]) => ({ errorCode, count }));
}

const STATUS_ORDER: Record<SignalStatus, number> = {
  succeeded: 0,
  attempted: 1,
  explained: 2,
  "before-leak": 3,
};

function signalFindings(observations: Observation[]): Record<SignalCategory, SignalFinding[]> {
  const byRule = new Map<string, { rule: SignalRule; action: string; events: SignalEvent[] }>();
  for (const o of observations) {
    for (const hit of o.hits) {
      const entry = byRule.get(hit.rule.id) ?? { rule: hit.rule, action: o.action, events: [] };
      const signalEvent: SignalEvent = { ...eventRef(o), status: hit.status };
      if (hit.detail) signalEvent.detail = hit.detail;
      if (hit.explanation) signalEvent.explanation = hit.explanation;
      entry.events.push(signalEvent);
      byRule.set(hit.rule.id, entry);
    }
  }
  const result = Object.fromEntries(
    SIGNAL_CATEGORIES.map((category) => [category, [] as SignalFinding[]]),
  ) as Record<SignalCategory, SignalFinding[]>;
  for (const { rule, action, events } of byRule.values()) {
    const count = (status: SignalStatus) => events.filter((event) => event.status === status).length;
    const succeeded = count("succeeded");
    const attempted = count("attempted");
    const weight = SEVERITY_WEIGHT[rule.severity] * (succeeded + attempted * ATTEMPT_WEIGHT);
    const ordered = [...events].sort(
      (a, b) =>
        STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
        compareText(a.eventTime, b.eventTime) ||
        compareText(a.eventId, b.eventId),
    );
    const counted = ordered.filter((event) => event.status === "succeeded" || event.status === "attempted");
    result[rule.category].push({
      id: rule.id,
      category: rule.category,
      severity: rule.severity,
      does: rule.does,
      action,
      source: rule.source,
      succeeded,
      attempted,
      explained: count("explained"),
      beforeLeak: count("before-leak"),
      weight: Math.round(weight * 100) / 100,
      details: [
        ...new Set(
          (counted.length > 0 ? counted : ordered).flatMap((event) => (event.detail ? [event.detail] : [])),
        ),
      ].slice(0, MAX_DETAILS_PER_SIGNAL),
      events: ordered.slice(0, MAX_EVENTS_PER_SIGNAL),
      eventsOmitted: Math.max(0, ordered.length - MAX_EVENTS_PER_SIGNAL),
    });
  }
  for (const category of SIGNAL_CATEGORIES) {
    result[category].sort((a, b) => b.weight - a.weight || compareText(a.id, b.id));
  }
  return result;
}

function keyFindings(
  observations: Observation[],
  accessKeyIds: readonly string[] | undefined,
  derivedIds: Set<string>,
): KeyFinding[] {
  const leaked = new Set(accessKeyIds ?? []);
  const roleOf = (id: string): KeyFinding["role"] => {
    if (leaked.has(id)) return "leaked";
    if (derivedIds.has(id)) return "derived";
    return leaked.size === 0 && id.startsWith("AKIA") ? "leaked" : "other";
  };
  const ROLE_ORDER = { leaked: 0, derived: 1, other: 2 };
  return [
    ...groupBy(
      observations.filter((o) => o.event.userIdentity.accessKeyId),
      (o) => o.event.userIdentity.accessKeyId ?? "",
    ).entries(),
  ]
    .map(([accessKeyId, list]) => {
      const t = tally(list);
      return {
        accessKeyId,
        kind: accessKeyId.startsWith("ASIA") ? ("temporary" as const) : ("long-term" as const),
        role: roleOf(accessKeyId),
        calls: t.calls,
        succeeded: t.succeeded,
        denied: t.denied,
        firstSeen: list[0]?.event.eventTime ?? "",
        lastSeen: list[list.length - 1]?.event.eventTime ?? "",
        addresses: [...new Set(list.map((o) => o.address))].sort().slice(0, 20),
      };
    })
    .sort(
      (a, b) =>
        ROLE_ORDER[a.role] - ROLE_ORDER[b.role] ||
        compareText(a.firstSeen, b.firstSeen) ||
        compareText(a.accessKeyId, b.accessKeyId),
    )
    .slice(0, MAX_KEYS);
}

function derivedCredentials(observations: Observation[]): DerivedCredential[] {
  const usage = groupBy(
    observations.filter((o) => o.event.userIdentity.accessKeyId),
    (o) => o.event.userIdentity.accessKeyId ?? "",
  );
  const found: DerivedCredential[] = [];
  for (const o of observations) {
    const id = mintedKeyId(o.event);
    if (!id) continue;
    const used = usage.get(id) ?? [];
    const credential: DerivedCredential = {
      accessKeyId: id,
      via: o.event.eventName,
      mintedAt: o.event.eventTime,
      eventId: o.event.eventId,
      origin: o.origin,
      afterLeak: o.afterLeak,
      calls: used.length,
    };
    const e = o.event;
    if (e.userIdentity.accessKeyId) credential.mintedBy = e.userIdentity.accessKeyId;
    if (e.sourceIPAddress) credential.sourceIPAddress = e.sourceIPAddress;
    const roleArn = e.requestParameters?.roleArn;
    if (typeof roleArn === "string") credential.roleArn = printable(roleArn, 2048);
    const credentials = e.responseElements?.credentials;
    const expiration = isJsonObject(credentials) ? credentials.expiration : undefined;
    if (typeof expiration === "string") credential.expiration = printable(expiration, 64);
    const lastUsed = used[used.length - 1];
    if (lastUsed) credential.lastUsed = lastUsed.event.eventTime;
    found.push(credential);
  }
  return found.slice(0, MAX_KEYS);
}

function rolesAssumed(observations: Observation[]): RoleAssumption[] {
  const assumed = observations.filter(
    (o) =>
      o.outcome === "succeeded" &&
      typeof o.event.requestParameters?.roleArn === "string" &&
      /AssumeRole/.test(o.event.eventName),
  );
  return [...groupBy(assumed, (o) => printable(String(o.event.requestParameters?.roleArn), 2048)).entries()]
    .map(([roleArn, list]) => ({
      roleArn,
      sessionNames: [
        ...new Set(
          list.flatMap((o) => {
            const name = o.event.requestParameters?.roleSessionName;
            return typeof name === "string" ? [printable(name, 128)] : [];
          }),
        ),
      ]
        .sort()
        .slice(0, 20),
      times: list.length,
      firstAt: list[0]?.event.eventTime ?? "",
      lastAt: list[list.length - 1]?.event.eventTime ?? "",
      addresses: [...new Set(list.map((o) => o.address))].sort().slice(0, 20),
      derivedKeys: [...new Set(list.flatMap((o) => mintedKeyId(o.event) ?? []))].sort().slice(0, 20),
      afterLeak: list.filter((o) => o.afterLeak).length,
    }))
    .sort((a, b) => compareText(a.firstAt, b.firstAt) || compareText(a.roleArn, b.roleArn));
}

type ArtifactRule = { kind: Artifact["kind"]; name: (e: TrailEvent) => string | undefined };

const ARTIFACT_RULES: Record<string, ArtifactRule> = {
  "iam.amazonaws.com CreateUser": {
    kind: "iam-user",
    name: (e) => stringAt(e.requestParameters, "userName"),
  },
  "iam.amazonaws.com CreateAccessKey": {
    kind: "access-key",
    name: (e) => {
      const id = stringAt(e.responseElements, "accessKey", "accessKeyId");
      const user =
        stringAt(e.requestParameters, "userName") ?? stringAt(e.responseElements, "accessKey", "userName");
      return id && user ? `${id} (user ${user})` : id;
    },
  },
  "iam.amazonaws.com CreateLoginProfile": {
    kind: "login-profile",
    name: (e) => stringAt(e.requestParameters, "userName"),
  },
  "iam.amazonaws.com CreateRole": {
    kind: "iam-role",
    name: (e) => stringAt(e.requestParameters, "roleName"),
  },
  "iam.amazonaws.com CreateOpenIDConnectProvider": {
    kind: "identity-provider",
    name: (e) =>
      stringAt(e.responseElements, "openIDConnectProviderArn") ?? stringAt(e.requestParameters, "url"),
  },
  "iam.amazonaws.com CreateSAMLProvider": {
    kind: "identity-provider",
    name: (e) => stringAt(e.responseElements, "sAMLProviderArn") ?? stringAt(e.requestParameters, "name"),
  },
  "ec2.amazonaws.com RunInstances": {
    kind: "ec2-instances",
    name: (e) => idsIn(e.responseElements, ["instancesSet", "items"], "instanceId", e.awsRegion),
  },
  "ec2.amazonaws.com RequestSpotInstances": {
    kind: "spot-request",
    name: (e) =>
      idsIn(e.responseElements, ["spotInstanceRequestSet", "items"], "spotInstanceRequestId", e.awsRegion),
  },
  "ec2.amazonaws.com CreateKeyPair": {
    kind: "key-pair",
    name: (e) => withRegion(stringAt(e.requestParameters, "keyName"), e),
  },
  "ec2.amazonaws.com ImportKeyPair": {
    kind: "key-pair",
    name: (e) => withRegion(stringAt(e.requestParameters, "keyName"), e),
  },
  "lambda.amazonaws.com CreateFunction": {
    kind: "lambda-function",
    name: (e) => withRegion(stringAt(e.requestParameters, "functionName"), e),
  },
};

function stringAt(root: unknown, ...path: string[]): string | undefined {
  let value = root;
  for (const key of path) {
    if (!isJsonObject(value)) return undefined;
    value = value[key];
  }
  return typeof value === "string" && value.length > 0 ? printable(value, 256) : undefined;
}

function withRegion(name: string | undefined, e: TrailEvent): string | undefined {
  return name ? `${name} in ${e.awsRegion}` : undefined;
}

function idsIn(root: unknown, path: string[], field: string, region: string): string | undefined {
  let value = root;
  for (const key of path) value = isJsonObject(value) ? value[key] : undefined;
  if (!Array.isArray(value)) return undefined;
  const ids = value.flatMap((item) => {
    const id = stringAt(item, field);
    return id ? [id] : [];
  });
  return ids.length > 0 ? `${listOf(ids, 5)} in ${region}` : undefined;
}

function artifacts(observations: Observation[]): Artifact[] {
  const found: Artifact[] = [];
  for (const o of observations) {
    if (!o.afterLeak || o.outcome !== "succeeded" || !countsAgainst(o)) continue;
    const rule = ARTIFACT_RULES[o.call];
    const name = rule?.name(o.event);
    if (!rule || !name) continue;
    const artifact: Artifact = {
      kind: rule.kind,
      name,
      eventId: o.event.eventId,
      eventTime: o.event.eventTime,
      origin: o.origin,
    };
    if (o.event.sourceIPAddress) artifact.sourceIPAddress = o.event.sourceIPAddress;
    found.push(artifact);
  }
  return found.slice(0, MAX_ARTIFACTS);
}

function trustOf(o: Observation, leakKnown: boolean): "expected" | "foreign" | "uncertain" {
  if (leakKnown && !o.afterLeak) return "expected";
  if (o.origin === "elsewhere") return "foreign";
  if ((TRUSTED_ORIGINS.has(o.origin) || o.origin === "aws-service") && o.agentOk && !countsAgainst(o))
    return "expected";
  return "uncertain";
}

function actionUses(observations: Observation[], leakKnown: boolean): ActionUse[] {
  const succeeded = observations.filter((o) => o.outcome === "succeeded");
  return [...groupBy(succeeded, (o) => o.action).entries()]
    .map(([action, list]) => {
      const trust = list.map((o) => trustOf(o, leakKnown));
      const resources = [
        ...new Set(list.filter((_, i) => trust[i] === "expected").flatMap((o) => resourcesOf(o.event))),
      ].sort();
      return {
        action,
        eventSource: list[0]?.event.eventSource ?? "",
        calls: list.length,
        expectedCalls: trust.filter((t) => t === "expected").length,
        foreignCalls: trust.filter((t) => t === "foreign").length,
        uncertainCalls: trust.filter((t) => t === "uncertain").length,
        resources: resources.slice(0, MAX_RESOURCES_PER_ACTION),
        resourcesOmitted: Math.max(0, resources.length - MAX_RESOURCES_PER_ACTION),
        needsNoPermission: needsNoPermission(action),
        firstSeen: list[0]?.event.eventTime ?? "",
        lastSeen: list[list.length - 1]?.event.eventTime ?? "",
      };
    })
    .sort((a, b) => compareText(a.action, b.action))
    .slice(0, MAX_ACTIONS);
}
