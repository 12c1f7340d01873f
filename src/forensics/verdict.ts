/**
 * The verdict, its reasons and the headline, from what the analysis observed after the leak.
 *
 * compromised  - damage (credential access, exfiltration, persistence, privilege escalation, impact,
 *                defense evasion) succeeded from outside GitHub Actions; or recon beyond a key check,
 *                or a write call (`readOnly: false`) no rule names, succeeded from outside (unless the
 *                address used the key before the leak and did the same then); or damage
 *                the key never did before the leak succeeded from a runner or from an address that
 *                could not be checked; or calls from outside still succeeded after containment.
 *                Calls an AWS service made for the key count as made by the caller that started them.
 * suspicious   - anything else a person must look at: denied attempts at sensitive actions, a key
 *                check or other calls from outside, denied bursts (enumeration), signals from runners
 *                that the key never raised before the leak, unfamiliar user agents on runners,
 *                addresses that could not be checked, successes after containment from runners.
 * expected-use-only - calls after the leak, all from runners (or declared networks, or AWS services
 *                acting for the key), and none of the above.
 * no-use-since-leak - no call at or after the leak.
 *
 * GitHub-hosted runners are shared by every GitHub user, so a runner address is evidence of GitHub
 * Actions, not of your workflow: that is why a runner address never clears a signal by itself.
 */
import type { CallOutcome, DeniedBurst, Origin, Verdict } from "./findings.js";
import { ATTEMPT_WEIGHT, SEVERITY_WEIGHT, SIGNAL_CATEGORIES, type SignalRule } from "./signals.js";

export type Level = "compromised" | "suspicious";

/** A signal raised after the leak that was not explained by expected use. */
export interface CountedHit {
  rule: SignalRule;
  action: string;
  status: "succeeded" | "attempted";
  origin: Origin;
  address: string;
  eventTime: string;
  outcome: CallOutcome;
  detail?: string;
  /** The key made this call successfully before the leak (or, without a leak time, from runners). */
  baseline: boolean;
  /** The call's user agent is one the CI uses (always true when none were declared). */
  agentOk: boolean;
  /** Set when the call was made with temporary credentials the key minted, not the key itself. */
  derivedKey?: string;
  /** Set when the call was made with an access key the key created (a backdoor), not the key itself. */
  createdKey?: string;
  /** The address made successful calls with the key before the leak (a self-hosted runner, an office). */
  knownAddress: boolean;
}

export interface VerdictInput {
  leakedAt?: string;
  afterLeakCalls: number;
  lastUse?: string;
  /** Distinct addresses of runners and declared networks that called after the leak. */
  runnerAddresses: number;
  byOrigin: Record<Origin, number>;
  hits: CountedHit[];
  /** Rule ids raised after the leak but explained by expected use. */
  explainedRules: string[];
  /** Addresses outside GitHub Actions that called after the leak, beyond their signals and bursts. */
  foreignUse: Array<{
    address: string;
    calls: number;
    succeeded: number;
    actions: string[];
    /** Successful calls the record marks `readOnly: false`: something was changed. */
    writes: number;
    knownAddress: boolean;
  }>;
  /** Calls after the leak whose address could not be checked. */
  unknownUse: { calls: number; addresses: string[]; reason?: string };
  /** Denied bursts that count (after the leak; after containment only from outside). */
  bursts: DeniedBurst[];
  unfamiliarAgents: Array<{ userAgent: string; calls: number }>;
  /** Successes later than the containment grace period. */
  lateSuccesses: Array<{ address: string; origin: Origin; eventName: string; eventTime: string }>;
  graceMinutes: number;
  /** Regions whose history could not be read: what happened there is unknown, never "no use". */
  unreadRegions?: readonly string[];
  /** The snapshot was given up before it finished (why): the verdict is on partial evidence, and says so. */
  partialReason?: string;
}

export interface Judgement {
  verdict: Verdict;
  headline: string;
  reasons: string[];
}

interface Concern {
  level: Level;
  /** Sort key: category order for signals, then the rest. */
  rank: number;
  weight: number;
  firstAt: string;
  text: string;
  /** The same, short enough for a headline. */
  short: string;
  /** For signal concerns: the addresses and what they did, for the headline. */
  addresses?: string[];
  does?: string;
}

const DAMAGE = new Set([
  "credential-access",
  "exfiltration",
  "persistence",
  "privilege-escalation",
  "impact",
  "defense-evasion",
]);
const MAX_LISTED = 3;
/** Reasons beyond this are summed up in one line: the findings hold the detail. */
export const MAX_REASONS = 25;

/** How serious one counted hit is, by what it did and where it came from. */
export function levelOf(hit: CountedHit, leakTimeKnown: boolean): Level {
  if (hit.status === "attempted") return "suspicious";
  const damage = DAMAGE.has(hit.rule.category);
  switch (hit.origin) {
    case "elsewhere":
      // The owner's own machine doing what it did before the leak: look, but it is not an intruder.
      if (hit.baseline && hit.knownAddress) return "suspicious";
      if (damage) return "compromised";
      return hit.rule.keyCheck ? "suspicious" : "compromised";
    case "unknown":
      return damage && leakTimeKnown && !hit.baseline ? "compromised" : "suspicious";
    case "github-actions":
      // Runner addresses are shared by every GitHub user: damage the key never did before the leak
      // is someone's workflow, not necessarily yours (issue 11).
      return damage && leakTimeKnown && !hit.baseline ? "compromised" : "suspicious";
    default:
      return "suspicious";
  }
}

export function judge(input: VerdictInput): Judgement {
  const judgement = judgeHistory(input);
  if (input.partialReason === undefined) return judgement;
  return { ...judgement, headline: `Based on PARTIAL evidence: ${judgement.headline}` };
}

function judgeHistory(input: VerdictInput): Judgement {
  const leakTimeKnown = input.leakedAt !== undefined;
  const unread = unreadConcerns(input.unreadRegions ?? [], input.partialReason);
  if (input.afterLeakCalls === 0 && unread.length === 0) return noUse(input);

  const concerns: Concern[] = [
    ...signalConcerns(input.hits, leakTimeKnown),
    ...burstConcerns(input.bursts),
    ...foreignUseConcerns(input.foreignUse),
    ...unknownUseConcerns(input.unknownUse),
    ...agentConcerns(input.unfamiliarAgents),
    ...lateSuccessConcerns(input.lateSuccesses, input.graceMinutes),
    ...unread,
  ].sort(compareConcerns);

  const reasons = concerns.slice(0, MAX_REASONS).map((concern) => concern.text);
  if (concerns.length > MAX_REASONS) {
    reasons.push(
      `… and ${concerns.length - MAX_REASONS} more concerns of the same kinds (see the signals and addresses).`,
    );
  }
  const compromised = concerns.filter((concern) => concern.level === "compromised");
  if (compromised.length > 0) {
    return { verdict: "compromised", headline: compromisedHeadline(compromised), reasons };
  }
  const first = concerns[0];
  if (first) {
    const more =
      concerns.length > 1 ? ` (and ${concerns.length - 1} more concern${plural(concerns.length - 1)})` : "";
    return {
      verdict: "suspicious",
      headline: `Suspicious: ${first.short}${more}.`,
      reasons,
    };
  }
  return expectedOnly(input);
}

function noUse(input: VerdictInput): Judgement {
  if (input.lastUse === undefined) {
    return {
      verdict: "no-use-since-leak",
      headline: "No calls at all in this history: the key was not used.",
      reasons: ["The history holds no call made with the key."],
    };
  }
  return {
    verdict: "no-use-since-leak",
    headline: `Not used since the leak: the last call was at ${input.lastUse}, before the leak at ${input.leakedAt ?? "?"}.`,
    reasons: [`No call at or after ${input.leakedAt ?? "the leak"}; the last call was at ${input.lastUse}.`],
  };
}

function expectedOnly(input: VerdictInput): Judgement {
  const declared = input.byOrigin["expected-network"] > 0;
  const where = declared ? "GitHub Actions runners or declared networks" : "GitHub Actions runners";
  const reasons = [
    `All ${input.afterLeakCalls} call${plural(input.afterLeakCalls)} after the leak came from ${where} (${input.runnerAddresses} address${input.runnerAddresses === 1 ? "" : "es"})${input.byOrigin["aws-service"] > 0 ? " or AWS services acting for the key" : ""}.`,
  ];
  if (input.explainedRules.length > 0) {
    reasons.push(
      `Calls that would otherwise be signals are what the CI does: ${listOf(input.explainedRules, 6)}.`,
    );
  }
  return {
    verdict: "expected-use-only",
    headline: `Only GitHub Actions used the key after the leak: ${input.afterLeakCalls} call${plural(input.afterLeakCalls)} from runners, nothing unusual.`,
    reasons,
  };
}

function signalConcerns(hits: CountedHit[], leakTimeKnown: boolean): Concern[] {
  interface Group {
    level: Level;
    hits: CountedHit[];
  }
  const groups = new Map<string, Group>();
  for (const hit of hits) {
    // The CI's usual calls from an address that could not be checked are told by the unknown-use
    // concern; a concern each would repeat it.
    if (hit.origin === "unknown" && (hit.baseline || hit.rule.keyCheck)) continue;
    const level = levelOf(hit, leakTimeKnown);
    const key = `${level}|${hit.rule.id}|${hit.status}|${hit.outcome === "permitted"}|${originClass(hit)}|${hit.derivedKey ?? ""}|${hit.createdKey ?? ""}`;
    const group = groups.get(key) ?? { level, hits: [] };
    group.hits.push(hit);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ level, hits: groupHits }) => {
    const [first] = groupHits;
    if (!first) throw new Error("unreachable: a group has at least one hit");
    const rule = first.rule;
    const addresses = unique(groupHits.map((hit) => hit.address));
    const details = unique(groupHits.flatMap((hit) => (hit.detail ? [hit.detail] : [])));
    const times = groupHits.length > 1 ? `, ${groupHits.length}×` : "";
    const detailText = details.length > 0 ? `: ${listOf(details, MAX_LISTED)}` : "";
    const who = `${listOf(addresses, MAX_LISTED)}${qualifier(first)}`;
    const allDenied = groupHits.every((hit) => hit.outcome === "denied");
    const credentials = first.derivedKey
      ? `temporary credentials ${first.derivedKey} minted by the key`
      : first.createdKey
        ? `access key ${first.createdKey}, which the key created`
        : "the key";
    const refusal =
      first.outcome === "permitted"
        ? "a dry run proved it is permitted"
        : allDenied
          ? "was denied"
          : "the call failed";
    const text =
      first.status === "succeeded"
        ? `${who} used ${credentials} to ${rule.does} (${first.action}${times})${detailText}.`
        : `${who} tried to ${rule.does} (${first.action}${times}) with ${credentials} and ${refusal}${detailText}.`;
    const short =
      first.status === "succeeded"
        ? `${listOf(addresses, 2)}${qualifier(first)} used ${first.derivedKey ? "credentials minted by the key" : "the key"} to ${rule.does}`
        : `${listOf(addresses, 2)}${qualifier(first)} tried to ${rule.does} and ${first.outcome === "permitted" ? "a dry run proved it is permitted" : allDenied ? "was denied" : "failed"}`;
    const weightFactor = first.status === "succeeded" ? 1 : ATTEMPT_WEIGHT;
    return {
      level,
      rank: SIGNAL_CATEGORIES.indexOf(rule.category),
      weight: SEVERITY_WEIGHT[rule.severity] * weightFactor * groupHits.length,
      firstAt: groupHits.map((hit) => hit.eventTime).sort()[0] ?? "",
      text: capitalise(text),
      short,
      addresses,
      does: rule.does,
    };
  });
}

function originClass(hit: CountedHit): string {
  if (hit.origin === "github-actions" || hit.origin === "expected-network") {
    return `${hit.origin}:${hit.baseline ? "baseline" : "new"}:${hit.agentOk ? "agent" : "unfamiliar"}`;
  }
  return `${hit.origin}:${hit.knownAddress ? "known" : "new"}`;
}

function qualifier(hit: CountedHit): string {
  const novelty = !hit.baseline ? "the key never did this before the leak" : "with an unfamiliar user agent";
  switch (hit.origin) {
    case "elsewhere":
      return hit.knownAddress
        ? " (not GitHub Actions; it used the key before the leak too)"
        : " (not GitHub Actions)";
    case "unknown":
      return " (not checked against the GitHub Actions ranges)";
    case "github-actions":
      return ` (a GitHub Actions runner; ${novelty})`;
    case "expected-network":
      return ` (a declared network; ${novelty})`;
    case "aws-service":
      return " (an AWS service acting for the key; the key never did this before the leak)";
  }
}

const OTHER_RANK = SIGNAL_CATEGORIES.length;

/** A burst says more than the recon calls inside it: it ranks just above recon. */
const BURST_RANK = SIGNAL_CATEGORIES.indexOf("recon") - 0.5;

function burstConcerns(bursts: DeniedBurst[]): Concern[] {
  return bursts.map((burst) => ({
    level: "suspicious",
    rank: BURST_RANK,
    weight: burst.deniedCalls,
    firstAt: burst.start,
    text: `${burst.deniedCalls} denied calls in ${burst.durationSeconds} s from ${burst.address}${burst.origin === "elsewhere" ? " (not GitHub Actions)" : ""} starting ${burst.start}: someone enumerating what the key may do (${burst.distinctActions} different actions, e.g. ${burst.actions.slice(0, MAX_LISTED).join(", ")}).`,
    short: `${burst.deniedCalls} denied calls in ${burst.durationSeconds} s from ${burst.address}: someone enumerating what the key may do`,
  }));
}

function foreignUseConcerns(foreign: VerdictInput["foreignUse"]): Concern[] {
  return foreign.map((use) => ({
    // A change nobody's rule names is still a change made from outside (CloudTrail `readOnly`).
    level: use.writes > 0 && !use.knownAddress ? "compromised" : "suspicious",
    rank: OTHER_RANK + 1,
    weight: use.calls,
    firstAt: "",
    text: `${use.address} (not GitHub Actions${use.knownAddress ? "; it used the key before the leak too" : ""}) made ${use.calls} other call${plural(use.calls)} after the leak, ${use.succeeded} successful${use.writes > 0 ? `, ${use.writes} of them changes` : ""}: ${listOf(use.actions, MAX_LISTED)}.`,
    short: `${use.address} (not GitHub Actions) used the key after the leak`,
  }));
}

/**
 * An incomplete snapshot cannot clear the key: "no use" or "expected use only" would be said of a
 * history nobody read. It is at least suspicious, and says where to look.
 */
function unreadConcerns(regions: readonly string[], partialReason: string | undefined): Concern[] {
  if (partialReason !== undefined) {
    const where =
      regions.length > 0
        ? `in ${regions.length} region${plural(regions.length)} (${listOf([...regions], 6)})`
        : "in every region";
    return [
      {
        level: "suspicious",
        rank: OTHER_RANK + 4,
        weight: Math.max(regions.length, 1),
        firstAt: "",
        text: `The snapshot was given up before it finished (${partialReason}): the CloudTrail history was not read ${where}, so whatever the key did there is unknown and this verdict rests on partial evidence. Look there by hand.`,
        short: `the history was not read ${regions.length > 0 ? `in ${regions.length} region${plural(regions.length)}` : "everywhere"} (the snapshot was given up)`,
      },
    ];
  }
  if (regions.length === 0) return [];
  return [
    {
      level: "suspicious",
      rank: OTHER_RANK + 4,
      weight: regions.length,
      firstAt: "",
      text: `The CloudTrail history could not be read in ${regions.length} region${plural(regions.length)} (${listOf([...regions], 6)}): whatever the key did there is unknown. Look there by hand.`,
      short: `the history could not be read in ${regions.length} region${plural(regions.length)}`,
    },
  ];
}

function unknownUseConcerns(unknown: VerdictInput["unknownUse"]): Concern[] {
  if (unknown.calls === 0) return [];
  const why = unknown.reason ? ` (${unknown.reason})` : "";
  const from = unknown.addresses.length > 0 ? ` from ${listOf(unknown.addresses, MAX_LISTED)}` : "";
  return [
    {
      level: "suspicious",
      rank: OTHER_RANK + 2,
      weight: unknown.calls,
      firstAt: "",
      text: `${unknown.calls} call${plural(unknown.calls)} after the leak${from} could not be checked against the GitHub Actions ranges${why}.`,
      short: `${unknown.calls} call${plural(unknown.calls)} after the leak could not be checked against the GitHub Actions ranges`,
    },
  ];
}

function agentConcerns(agents: VerdictInput["unfamiliarAgents"]): Concern[] {
  if (agents.length === 0) return [];
  const calls = agents.reduce((sum, agent) => sum + agent.calls, 0);
  return [
    {
      level: "suspicious",
      rank: OTHER_RANK + 3,
      weight: calls,
      firstAt: "",
      text: `${calls} call${plural(calls)} from GitHub Actions runners after the leak carried a user agent the CI does not use: ${listOf(
        agents.map((agent) => agent.userAgent),
        MAX_LISTED,
      )}.`,
      short: `${calls} call${plural(calls)} from GitHub Actions runners carried a user agent the CI does not use`,
    },
  ];
}

function lateSuccessConcerns(late: VerdictInput["lateSuccesses"], graceMinutes: number): Concern[] {
  if (late.length === 0) return [];
  const outside = late.filter((call) => call.origin === "elsewhere");
  const addresses = unique(late.map((call) => call.address));
  const first = late.map((call) => call.eventTime).sort()[0] ?? "";
  return [
    {
      level: outside.length > 0 ? "compromised" : "suspicious",
      rank: -1,
      weight: late.length * 10,
      firstAt: first,
      text: `${late.length} call${plural(late.length)} still succeeded more than ${graceMinutes} minutes after containment, from ${listOf(addresses, MAX_LISTED)} (${listOf(unique(late.map((call) => call.eventName)), MAX_LISTED)}): containment did not hold; check the key's status and the deny-older-sessions policy.`,
      short: `calls still succeeded more than ${graceMinutes} minutes after containment, from ${listOf(addresses, 2)}`,
    },
  ];
}

function compareConcerns(a: Concern, b: Concern): number {
  if (a.level !== b.level) return a.level === "compromised" ? -1 : 1;
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.weight !== b.weight) return b.weight - a.weight;
  if (a.firstAt !== b.firstAt) return a.firstAt < b.firstAt ? -1 : 1;
  return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
}

function compromisedHeadline(concerns: Concern[]): string {
  const signals = concerns.filter((concern) => concern.does !== undefined);
  if (signals.length === 0) return `Compromised: ${concerns[0]?.short ?? "see the reasons"}.`;
  const addresses = unique(signals.flatMap((concern) => concern.addresses ?? []));
  // One phrase per category first (the worst of each), so the headline shows the breadth of it.
  const firstOfCategory = signals.filter(
    (concern, index) => signals.findIndex((other) => other.rank === concern.rank) === index,
  );
  const phrases = unique(
    [...firstOfCategory, ...signals].flatMap((concern) => (concern.does ? [concern.does] : [])),
  );
  const shown = phrases.slice(0, MAX_LISTED);
  const rest = phrases.length - shown.length;
  return `Compromised: ${listOf(addresses, 2)} used the key after the leak to ${listOf(shown, MAX_LISTED)}${rest > 0 ? ` (and ${rest} more, below)` : ""}.`;
}

// ---------------------------------------------------------------------------------------------

export function listOf(items: readonly string[], max: number): string {
  if (items.length === 0) return "";
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(", ")} and ${rest} other${rest === 1 ? "" : "s"}`;
  if (shown.length === 1) return shown[0] ?? "";
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function plural(count: number): string {
  return count === 1 ? "" : "s";
}

function capitalise(text: string): string {
  return text.length > 0 && /[a-z]/.test(text.charAt(0))
    ? text.charAt(0).toUpperCase() + text.slice(1)
    : text;
}
