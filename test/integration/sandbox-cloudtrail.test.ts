/**
 * The sandbox's CloudTrail, proven with the real SDK v3 clients over HTTP, and the seeded
 * histories they serve. The rules checked are the ones facts.md (AWS: CloudTrail) lists: one lookup
 * attribute, MaxResults <= 50, NextToken pagination, 90 days, 2 requests/second per account per
 * region with regions independent, and the signals an attacker leaves after a leak.
 */
import { AccountClient, ListRegionsCommand } from "@aws-sdk/client-account";
import {
  CloudTrailClient,
  type Event as LookupEvent,
  LookupEventsCommand,
  type LookupEventsCommandInput,
} from "@aws-sdk/client-cloudtrail";
import { IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import ipaddr from "ipaddr.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccessKeyId, fakeAccountId } from "../../sandbox/fake-ids.js";
import { type Sandbox, startSandbox } from "../../sandbox/index.js";
import { type DemoWorld, seedDemoWorld } from "../../sandbox/scenario.js";
import { DEFAULT_REGIONS, type TrailRecord } from "../../sandbox/state.js";
import { attackerStory, bulkHistory, ciHistory } from "../../sandbox/trail-history.js";

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const DAY = 86_400_000;
/** Slot spacing per account and region: a little over 500 ms, so no 1 s window ever holds three. */
const PACE_MS = 550;

let sandbox: Sandbox;
let world: DemoWorld;
/** The responder's member-role session in the leaked key's account, as the playbook would hold it. */
let member: Credentials;

beforeAll(async () => {
  sandbox = await startSandbox();
  world = seedDemoWorld(sandbox);
  member = await memberRole();
});
afterAll(() => sandbox.stop());

function cloudTrail(credentials: Credentials, region: string, maxAttempts = 1): CloudTrailClient {
  return new CloudTrailClient({ endpoint: sandbox.url, region, credentials, maxAttempts });
}

function account(credentials: Credentials): AccountClient {
  return new AccountClient({ endpoint: sandbox.url, region: "us-east-1", credentials, maxAttempts: 1 });
}

async function memberRole(): Promise<Credentials> {
  const sts = new STSClient({ endpoint: sandbox.url, region: "us-east-1", credentials: world.responder });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${world.leaked.accountId}:role/${world.memberRoleName}`,
      RoleSessionName: "leak-responder",
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error("AssumeRole returned nothing");
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** An account of its own (its own rate-limit windows), with a user, a key and these records. */
function freshAccount(
  records: (owner: { accountId: string; accessKeyId: string }) => TrailRecord[] = () => [],
) {
  const accountId = fakeAccountId();
  sandbox.state.addAccount(accountId);
  sandbox.state.addUser(accountId, "ci-deploy");
  const key = sandbox.state.addAccessKey(accountId, "ci-deploy");
  const seeded = records({ accountId, accessKeyId: key.accessKeyId });
  sandbox.state.addTrailRecords(accountId, seeded);
  return {
    accountId,
    accessKeyId: key.accessKeyId,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    seeded,
  };
}

/** One shared schedule per account and region, so tests never push a region past 2 requests/second. */
const nextSlot = new Map<string, number>();
async function paced(accountId: string, region: string): Promise<void> {
  const key = `${accountId}/${region}`;
  const now = Date.now();
  const slot = Math.max(now, nextSlot.get(key) ?? 0);
  nextSlot.set(key, slot + PACE_MS);
  if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
}

function answered(accountId: string, region: string): void {
  const key = `${accountId}/${region}`;
  nextSlot.set(key, Math.max(nextSlot.get(key) ?? 0, Date.now() + PACE_MS));
}

/** Every page of one query, paced; retries are off, so a throttle would fail the walk. */
async function lookupAll(
  credentials: Credentials,
  accountId: string,
  region: string,
  input: LookupEventsCommandInput,
): Promise<{ events: LookupEvent[]; pages: number }> {
  const client = cloudTrail(credentials, region);
  const events: LookupEvent[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    await paced(accountId, region);
    const out = await client.send(
      new LookupEventsCommand({ ...input, ...(token ? { NextToken: token } : {}) }),
    );
    // Also paced from the answer: on a loaded machine a request can leave on time and arrive late,
    // and the next one, on time, would then reach the sandbox's sliding second too soon.
    answered(accountId, region);
    pages += 1;
    events.push(...(out.Events ?? []));
    token = out.NextToken;
  } while (token);
  return { events, pages };
}

function byKey(accessKeyId: string): LookupEventsCommandInput {
  return { LookupAttributes: [{ AttributeKey: "AccessKeyId", AttributeValue: accessKeyId }] };
}

/** The settled error of a call that must fail. */
async function failure(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error("expected the call to fail, and it succeeded");
}

function isNewestFirst(events: LookupEvent[]): boolean {
  return events.every(
    (e, i) => i === 0 || (events[i - 1]?.EventTime?.getTime() ?? 0) >= (e.EventTime?.getTime() ?? 0),
  );
}

describe("CloudTrail LookupEvents (real CloudTrailClient)", () => {
  it("pages every seeded event of each demo key exactly once, newest first, without a single throttle", async () => {
    const accountId = world.leaked.accountId;
    const keys = [
      world.leaked.key.accessKeyId,
      world.mintedSession.accessKeyId,
      world.history.roleSession.accessKeyId,
    ];
    const expected = new Map<string, string[]>();
    for (const region of world.history.regions) {
      for (const record of sandbox.state.trailRecords(accountId, region)) {
        const keyId = record.userIdentity.accessKeyId ?? "";
        if (!record.managementEvent || !keys.includes(keyId)) continue;
        expected.set(keyId, [...(expected.get(keyId) ?? []), record.eventID]);
      }
    }
    // Regions in parallel, each paced (facts.md: regions are independent limits).
    const found = new Map<string, string[]>();
    let multiPage = false;
    await Promise.all(
      world.history.regions.map(async (region) => {
        for (const keyId of keys) {
          const { events, pages } = await lookupAll(member, accountId, region, byKey(keyId));
          multiPage ||= pages > 1;
          expect(isNewestFirst(events)).toBe(true);
          for (const event of events) expect(event.AccessKeyId).toBe(keyId);
          found.set(keyId, [...(found.get(keyId) ?? []), ...events.map((e) => e.EventId ?? "")]);
        }
      }),
    );
    expect(multiPage).toBe(true);
    for (const keyId of keys) {
      const ids = found.get(keyId) ?? [];
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(world.history.eventCounts[keyId]);
      expect([...ids].sort()).toEqual([...(expected.get(keyId) ?? [])].sort());
    }
    expect(sandbox.state.trailThrottleCount(accountId)).toBe(0);
  });

  it("returns S3 object (data) events never: management events only", async () => {
    const account = freshAccount((owner) =>
      ciHistory({
        ...owner,
        userName: "ci-deploy",
        from: new Date(Date.now() - 2 * DAY),
        to: new Date(Date.now() - DAY),
        runnerIps: ["198.51.100.20"],
        count: 40,
      }),
    );
    const data = account.seeded.filter((r) => !r.managementEvent);
    expect(data.length).toBeGreaterThan(0);
    const regions = [...new Set(account.seeded.map((r) => r.awsRegion))];
    const all = (
      await Promise.all(
        regions.map((region) => lookupAll(account.credentials, account.accountId, region, {})),
      )
    ).flatMap((page) => page.events);
    expect(all.length).toBe(account.seeded.length - data.length);
    expect(all.map((e) => e.EventName)).not.toContain("PutObject");
  });

  it("pages events that share one second in one total order, none lost or repeated across small pages", async () => {
    const at = new Date(Date.now() - DAY);
    const account = freshAccount((owner) =>
      bulkHistory({ ...owner, userName: "ci-deploy", regions: ["eu-west-1"], count: 23, from: at, to: at }),
    );
    const { events, pages } = await lookupAll(account.credentials, account.accountId, "eu-west-1", {
      ...byKey(account.accessKeyId),
      MaxResults: 5,
    });
    expect(pages).toBe(5);
    expect(events.map((e) => e.EventId).sort()).toEqual(account.seeded.map((r) => r.eventID).sort());
  });

  it("parses as the SDK expects: EventTime a Date, ReadOnly a string, CloudTrailEvent the raw record as JSON", async () => {
    const accountId = world.leaked.accountId;
    await paced(accountId, "us-east-1");
    const out = await cloudTrail(member, "us-east-1").send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "AssumeRole" }],
      }),
    );
    const events = (out.Events ?? []).filter((e) => e.AccessKeyId === world.mintedSession.accessKeyId);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.EventTime).toBeInstanceOf(Date);
    expect(event?.ReadOnly).toBe("true");
    expect(event?.Username).toBe(world.leaked.userName);
    expect(event?.Resources).toContainEqual({
      ResourceType: "AWS::IAM::Role",
      ResourceName: world.history.assumedRoleArn,
    });
    const raw = JSON.parse(event?.CloudTrailEvent ?? "{}") as TrailRecord;
    expect(raw.eventID).toBe(event?.EventId);
    expect(Date.parse(raw.eventTime)).toBe(event?.EventTime?.getTime());
    expect(raw.responseElements).toMatchObject({
      credentials: { accessKeyId: world.history.roleSession.accessKeyId },
    });
  });

  it("rejects MaxResults above 50 (and below 1) with InvalidMaxResultsException", async () => {
    const account = freshAccount();
    const client = cloudTrail(account.credentials, "us-east-1");
    for (const MaxResults of [51, 0]) {
      await paced(account.accountId, "us-east-1");
      const error = await failure(client.send(new LookupEventsCommand({ MaxResults })));
      expect(error.name).toBe("InvalidMaxResultsException");
      expect(error.$metadata?.httpStatusCode).toBe(400);
    }
  });

  it("rejects two lookup attributes with InvalidLookupAttributesException (facts.md: ONE attribute)", async () => {
    const account = freshAccount();
    const error = await failure(
      cloudTrail(account.credentials, "us-east-1").send(
        new LookupEventsCommand({
          LookupAttributes: [
            { AttributeKey: "AccessKeyId", AttributeValue: account.accessKeyId },
            { AttributeKey: "EventName", AttributeValue: "GetCallerIdentity" },
          ],
        }),
      ),
    );
    expect(error.name).toBe("InvalidLookupAttributesException");
  });

  it("shows the last 90 days only, and rejects a start time after the end time", async () => {
    const now = Date.now();
    const account = freshAccount((owner) => [
      ...bulkHistory({
        ...owner,
        userName: "ci-deploy",
        regions: ["us-west-2"],
        count: 1,
        from: new Date(now - 89 * DAY),
        to: new Date(now - 89 * DAY),
      }),
      ...bulkHistory({
        ...owner,
        userName: "ci-deploy",
        regions: ["us-west-2"],
        count: 1,
        from: new Date(now - 91 * DAY),
        to: new Date(now - 91 * DAY),
      }),
    ]);
    const [recent] = account.seeded;
    const { events } = await lookupAll(account.credentials, account.accountId, "us-west-2", {
      StartTime: new Date(now - 120 * DAY),
      EndTime: new Date(now),
    });
    expect(events.map((e) => e.EventId)).toEqual([recent?.eventID]);
    const defaults = await lookupAll(account.credentials, account.accountId, "us-west-2", {});
    expect(defaults.events).toHaveLength(1);

    await paced(account.accountId, "us-west-2");
    const error = await failure(
      cloudTrail(account.credentials, "us-west-2").send(
        new LookupEventsCommand({ StartTime: new Date(now), EndTime: new Date(now - DAY) }),
      ),
    );
    expect(error.name).toBe("InvalidTimeRangeException");
  });

  it("throttles a third request within one second in one region, while another region answers", async () => {
    const account = freshAccount();
    const east = cloudTrail(account.credentials, "us-east-1");
    const west = cloudTrail(account.credentials, "eu-west-1");
    const settled = await Promise.allSettled([
      east.send(new LookupEventsCommand({})),
      east.send(new LookupEventsCommand({})),
      east.send(new LookupEventsCommand({})),
      west.send(new LookupEventsCommand({})),
      west.send(new LookupEventsCommand({})),
    ]);
    const [e1, e2, e3, w1, w2] = settled;
    const eastResults = [e1, e2, e3];
    const rejected = eastResults.filter((r) => r?.status === "rejected");
    expect(rejected).toHaveLength(1);
    const reason: unknown = rejected[0]?.status === "rejected" ? rejected[0].reason : undefined;
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).name).toBe("ThrottlingException");
    expect((reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
    expect([w1?.status, w2?.status]).toEqual(["fulfilled", "fulfilled"]);
    expect(sandbox.state.trailThrottleCount(account.accountId, "us-east-1")).toBe(1);
    expect(sandbox.state.trailThrottleCount(account.accountId, "eu-west-1")).toBe(0);
  });

  it("lets the SDK absorb throttles: ThrottlingException is retried by name, and the sandbox counts each", async () => {
    const account = freshAccount();
    const client = cloudTrail(account.credentials, "ap-south-1", 8);
    const outs = await Promise.all(Array.from({ length: 4 }, () => client.send(new LookupEventsCommand({}))));
    expect(outs.every((out) => Array.isArray(out.Events))).toBe(true);
    expect(Math.max(...outs.map((out) => out.$metadata.attempts ?? 1))).toBeGreaterThan(1);
    expect(sandbox.state.trailThrottleCount(account.accountId, "ap-south-1")).toBeGreaterThan(0);
  });

  it("rejects a NextToken reused with other parameters, in another region, or made up", async () => {
    const at = new Date(Date.now() - DAY);
    const account = freshAccount((owner) =>
      bulkHistory({
        ...owner,
        userName: "ci-deploy",
        regions: ["eu-west-1", "eu-central-1"],
        count: 12,
        from: at,
        to: at,
      }),
    );
    const region = "eu-west-1";
    const client = cloudTrail(account.credentials, region);
    await paced(account.accountId, region);
    const first = await client.send(
      new LookupEventsCommand({ ...byKey(account.accessKeyId), MaxResults: 2 }),
    );
    const token = first.NextToken;
    expect(token).toBeTruthy();
    const misuses: Array<[string, CloudTrailClient, LookupEventsCommandInput]> = [
      [region, client, { ...byKey(fakeAccessKeyId()), MaxResults: 2, NextToken: token }],
      [
        region,
        client,
        { LookupAttributes: [{ AttributeKey: "ReadOnly", AttributeValue: "true" }], NextToken: token },
      ],
      [
        "eu-central-1",
        cloudTrail(account.credentials, "eu-central-1"),
        { ...byKey(account.accessKeyId), NextToken: token },
      ],
      [region, client, { ...byKey(account.accessKeyId), NextToken: "bm90LWEtdG9rZW4" }],
    ];
    for (const [where, c, input] of misuses) {
      await paced(account.accountId, where);
      const error = await failure(c.send(new LookupEventsCommand(input)));
      expect(error.name).toBe("InvalidNextTokenException");
    }
    // The same query resumes where it stopped.
    await paced(account.accountId, region);
    const second = await client.send(
      new LookupEventsCommand({ ...byKey(account.accessKeyId), MaxResults: 2, NextToken: token }),
    );
    const ids = [...(first.Events ?? []), ...(second.Events ?? [])].map((e) => e.EventId);
    expect(new Set(ids).size).toBe(4);
  });

  it("denies a revoked session (deny-older-sessions policy) and an unknown key", async () => {
    const accountId = world.leaked.accountId;
    await paced(accountId, "eu-west-1");
    const before = await cloudTrail(world.mintedSession, "eu-west-1").send(
      new LookupEventsCommand({ MaxResults: 1 }),
    );
    expect(before.Events).toHaveLength(1);

    // facts.md: the inline deny on the user whose GetSessionToken sessions must die.
    const iam = new IAMClient({ endpoint: sandbox.url, region: "us-east-1", credentials: member });
    await iam.send(
      new PutUserPolicyCommand({
        UserName: world.leaked.userName,
        PolicyName: "AWSRevokeOlderSessions",
        PolicyDocument: revokeBefore(new Date()),
      }),
    );
    await paced(accountId, "eu-west-1");
    const sessionDenied = await failure(
      cloudTrail(world.mintedSession, "eu-west-1").send(new LookupEventsCommand({ MaxResults: 1 })),
    );
    expect(sessionDenied.name).toBe("AccessDeniedException");
    expect(sessionDenied.message).toContain("cloudtrail:LookupEvents");
    const regionsDenied = await failure(account(world.mintedSession).send(new ListRegionsCommand({})));
    expect(regionsDenied.name).toBe("AccessDeniedException");

    const unknown = await failure(
      cloudTrail(
        { accessKeyId: fakeAccessKeyId(), secretAccessKey: "not-a-secret-of-any-key" },
        "eu-west-1",
      ).send(new LookupEventsCommand({})),
    );
    expect(unknown.name).toBe("UnrecognizedClientException");
  });
});

function revokeBefore(cutoff: Date): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { DateLessThan: { "aws:TokenIssueTime": cutoff.toISOString() } },
      },
    ],
  });
}

describe("the demo's GitHub /meta and seeded history", () => {
  it("serves the runner ranges at GET /meta without authentication; CI calls come from inside, the attacker from outside", async () => {
    const response = await fetch(`${sandbox.githubUrl}/meta`);
    expect(response.status).toBe(200);
    const meta = (await response.json()) as { actions?: string[] };
    expect(meta.actions).toEqual(world.history.runnerCidrs);
    const ranges = (meta.actions ?? []).map((cidr) => ipaddr.parseCIDR(cidr));
    const inRunnerRange = (ip: string) => {
      const address = ipaddr.parse(ip);
      return ranges.some(([base, bits]) => address.kind() === base.kind() && address.match([base, bits]));
    };
    expect(inRunnerRange(world.history.attackerIp)).toBe(false);

    const records = [...(sandbox.state.trail.get(world.leaked.accountId)?.values() ?? [])].flat();
    const afterLeak = records.filter((r) => !inRunnerRange(r.sourceIPAddress));
    expect(afterLeak.length).toBeGreaterThan(0);
    for (const record of afterLeak) {
      expect(record.sourceIPAddress).toBe(world.history.attackerIp);
      expect(Date.parse(record.eventTime)).toBeGreaterThan(world.history.leakedAt.getTime());
    }
    const ci = records.filter((r) => inRunnerRange(r.sourceIPAddress));
    expect(ci.length).toBeGreaterThan(100);
    expect(ci.every((r) => r.userIdentity.accessKeyId === world.leaked.key.accessKeyId)).toBe(true);
  });

  it("made the credentials the trail mentions live: the minted session was issued when GetSessionToken ran", () => {
    const minted = sandbox.state.credentials.get(world.mintedSession.accessKeyId);
    const pivot = [...sandbox.state.trailRecords(world.leaked.accountId, "us-east-1")].find(
      (r) => r.eventName === "GetSessionToken",
    );
    expect(pivot?.responseElements).toMatchObject({
      credentials: { accessKeyId: world.mintedSession.accessKeyId },
    });
    expect(minted?.caller.issuedAt?.getTime()).toBe(Date.parse(pivot?.eventTime ?? ""));
    const role = sandbox.state.credentials.get(world.history.roleSession.accessKeyId);
    expect(role?.caller.roleName).toBe(world.history.assumedRoleName);
    expect(sandbox.state.account(world.leaked.accountId).users.has(world.history.createdUserName)).toBe(true);
  });
});

describe("generated histories (trail-history.ts)", () => {
  const accountId = fakeAccountId();
  const leakedAt = new Date(Date.now() - 3_600_000);
  const owner = { accountId, userName: "ci-deploy", accessKeyId: fakeAccessKeyId() };
  const mintedKey = fakeAccessKeyId("ASIA");
  const story = attackerStory({
    ...owner,
    leakedAt,
    attackerIp: "192.0.2.66",
    mintedSession: { accessKeyId: mintedKey },
    roleToAssume: "deploy-admin",
  });

  it("pivots: GetSessionToken returns the given ASIA key, which then calls from several regions and assumes the role", () => {
    const pivot = story.records.find((r) => r.eventName === "GetSessionToken");
    expect(pivot?.userIdentity.accessKeyId).toBe(owner.accessKeyId);
    expect(pivot?.responseElements).toMatchObject({ credentials: { accessKeyId: mintedKey } });
    expect(story.sessionAccessKeyId).toBe(mintedKey);

    const bySession = story.records.filter((r) => r.userIdentity.accessKeyId === mintedKey);
    expect(bySession.length).toBeGreaterThan(3);
    for (const record of bySession) {
      expect(record.userIdentity.type).toBe("IAMUser");
      expect(record.userIdentity.sessionContext?.attributes?.creationDate).toBe(pivot?.eventTime);
    }
    expect(new Set(bySession.map((r) => r.awsRegion)).size).toBeGreaterThanOrEqual(3);

    const assume = bySession.find((r) => r.eventName === "AssumeRole");
    expect(assume?.requestParameters).toMatchObject({
      roleArn: `arn:aws:iam::${accountId}:role/deploy-admin`,
    });
    const roleKey = (assume?.responseElements as { credentials?: { accessKeyId?: string } } | null)
      ?.credentials?.accessKeyId;
    expect(roleKey).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(roleKey).not.toBe(mintedKey);
    expect(story.roleSession?.accessKeyId).toBe(roleKey);
    const byRole = story.records.filter((r) => r.userIdentity.accessKeyId === roleKey);
    expect(byRole.length).toBeGreaterThan(0);
    expect(byRole.every((r) => r.userIdentity.type === "AssumedRole")).toBe(true);
  });

  it("has recon, a burst of at least 12 AccessDenied within a minute, persistence and impact, all after the leak", () => {
    const names = story.records.map((r) => r.eventName);
    for (const recon of [
      "GetCallerIdentity",
      "ListBuckets",
      "ListUsers",
      "GetAccountAuthorizationDetails",
      "DescribeRegions",
      "GetSendQuota",
    ]) {
      expect(names).toContain(recon);
    }
    const deniedTimes = story.records
      .filter((r) => r.errorCode === "AccessDenied")
      .map((r) => Date.parse(r.eventTime));
    const densest = Math.max(
      ...deniedTimes.map((t) => deniedTimes.filter((u) => u >= t && u < t + 60_000).length),
    );
    expect(densest).toBeGreaterThanOrEqual(12);
    expect(story.records.find((r) => r.eventName === "CreateUser")?.errorCode).toBeUndefined();
    expect(story.records.find((r) => r.eventName === "CreateAccessKey")?.errorCode).toBe("AccessDenied");
    const run = story.records.find((r) => r.eventName === "RunInstances");
    expect(run && !["us-east-1", "eu-west-1"].includes(run.awsRegion)).toBe(true);
    expect(story.records.every((r) => Date.parse(r.eventTime) > leakedAt.getTime())).toBe(true);
    expect(story.records.every((r) => r.sourceIPAddress === "192.0.2.66")).toBe(true);
    // facts.md: IAM and STS (global endpoint) events are in us-east-1.
    const global = story.records.filter((r) =>
      ["iam.amazonaws.com", "sts.amazonaws.com"].includes(r.eventSource),
    );
    expect(global.every((r) => r.awsRegion === "us-east-1")).toBe(true);
  });

  it("writes CI use from the runner addresses with GitHub Actions user agents, in the deploy region and us-east-1", () => {
    const from = new Date(Date.now() - 7 * DAY);
    const to = new Date(Date.now() - DAY);
    const ci = ciHistory({ ...owner, from, to, runnerIps: ["198.51.100.7", "203.0.113.9"], count: 55 });
    expect(ci).toHaveLength(55);
    expect(ci.every((r) => ["198.51.100.7", "203.0.113.9"].includes(r.sourceIPAddress))).toBe(true);
    expect(ci.every((r) => /exec-env\/GitHub-Actions|configure-aws-credentials/.test(r.userAgent))).toBe(
      true,
    );
    expect(new Set(ci.map((r) => r.awsRegion))).toEqual(new Set(["eu-west-1", "us-east-1"]));
    const times = ci.map((r) => Date.parse(r.eventTime));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(from.getTime() - 1000);
    expect(Math.max(...times)).toBeLessThanOrEqual(to.getTime());
  });

  it("spreads the benchmark's 10,000 events evenly over 17 regions, with fresh ids, quickly", () => {
    const started = performance.now();
    const bulk = bulkHistory({
      ...owner,
      regions: DEFAULT_REGIONS,
      count: 10_000,
      from: new Date(Date.now() - 30 * DAY),
      to: new Date(),
    });
    const elapsed = performance.now() - started;
    expect(bulk).toHaveLength(10_000);
    const perRegion = new Map<string, number>();
    for (const r of bulk) perRegion.set(r.awsRegion, (perRegion.get(r.awsRegion) ?? 0) + 1);
    expect(perRegion.size).toBe(17);
    expect(Math.max(...perRegion.values()) - Math.min(...perRegion.values())).toBeLessThanOrEqual(1);
    expect(new Set(bulk.map((r) => r.eventID)).size).toBe(10_000);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("generates every id at run time: two stories share no event id or minted key", () => {
    const other = attackerStory({
      ...owner,
      leakedAt,
      attackerIp: "192.0.2.66",
      roleToAssume: "deploy-admin",
    });
    const ids = new Set(story.records.map((r) => r.eventID));
    expect(other.records.some((r) => ids.has(r.eventID))).toBe(false);
    expect(other.sessionAccessKeyId).not.toBe(story.sessionAccessKeyId);
    expect(other.roleSession?.accessKeyId).not.toBe(story.roleSession?.accessKeyId);
  });
});
