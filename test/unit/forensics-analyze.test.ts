import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/domain/errors.js";
import { createActionsRanges } from "../../src/forensics/actions-ranges.js";
import { type AnalyzeContext, analyzeTrail } from "../../src/forensics/analyze.js";
import { DENIED_BURST_MIN_CALLS, DENIED_BURST_WINDOW_MS } from "../../src/forensics/denied-bursts.js";
import type { Findings, SignalFinding } from "../../src/forensics/findings.js";
import { parseTrailEvents } from "../../src/forensics/parse-trail.js";
import type { SignalCategory } from "../../src/forensics/signals.js";
import { MAX_REASONS } from "../../src/forensics/verdict.js";
import { asJsonLines, asLogFile, asLookupEventsJson } from "../fixtures/trails/formats.js";
import type { CloudTrailRecord } from "../fixtures/trails/records.js";
import {
  attackerStory,
  CI_CLI_AGENT,
  CONFIGURE_CREDENTIALS_AGENT,
  ciOnlyStory,
  deniedBurstStory,
  quietStory,
  type TrailStory,
} from "../fixtures/trails/stories.js";

function contextFor(story: TrailStory, extra: Partial<AnalyzeContext> = {}): AnalyzeContext {
  return {
    leakedAt: story.leakedAt,
    containedAt: story.containedAt,
    accessKeyIds: [story.cast.accessKeyId],
    actionsRanges: createActionsRanges(story.cast.runnerCidrs),
    ...extra,
  };
}

function analyzeStory(story: TrailStory, extra: Partial<AnalyzeContext> = {}): Findings {
  return analyzeTrail(parseTrailEvents(asLogFile(story.records)), contextFor(story, extra));
}

function signal(findings: Findings, category: SignalCategory, id: string): SignalFinding | undefined {
  return findings.signals[category].find((finding) => finding.id === id);
}

/** A copy of a record at another time and address, as another call. */
function copyRecord(
  record: CloudTrailRecord | undefined,
  changes: Partial<CloudTrailRecord>,
): CloudTrailRecord {
  if (!record) throw new Error("no record to copy");
  return { ...record, eventID: randomUUID(), ...changes };
}

describe("analyzeTrail on the attacker story: compromised, every step flagged in its category", () => {
  const story = attackerStory();
  const findings = analyzeStory(story);
  const [attacker, attacker6] = story.cast.attackerIps;

  it("says compromised, and the headline names the address and what it did", () => {
    expect(findings.verdict).toBe("compromised");
    expect(findings.headline).toMatch(/^Compromised: 203\.0\.113\.45/);
    expect(findings.headline).toMatch(/create an access key/);
    expect(findings.headline).toMatch(/launch EC2 instances/);
    expect(findings.reasons[0]).toMatch(
      /203\.0\.113\.45 \(not GitHub Actions\) used the key to create an access key/,
    );
  });

  it("flags the persistence: the user created and the key it was given", () => {
    const createUser = signal(findings, "persistence", "iam:CreateUser");
    expect(createUser).toMatchObject({ succeeded: 1, attempted: 0, details: ["user svc-backup"] });
    expect(createUser?.events[0]).toMatchObject({
      eventId: story.steps.persistence?.[0],
      sourceIPAddress: attacker,
      status: "succeeded",
    });
    const createKey = signal(findings, "persistence", "iam:CreateAccessKey");
    expect(createKey?.succeeded).toBe(1);
    expect(createKey?.details[0]).toContain(story.created.accessKeyId);
    expect(findings.artifacts.map((artifact) => [artifact.kind, artifact.name])).toEqual(
      expect.arrayContaining([
        ["iam-user", "svc-backup"],
        ["access-key", `${story.created.accessKeyId} (user svc-backup)`],
      ]),
    );
  });

  it("reports the denied escalation as an attempt, not a success", () => {
    const attach = signal(findings, "privilege-escalation", "iam:AttachUserPolicy");
    expect(attach).toMatchObject({ succeeded: 0, attempted: 1 });
    expect(attach?.details[0]).toMatch(/AdministratorAccess to svc-backup/);
    expect(
      findings.reasons.some((reason) => /tried to attach a policy to a user .* was denied/.test(reason)),
    ).toBe(true);
  });

  it("flags the instances launched in a region the key never used", () => {
    const run = signal(findings, "impact", "ec2:RunInstances");
    expect(run).toMatchObject({ succeeded: 1, details: ["10 × c5.24xlarge in sa-east-1"] });
    expect(findings.regions.find((region) => region.region === "sa-east-1")?.newSinceLeak).toBe(true);
    expect(findings.regions.find((region) => region.region === "eu-west-1")?.newSinceLeak).toBe(false);
    const instances = findings.artifacts.find((artifact) => artifact.kind === "ec2-instances");
    expect(instances?.name).toContain(story.created.instanceIds?.[0]);
  });

  it("flags the recon from outside, and the key check from outside but not the CI's", () => {
    for (const id of [
      "s3:ListBuckets",
      "iam:ListUsers",
      "ec2:DescribeRegions",
      "iam:ListRoles",
      "ec2:DescribeInstances",
    ]) {
      expect(signal(findings, "recon", id)?.succeeded, id).toBeGreaterThan(0);
    }
    expect(signal(findings, "recon", "iam:GetAccountAuthorizationDetails")).toMatchObject({
      succeeded: 0,
      attempted: 1,
    });
    const keyCheck = signal(findings, "recon", "sts:GetCallerIdentity");
    expect(keyCheck).toMatchObject({ succeeded: 1, explained: 3 });
    const explained = keyCheck?.events.filter((event) => event.status === "explained") ?? [];
    expect(explained.every((event) => story.cast.runnerIps.includes(event.sourceIPAddress ?? ""))).toBe(true);
  });

  it("follows the GetSessionToken pivot to the derived ASIA key and its use from another address", () => {
    expect(signal(findings, "persistence", "sts:GetSessionToken")).toMatchObject({ succeeded: 1 });
    expect(findings.derivedCredentials).toEqual([
      expect.objectContaining({
        accessKeyId: story.derivedKeyIds[0],
        via: "GetSessionToken",
        mintedBy: story.cast.accessKeyId,
        sourceIPAddress: attacker,
        afterLeak: true,
        calls: 3,
      }),
    ]);
    expect(findings.keys.map((key) => [key.accessKeyId, key.role, key.kind])).toEqual([
      [story.cast.accessKeyId, "leaked", "long-term"],
      [story.derivedKeyIds[0], "derived", "temporary"],
    ]);
    expect(
      findings.reasons.some((r) =>
        r.includes(`temporary credentials ${story.derivedKeyIds[0]} minted by the key`),
      ),
    ).toBe(true);
    expect(findings.notes.some((note) => note.includes("deny-older-sessions"))).toBe(true);
  });

  it("tells the runner addresses from the attacker's, IPv4 and IPv6", () => {
    const byAddress = new Map(findings.addresses.map((address) => [address.address, address]));
    expect(byAddress.get(attacker ?? "")).toMatchObject({
      githubActions: false,
      origin: "elsewhere",
      afterLeak: 11,
    });
    expect(byAddress.get(attacker6 ?? "")).toMatchObject({ githubActions: false, origin: "elsewhere" });
    for (const runner of story.cast.runnerIps) {
      expect(byAddress.get(runner), runner).toMatchObject({
        githubActions: true,
        origin: "github-actions",
        signals: [],
      });
    }
    expect(findings.addresses[0]?.address).toBe(attacker);
    expect(byAddress.get(attacker ?? "")?.signals).toEqual(
      expect.arrayContaining(["iam:CreateUser", "ec2:RunInstances"]),
    );
  });

  it("does not count the CI's usual deploys after the leak against the key", () => {
    const update = signal(findings, "persistence", "lambda:UpdateFunctionCode");
    expect(update).toMatchObject({ succeeded: 0, attempted: 0, explained: 2, beforeLeak: 6 });
    expect(findings.reasons.some((reason) => reason.includes("UpdateFunctionCode"))).toBe(false);
  });

  it("sees the denied calls after containment and no success after it", () => {
    expect(findings.afterContainment).toMatchObject({ succeeded: 0, denied: 2, succeededAfterGrace: 0 });
  });

  it("lists what the CI did, with its resources, apart from what the attacker did (for the least-privilege plan)", () => {
    const byAction = new Map(findings.actions.map((action) => [action.action, action]));
    expect(byAction.get("lambda:UpdateFunctionCode")).toMatchObject({
      expectedCalls: 8,
      foreignCalls: 0,
      resources: [`arn:aws:lambda:eu-west-1:${story.cast.accountId}:function:payments-api`],
    });
    expect(byAction.get("cloudformation:DescribeStacks")?.resources).toEqual([
      `arn:aws:cloudformation:eu-west-1:${story.cast.accountId}:stack/payments-api/*`,
    ]);
    expect(byAction.get("iam:CreateUser")).toMatchObject({
      expectedCalls: 0,
      foreignCalls: 1,
      resources: [],
    });
    expect(byAction.get("ec2:RunInstances")).toMatchObject({ expectedCalls: 0, foreignCalls: 1 });
    expect(byAction.get("sts:GetCallerIdentity")?.needsNoPermission).toBe(true);
    expect(byAction.has("iam:AttachUserPolicy")).toBe(false);
  });

  it("counts calls, first and last use, and use after the leak by origin", () => {
    expect(findings.totals).toMatchObject({ events: story.records.length, denied: 5, outOfScope: 0 });
    expect(findings.firstUse).toBe(new Date(story.records[0]?.eventTime ?? "").toISOString());
    expect(findings.afterLeak.byOrigin.elsewhere).toBe(14);
    expect(findings.afterLeak.byOrigin["github-actions"]).toBe(7);
    expect(findings.afterLeak.firstAt).toBe("2026-11-02T09:03:10.000Z");
  });

  it("gives the same findings from a log file, LookupEvents pages and JSON lines", () => {
    const context = contextFor(story);
    const fromLookup = analyzeTrail(
      parseTrailEvents(asLookupEventsJson(story.records, { pages: "array", pageSize: 9 })),
      context,
    );
    const fromLines = analyzeTrail(parseTrailEvents(asJsonLines(story.records)), context);
    expect(fromLookup).toEqual(findings);
    expect(fromLines).toEqual(findings);
  });

  it("is deterministic and JSON-serialisable: shuffled input, same JSON", () => {
    const events = parseTrailEvents(asLogFile(story.records));
    const shuffled = [...events].reverse();
    const again = analyzeTrail(shuffled, contextFor(story));
    expect(JSON.stringify(again)).toBe(JSON.stringify(findings));
    expect(JSON.parse(JSON.stringify(findings))).toEqual(findings);
  });
});

describe("analyzeTrail: damage from outside is enough, recon or not", () => {
  it("is compromised by a single CreateUser from outside GitHub Actions", () => {
    const story = attackerStory();
    const keep = new Set([
      ...(story.steps["ci-before-leak"] ?? []),
      ...(story.steps.persistence ?? []).slice(0, 1),
    ]);
    const findings = analyzeStory({ ...story, records: story.records.filter((r) => keep.has(r.eventID)) });
    expect(findings.verdict).toBe("compromised");
    expect(findings.headline).toBe(
      "Compromised: 203.0.113.45 used the key after the leak to create an IAM user.",
    );
  });

  it("is compromised by a trail stopped from outside, and says so first", () => {
    const story = ciOnlyStory();
    const template = story.records.find((r) => r.eventName === "DescribeStacks");
    const stop = copyRecord(template, {
      eventTime: new Date(Date.parse(story.leakedAt) + 60_000).toISOString(),
      eventSource: "cloudtrail.amazonaws.com",
      eventName: "StopLogging",
      sourceIPAddress: "203.0.113.8",
      requestParameters: { name: "org-trail" },
    });
    const findings = analyzeStory({ ...story, records: [...story.records, stop] });
    expect(findings.verdict).toBe("compromised");
    expect(findings.signals["defense-evasion"][0]).toMatchObject({
      id: "cloudtrail:StopLogging",
      succeeded: 1,
      details: ["org-trail"],
    });
    expect(findings.reasons[0]).toBe(
      "203.0.113.8 (not GitHub Actions) used the key to stop a CloudTrail trail (cloudtrail:StopLogging): org-trail.",
    );
  });
});

describe("analyzeTrail: the other verdicts", () => {
  it("says expected-use-only when every call after the leak came from runners and did the usual", () => {
    const story = ciOnlyStory();
    const findings = analyzeStory(story);
    expect(findings.verdict).toBe("expected-use-only");
    expect(findings.headline).toBe(
      "Only GitHub Actions used the key after the leak: 7 calls from runners, nothing unusual.",
    );
    expect(findings.reasons[0]).toMatch(
      /All 7 calls after the leak came from GitHub Actions runners \(3 addresses\)/,
    );
    const counted = Object.values(findings.signals)
      .flat()
      .reduce((sum, finding) => sum + finding.succeeded + finding.attempted, 0);
    expect(counted).toBe(0);
    expect(findings.addresses.every((address) => address.githubActions === true)).toBe(true);
  });

  it("still says expected-use-only when the CI's user agents are declared and match", () => {
    const story = ciOnlyStory();
    const findings = analyzeStory(story, {
      expected: { userAgents: [CONFIGURE_CREDENTIALS_AGENT, CI_CLI_AGENT.slice(0, 14)] },
    });
    expect(findings.verdict).toBe("expected-use-only");
  });

  it("says suspicious when runner calls carry a user agent the CI does not use", () => {
    const story = ciOnlyStory();
    const findings = analyzeStory(story, { expected: { userAgents: ["terraform/"] } });
    expect(findings.verdict).toBe("suspicious");
    expect(findings.reasons.join("\n")).toMatch(/carried a user agent the CI does not use/);
  });

  it("says no-use-since-leak when the last call came before the leak, and says when it was", () => {
    const story = quietStory();
    const findings = analyzeStory(story);
    expect(findings.verdict).toBe("no-use-since-leak");
    expect(findings.headline).toBe(
      `Not used since the leak: the last call was at ${findings.lastUse}, before the leak at 2026-11-02T09:00:00.000Z.`,
    );
    expect(findings.afterLeak.calls).toBe(0);
  });

  it("says no-use-since-leak for an empty history", () => {
    const findings = analyzeTrail([], { leakedAt: "2026-11-02T09:00:00Z" });
    expect(findings.verdict).toBe("no-use-since-leak");
    expect(findings.headline).toMatch(/No calls at all/);
  });

  it("never clears a key over a history it could not read: regions left unread make it suspicious", () => {
    const empty = analyzeTrail([], {
      leakedAt: "2026-11-02T09:00:00Z",
      unreadRegions: ["eu-west-1", "us-east-1"],
    });
    expect(empty.verdict).toBe("suspicious");
    expect(empty.headline).toMatch(/could not be read in 2 regions/);
    expect(empty.reasons.join("\n")).toMatch(/eu-west-1 and us-east-1/);
    const quiet = analyzeStory(quietStory(), { unreadRegions: ["sa-east-1"] });
    expect(quiet.verdict).toBe("suspicious");
    const ci = analyzeStory(ciOnlyStory(), { unreadRegions: ["sa-east-1"] });
    expect(ci.verdict).toBe("suspicious");
  });

  it(`flags ${DENIED_BURST_MIN_CALLS}+ denied calls within ${DENIED_BURST_WINDOW_MS / 1000} s from one address as enumeration`, () => {
    const story = deniedBurstStory();
    const findings = analyzeStory(story);
    expect(findings.verdict).toBe("suspicious");
    expect(findings.deniedBursts).toEqual([
      expect.objectContaining({
        address: "192.0.2.200",
        origin: "elsewhere",
        deniedCalls: 24,
        distinctActions: 12,
        durationSeconds: 46,
        afterLeak: true,
      }),
    ]);
    expect(findings.headline).toMatch(
      /^Suspicious: 24 denied calls in 46 s from 192\.0\.2\.200: someone enumerating/,
    );
    // The denied recon inside the burst is told once, by the burst.
    expect(findings.reasons).toHaveLength(2);
    expect(findings.reasons[1]).toMatch(/check whose key it is/);
  });

  it("does not call 9 denied calls a burst, nor 10 spread over more than a minute", () => {
    const story = deniedBurstStory();
    const burst = new Set(story.steps.burst);
    const keep = (records: CloudTrailRecord[]) => analyzeStory({ ...story, records });
    const position = (id: string) => story.steps.burst?.indexOf(id) ?? 99;
    const nine = keep(story.records.filter((r) => !burst.has(r.eventID) || position(r.eventID) < 9));
    expect(nine.deniedBursts).toEqual([]);
    let i = 0;
    const spread = story.records
      .filter((r) => !burst.has(r.eventID) || position(r.eventID) < 10)
      .map((r) =>
        burst.has(r.eventID)
          ? { ...r, eventTime: new Date(Date.parse(story.leakedAt) + 300_000 + i++ * 7_000).toISOString() }
          : r,
      );
    expect(keep(spread).deniedBursts).toEqual([]);
  });
});

describe("analyzeTrail: what it cannot know, it says", () => {
  it("marks every address unknown (never 'not GitHub') without the runner ranges, and says why", () => {
    const story = ciOnlyStory();
    const findings = analyzeStory(story, {
      actionsRanges: undefined,
      actionsRangesProblem: "api.github.com unreachable",
    });
    expect(findings.verdict).toBe("suspicious");
    expect(findings.addresses.every((address) => address.githubActions === "unknown")).toBe(true);
    expect(findings.addresses.some((address) => address.origin === "elsewhere")).toBe(false);
    expect(findings.githubActionsRanges).toEqual({ available: false, reason: "api.github.com unreachable" });
    expect(findings.reasons[0]).toMatch(
      /7 calls after the leak .* could not be checked against the GitHub Actions ranges \(api\.github\.com unreachable\)/,
    );
  });

  it("still calls the attacker story compromised without the ranges: that damage never happened before the leak", () => {
    const findings = analyzeStory(attackerStory(), { actionsRanges: undefined });
    expect(findings.verdict).toBe("compromised");
    expect(findings.reasons[0]).toMatch(/not checked against the GitHub Actions ranges/);
  });

  it("treats every call as after the leak without a leak time, the CI's usual calls being those from runners", () => {
    const story = ciOnlyStory();
    const findings = analyzeStory(story, { leakedAt: undefined, containedAt: undefined });
    expect(findings.verdict).toBe("expected-use-only");
    expect(findings.afterLeak.calls).toBe(findings.totals.events);
    expect(findings.notes.join("\n")).toMatch(/No leak time given/);
  });

  it("analyses only the keys under investigation in a log file of the whole account", () => {
    const story = ciOnlyStory();
    const other = ciOnlyStory();
    const records = [...story.records, ...other.records];
    const findings = analyzeTrail(parseTrailEvents(asLogFile(records)), contextFor(story));
    expect(findings.totals.events).toBe(story.records.length);
    expect(findings.totals.outOfScope).toBe(other.records.length);
    expect(findings.keys.map((key) => key.accessKeyId)).toEqual([story.cast.accessKeyId]);
  });

  it("rejects a leak time that is not ISO 8601", () => {
    expect(() => analyzeTrail([], { leakedAt: "yesterday" })).toThrow(InvalidInputError);
  });
});

describe("analyzeTrail: containment and self-hosted runners", () => {
  it("is compromised when a call from outside still succeeds after containment and its grace period", () => {
    const story = ciOnlyStory();
    const describe = story.records.find((r) => r.eventName === "DescribeStacks");
    const late = copyRecord(describe, {
      eventTime: new Date(Date.parse(story.containedAt) + 10 * 60_000).toISOString(),
      sourceIPAddress: "203.0.113.99",
    });
    const findings = analyzeStory({ ...story, records: [...story.records, late] });
    expect(findings.verdict).toBe("compromised");
    expect(findings.afterContainment).toMatchObject({ succeeded: 1, succeededAfterGrace: 1 });
    expect(findings.reasons[0]).toMatch(
      /still succeeded more than 5 minutes after containment, from 203\.0\.113\.99/,
    );
  });

  it("only notes a success within minutes of containment (IAM changes take minutes to apply)", () => {
    const story = ciOnlyStory();
    const describe = story.records.find((r) => r.eventName === "DescribeStacks");
    const soon = copyRecord(describe, {
      eventTime: new Date(Date.parse(story.containedAt) + 60_000).toISOString(),
      sourceIPAddress: story.cast.runnerIps[0],
    });
    const findings = analyzeStory({ ...story, records: [...story.records, soon] });
    expect(findings.verdict).toBe("expected-use-only");
    expect(findings.notes.join("\n")).toMatch(/1 call succeeded within 5 minutes of containment/);
  });

  it("says suspicious, not compromised, for a self-hosted runner doing what it did before the leak", () => {
    const story = ciOnlyStory({ cast: { runnerIps: ["10.1.2.3", "10.1.2.4", "10.9.9.9"] } });
    const findings = analyzeStory(story);
    expect(findings.verdict).toBe("suspicious");
    expect(findings.reasons[0]).toMatch(/not GitHub Actions; it used the key before the leak too/);
    expect(findings.addresses[0]?.note).toMatch(/self-hosted runner/);
  });

  it("says expected-use-only for that runner once its network is declared", () => {
    const story = ciOnlyStory({ cast: { runnerIps: ["10.1.2.3", "10.1.2.4", "10.9.9.9"] } });
    const findings = analyzeStory(story, { expected: { networks: ["10.0.0.0/8"] } });
    expect(findings.verdict).toBe("expected-use-only");
    expect(findings.addresses.every((address) => address.origin === "expected-network")).toBe(true);
  });
});

describe("analyzeTrail: bounded on hostile histories", () => {
  it("keeps findings message-sized for 20,000 calls from 20,000 addresses, in bounded time", () => {
    const story = ciOnlyStory();
    const template = story.records.find((r) => r.eventName === "DescribeStacks");
    const records = Array.from({ length: 20_000 }, (_, i) =>
      copyRecord(template, {
        eventTime: new Date(Date.parse(story.leakedAt) + i * 40).toISOString(),
        sourceIPAddress: `100.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        eventName: `Describe${i % 400}`,
      }),
    );
    const started = performance.now();
    const findings = analyzeStory({ ...story, records });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(findings.addresses).toHaveLength(200);
    expect(findings.addressesOmitted).toBe(19_800);
    expect(findings.eventNames).toHaveLength(300);
    expect(JSON.stringify(findings).length).toBeLessThan(1_000_000);
    expect(findings.verdict).toBe("suspicious");
    expect(findings.reasons).toHaveLength(MAX_REASONS + 1);
    expect(findings.reasons[MAX_REASONS]).toMatch(/and 19975 more concerns/);
  });
});
