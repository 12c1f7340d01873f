/**
 * The sandbox's AWS Account Management (REST-JSON, `POST /listRegions`, SigV4 scope `account`), proven
 * with the real @aws-sdk/client-account over HTTP, and the activity log's enabled regions read through
 * it. ListRegions replaced EC2 DescribeRegions (issue 13: client-ec2 was 563 KB of the containment
 * bundle for this one call).
 */
import {
  AccountClient,
  ListRegionsCommand,
  type ListRegionsCommandInput,
  type Region,
  type RegionOptStatus,
} from "@aws-sdk/client-account";
import { IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPT_IN_REGIONS } from "../../sandbox/aws/account.js";
import { fakeAccessKeyId, fakeAccountId } from "../../sandbox/fake-ids.js";
import { type Sandbox, startSandbox } from "../../sandbox/index.js";
import { type DemoWorld, seedDemoWorld } from "../../sandbox/scenario.js";
import { DEFAULT_REGIONS } from "../../sandbox/state.js";
import { awsClients } from "../../src/adapters/aws/aws-clients.js";
import { CloudTrailActivityLog } from "../../src/adapters/aws/cloudtrail-activity.js";
import { PermanentFailure } from "../../src/domain/errors.js";

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const ENABLED: RegionOptStatus[] = ["ENABLED", "ENABLED_BY_DEFAULT"];

let sandbox: Sandbox;
let world: DemoWorld;
const savedEnv = { ...process.env };

beforeAll(async () => {
  sandbox = await startSandbox();
  world = seedDemoWorld(sandbox);
});
afterAll(async () => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  await sandbox.stop();
});

/** Account Management is global: the SDK signs for us-east-1 whatever the caller's home region. */
function account(credentials: Credentials, maxAttempts = 1): AccountClient {
  return new AccountClient({ endpoint: sandbox.url, region: "us-east-1", credentials, maxAttempts });
}

/** A fresh account with a reader user: these regions enabled, its own call log. */
function accountWith(enabledRegions: string[]) {
  const accountId = fakeAccountId();
  sandbox.state.addAccount(accountId, "regions", enabledRegions);
  sandbox.state.addUser(accountId, "reader");
  const key = sandbox.state.addAccessKey(accountId, "reader");
  return { accountId, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } };
}

async function failure(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof Error) return error;
    throw new Error(`not an Error: ${String(error)}`);
  }
  throw new Error("expected a failure");
}

async function allPages(client: AccountClient, input: ListRegionsCommandInput): Promise<Region[][]> {
  const pages: Region[][] = [];
  let nextToken: string | undefined;
  do {
    const out = await client.send(
      new ListRegionsCommand({ ...input, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    pages.push(out.Regions ?? []);
    nextToken = out.NextToken;
  } while (nextToken);
  return pages;
}

describe("Account Management ListRegions (real AccountClient)", () => {
  it("lists every region with its opt-in status; the ENABLED/ENABLED_BY_DEFAULT filter keeps the enabled ones only", async () => {
    const { credentials } = accountWith([...DEFAULT_REGIONS, "af-south-1"]);
    const client = account(credentials);

    const all = (await client.send(new ListRegionsCommand({}))).Regions ?? [];
    const status = new Map(all.map((r) => [r.RegionName, r.RegionOptStatus]));
    expect(status.get("eu-west-1")).toBe("ENABLED_BY_DEFAULT");
    expect(status.get("af-south-1")).toBe("ENABLED");
    expect(status.get("ap-southeast-3")).toBe("DISABLED");

    const enabled = (await client.send(new ListRegionsCommand({ RegionOptStatusContains: ENABLED }))).Regions;
    expect((enabled ?? []).map((r) => r.RegionName).sort()).toEqual(
      [...DEFAULT_REGIONS, "af-south-1"].sort(),
    );

    const optedIn = (await client.send(new ListRegionsCommand({ RegionOptStatusContains: ["ENABLED"] })))
      .Regions;
    expect(optedIn).toEqual([{ RegionName: "af-south-1", RegionOptStatus: "ENABLED" }]);
  });

  it("pages with MaxResults and NextToken: every enabled region exactly once; a token is bound to its filter", async () => {
    const { credentials } = accountWith([...DEFAULT_REGIONS]);
    const client = account(credentials);
    const pages = await allPages(client, { RegionOptStatusContains: ENABLED, MaxResults: 5 });
    expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 2]);
    expect(
      pages
        .flat()
        .map((r) => r.RegionName)
        .sort(),
    ).toEqual([...DEFAULT_REGIONS].sort());

    const first = await client.send(
      new ListRegionsCommand({ RegionOptStatusContains: ENABLED, MaxResults: 5 }),
    );
    const reused = await failure(
      client.send(
        new ListRegionsCommand({ RegionOptStatusContains: ["DISABLED"], NextToken: first.NextToken }),
      ),
    );
    expect(reused.name).toBe("ValidationException");
    expect(reused.$metadata?.httpStatusCode).toBe(400);
  });

  it("is global: a request signed for another region than us-east-1 is refused, as AWS's one endpoint does", async () => {
    const { credentials } = accountWith([...DEFAULT_REGIONS]);
    const elsewhere = new AccountClient({
      endpoint: sandbox.url,
      region: "eu-west-1",
      credentials,
      maxAttempts: 1,
    });
    const error = await failure(elsewhere.send(new ListRegionsCommand({})));
    expect(error.name).toBe("InvalidSignatureException");
    expect(error.message).toContain("eu-west-1");
  });

  it("refuses MaxResults above 50 and an unknown opt-in status with ValidationException", async () => {
    const { credentials } = accountWith([...DEFAULT_REGIONS]);
    const client = account(credentials);
    expect((await failure(client.send(new ListRegionsCommand({ MaxResults: 51 })))).name).toBe(
      "ValidationException",
    );
    expect(
      (
        await failure(
          client.send(new ListRegionsCommand({ RegionOptStatusContains: ["OPTED_IN" as RegionOptStatus] })),
        )
      ).name,
    ).toBe("ValidationException");
  });

  it("denies a revoked session (AccessDeniedException naming account:ListRegions) and an injected denial; refuses an unknown key", async () => {
    const before = await account(world.mintedSession).send(new ListRegionsCommand({ MaxResults: 1 }));
    expect(before.Regions).toHaveLength(1);

    const member = await memberRole();
    // The responder's member-role session lists the leaked key's account: the demo's 17 default regions.
    const listed = await account(member).send(new ListRegionsCommand({ RegionOptStatusContains: ENABLED }));
    expect((listed.Regions ?? []).map((r) => r.RegionName).sort()).toEqual([...DEFAULT_REGIONS].sort());
    await new IAMClient({ endpoint: sandbox.url, region: "us-east-1", credentials: member }).send(
      new PutUserPolicyCommand({
        UserName: world.leaked.userName,
        PolicyName: "AWSRevokeOlderSessions",
        PolicyDocument: revokeBefore(new Date()),
      }),
    );
    const revoked = await failure(account(world.mintedSession).send(new ListRegionsCommand({})));
    expect(revoked.name).toBe("AccessDeniedException");
    expect(revoked.$metadata?.httpStatusCode).toBe(403);
    expect(revoked.message).toContain("account:ListRegions");
    expect(revoked.message).toContain(`arn:aws:account::${world.leaked.accountId}:account`);

    sandbox.faults.inject({ service: "account", operation: "ListRegions", kind: "access-denied", times: 1 });
    const injected = await failure(account(member).send(new ListRegionsCommand({})));
    expect(injected.name).toBe("AccessDeniedException");

    const unknown = await failure(
      account({ accessKeyId: fakeAccessKeyId(), secretAccessKey: "not-a-secret-of-any-key" }).send(
        new ListRegionsCommand({}),
      ),
    );
    expect(unknown.name).toBe("UnrecognizedClientException");
    expect(unknown.$metadata?.httpStatusCode).toBe(403);
  });

  it("records each call as account ListRegions in the caller's account; throttling is a 429 TooManyRequestsException the SDK retries", async () => {
    const { accountId, credentials } = accountWith([...DEFAULT_REGIONS]);
    sandbox.faults.inject({ service: "account", operation: "ListRegions", kind: "throttle", times: 1 });
    const out = await account(credentials, 2).send(
      new ListRegionsCommand({ RegionOptStatusContains: ENABLED }),
    );
    expect(out.Regions).toHaveLength(DEFAULT_REGIONS.length);
    const calls = sandbox.state.callsTo("account", "ListRegions").filter((c) => c.accountId === accountId);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
  });
});

describe("CloudTrailActivityLog.enabledRegions through AWS_ENDPOINT_URL (the responder's own client factory)", () => {
  it("reads every page of the enabled regions, more than one page when AWS lists more than 50, and asks EC2 nothing", async () => {
    // AWS keeps adding regions: a list longer than one 50-region page must still be read in full.
    const future = Array.from({ length: 23 }, (_, i) => `xx-future-${i + 1}`);
    const enabled = [...DEFAULT_REGIONS, ...OPT_IN_REGIONS, ...future];
    const { accountId, credentials } = accountWith(enabled);
    Object.assign(process.env, sandbox.awsEnv(credentials, "eu-west-1"));
    delete process.env.AWS_SESSION_TOKEN;
    const ec2Before = sandbox.state.callsTo("ec2").length;

    const activity = new CloudTrailActivityLog(accountId, awsClients({ maxAttempts: 1 }), undefined);
    expect(await activity.enabledRegions()).toEqual([...enabled].sort());
    const calls = sandbox.state.callsTo("account", "ListRegions").filter((c) => c.accountId === accountId);
    expect(calls).toHaveLength(2);
    expect(sandbox.state.callsTo("ec2")).toHaveLength(ec2Before);
  });

  it("turns a denial into a PermanentFailure naming account:ListRegions and the account", async () => {
    const { accountId, credentials } = accountWith([...DEFAULT_REGIONS]);
    Object.assign(process.env, sandbox.awsEnv(credentials));
    delete process.env.AWS_SESSION_TOKEN;
    sandbox.faults.inject({ service: "account", operation: "ListRegions", kind: "access-denied", times: 1 });
    const activity = new CloudTrailActivityLog(accountId, awsClients({ maxAttempts: 1 }), undefined);
    const error = await failure(activity.enabledRegions());
    expect(error).toBeInstanceOf(PermanentFailure);
    expect(error.message).toContain(`account:ListRegions in ${accountId}`);
  });
});

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
