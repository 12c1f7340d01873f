import { AccountClient } from "@aws-sdk/client-account";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { IAMClient } from "@aws-sdk/client-iam";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iamService } from "../../sandbox/aws/iam.js";
import { s3Service } from "../../sandbox/aws/s3.js";
import { stsService } from "../../sandbox/aws/sts.js";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { type DemoWorld, seedDemoWorld } from "../../sandbox/scenario.js";
import { Sandbox } from "../../sandbox/server.js";
import { AwsKeyDirectory } from "../../src/adapters/aws/account-access.js";
import type { AwsClients, TemporaryCredentials } from "../../src/adapters/aws/aws-clients.js";
import { S3IncidentStore } from "../../src/adapters/aws/s3-incident-store.js";
import { ConflictError, PermanentFailure } from "../../src/domain/errors.js";
import { minimalIncident } from "../support/fakes.js";

const sandbox = new Sandbox({ services: [stsService, iamService, s3Service] });
let world: DemoWorld;

function clients() {
  const credentials = world.responder;
  const base = { endpoint: sandbox.url, region: "us-east-1", credentials };
  const sts = new STSClient(base);
  // The same sandbox endpoint for every client (AWS_ENDPOINT_URL does this in real runs).
  const withCreds = (region: string, c?: TemporaryCredentials) => ({
    ...base,
    region,
    ...(c ? { credentials: c } : {}),
  });
  const awsClients: AwsClients = {
    iam: (c) => new IAMClient(withCreds("us-east-1", c)),
    cloudTrail: (region, c) => new CloudTrailClient(withCreds(region, c)),
    account: (c) => new AccountClient(withCreds("us-east-1", c)),
  };
  const directory = new AwsKeyDirectory({ sts, clients: awsClients, memberRoleName: world.memberRoleName });
  return { directory, s3: new S3Client(base) };
}

beforeAll(async () => {
  await sandbox.start();
  world = seedDemoWorld(sandbox);
});
afterAll(() => sandbox.stop());

describe("AwsKeyDirectory against the sandbox's STS and IAM (real SDK clients)", () => {
  it("finds the owning account, assumes the member role once, and finds the user", async () => {
    const { directory } = clients();
    const keyId = world.leaked.key.accessKeyId;
    expect(await directory.homeAccountId()).toBe(world.homeAccountId);
    expect(await directory.accountOf(keyId)).toBe(world.memberAccountId);
    const iam = await directory.iamIn(world.memberAccountId);
    expect(iam.viaMemberRole).toBe(true);
    const owner = await iam.findKeyOwner(keyId);
    expect(owner?.userName).toBe("ci-deploy");
    expect(owner?.lastUsed?.service).toBe("s3");
    await directory.iamIn(world.memberAccountId);
    expect(sandbox.state.callsTo("sts", "AssumeRole")).toHaveLength(1);
    // The IAM call ran in the member account, as the member role.
    const lastIam = sandbox.state.callsTo("iam", "GetAccessKeyLastUsed").at(-1);
    expect(lastIam?.accountId).toBe(world.memberAccountId);
    expect(lastIam?.callerArn).toContain(`assumed-role/${world.memberRoleName}`);
  });

  it("deactivates, revokes older sessions (the minted session is then denied), and reads the status back", async () => {
    const { directory } = clients();
    const keyId = world.leaked.key.accessKeyId;
    const iam = await directory.iamIn(world.memberAccountId);
    const cutoff = new Date();
    await Promise.all([
      iam.deactivateKey("ci-deploy", keyId),
      iam.denyOlderUserSessions("ci-deploy", cutoff),
      iam.attachedUserPolicies("ci-deploy"),
    ]);
    expect(world.leaked.key.status).toBe("Inactive");
    expect(await iam.keyStatus("ci-deploy", keyId)).toBe("Inactive");
    const doc = JSON.parse(
      sandbox.state.user(world.memberAccountId, "ci-deploy").inlinePolicies.get("AWSRevokeOlderSessions") ??
        "{}",
    );
    expect(doc.Statement[0].Condition.DateLessThan["aws:TokenIssueTime"]).toBe(cutoff.toISOString());

    // A GetSessionToken session cannot call IAM at all; S3 is what it could use, and now cannot.
    const minted = new S3Client({
      endpoint: sandbox.url,
      region: "us-east-1",
      credentials: world.mintedSession,
      maxAttempts: 1,
    });
    await expect(minted.send(new ListObjectsV2Command({ Bucket: world.bucket }))).rejects.toMatchObject({
      name: "AccessDenied",
    });
  });

  it("says which quarantine policies AWS attached", async () => {
    const { directory } = clients();
    sandbox.state.user(world.memberAccountId, "ci-deploy").attachedPolicies.push({
      policyName: "AWSCompromisedKeyQuarantineV3",
      policyArn: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
    });
    const iam = await directory.iamIn(world.memberAccountId);
    expect(await iam.attachedUserPolicies("ci-deploy")).toContain("AWSCompromisedKeyQuarantineV3");
  });

  it("a key the sandbox does not know belongs to a foreign account; a key missing from IAM has no owner", async () => {
    const { directory } = clients();
    const stranger = fakeAccessKeyId();
    const account = await directory.accountOf(stranger);
    expect(account).toMatch(/^\d{12}$/);
    expect([world.homeAccountId, world.memberAccountId]).not.toContain(account);
    const home = await directory.iamIn(world.homeAccountId);
    expect(home.viaMemberRole).toBe(false);
    expect(await home.findKeyOwner(world.leaked.key.accessKeyId)).toBeUndefined();
  });

  it("throttling twice on UpdateAccessKey is absorbed by the SDK's retries", async () => {
    const { directory } = clients();
    const key = sandbox.state.addAccessKey(world.memberAccountId, "ci-deploy");
    sandbox.faults.inject({ service: "iam", operation: "UpdateAccessKey", kind: "throttle", times: 2 });
    const iam = await directory.iamIn(world.memberAccountId);
    await iam.deactivateKey("ci-deploy", key.accessKeyId);
    expect(key.status).toBe("Inactive");
  });

  it("AccessDenied is a permanent failure that names the call", async () => {
    const { directory } = clients();
    const key = sandbox.state.addAccessKey(world.memberAccountId, "ci-deploy");
    sandbox.faults.inject({ service: "iam", operation: "UpdateAccessKey", kind: "access-denied", times: 1 });
    const iam = await directory.iamIn(world.memberAccountId);
    const error = await iam.deactivateKey("ci-deploy", key.accessKeyId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as Error).message).toContain("iam:UpdateAccessKey");
    expect(key.status).toBe("Active");
  });

  it("a member account without the member role is a permanent failure that says so", async () => {
    const { directory } = clients();
    const orphan = "123412341234";
    sandbox.state.addAccount(orphan);
    const error = await directory.iamIn(orphan).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as Error).message).toContain("member-account role");
  });
});

describe("S3IncidentStore against the sandbox's S3 (conditional writes)", () => {
  const incident = minimalIncident;

  it("creates once, refuses a second create, updates only from the ETag it read, and lists", async () => {
    const store = new S3IncidentStore(clients().s3, world.bucket);
    const etag = await store.create(incident("gh__acme__api__1", "first"));
    await expect(store.create(incident("gh__acme__api__1", "second"))).rejects.toBeInstanceOf(ConflictError);
    const read = await store.get("gh__acme__api__1");
    expect(read?.incident.summary).toBe("first");
    expect(read?.etag).toBe(etag);
    const next = await store.update(incident("gh__acme__api__1", "updated"), etag);
    await expect(store.update(incident("gh__acme__api__1", "stale"), etag)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await store.get("gh__acme__api__1"))?.etag).toBe(next);
    await store.create(incident("gh__acme__api__2", "other"));
    expect(await store.list()).toEqual(["gh__acme__api__1", "gh__acme__api__2"]);
    expect(await store.get("missing")).toBeUndefined();
  });
});
