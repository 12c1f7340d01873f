/**
 * The sandbox's AWS services, proven with the real SDK v3 clients over real HTTP: if these pass, the
 * adapters' calls parse, their errors carry the names the adapters catch, and the SDK's own retry
 * strategy behaves against the sandbox as it does against AWS.
 */
import { Readable } from "node:stream";
import {
  GetAccessKeyLastUsedCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  AssumeRoleCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { iamService } from "../../sandbox/aws/iam.js";
import { s3Service } from "../../sandbox/aws/s3.js";
import { createQueue, sqsService } from "../../sandbox/aws/sqs.js";
import { stsService } from "../../sandbox/aws/sts.js";
import { fakeAccessKeyId, fakeAccountId } from "../../sandbox/fake-ids.js";
import { Sandbox } from "../../sandbox/server.js";
import type { AccessKeyRecord } from "../../sandbox/state.js";

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const REGION = "us-east-1";
const MEMBER_ROLE = "leak-responder-member";
const QUARANTINE_ARN = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3";

let sandbox: Sandbox;
let home: string;
let member: string;
/** The responder's own key, in the home account. */
let responderKey: AccessKeyRecord;
/** The "leaked" key: user ci-deploy in the member account. */
let leakedKey: AccessKeyRecord;

function credentialsOf(key: {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}) {
  const credentials: Credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  if (key.sessionToken) credentials.sessionToken = key.sessionToken;
  return credentials;
}

function config(credentials: Credentials, extra: { maxAttempts?: number } = {}) {
  return { endpoint: sandbox.url, region: REGION, credentials, ...extra };
}

const sts = (c: Credentials) => new STSClient(config(c));
const iam = (c: Credentials, extra: { maxAttempts?: number } = {}) => new IAMClient(config(c, extra));
const s3 = (c: Credentials, extra: { maxAttempts?: number } = {}) => new S3Client(config(c, extra));
const sqs = (c: Credentials, extra: { maxAttempts?: number } = {}) => new SQSClient(config(c, extra));

/** The settled error of a promise that must fail (an assertion failure if it succeeds). */
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

/** The responder's role in the member account, assumed with its home key, as the playbook does. */
async function memberRoleCredentials(): Promise<Credentials> {
  const assumed = await sts(credentialsOf(responderKey)).send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${member}:role/${MEMBER_ROLE}`,
      RoleSessionName: "leak-responder",
      DurationSeconds: 900,
    }),
  );
  const c = assumed.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error("AssumeRole returned no credentials");
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

async function sessionFor(key: AccessKeyRecord): Promise<Credentials> {
  const session = await sts(credentialsOf(key)).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
  const c = session.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error("GetSessionToken returned no credentials");
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** facts.md: the deny-older-sessions document behind "Revoke active sessions". */
function denyOlderSessions(cutoff: Date): string {
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

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  sandbox = new Sandbox({ services: [stsService, iamService, sqsService, s3Service] });
  await sandbox.start();
  const state = sandbox.state;
  home = fakeAccountId();
  do member = fakeAccountId();
  while (member === home);
  state.addAccount(home, "security");
  state.addAccount(member, "workloads");
  state.addUser(home, "responder");
  responderKey = state.addAccessKey(home, "responder");
  state.addUser(member, "ci-deploy");
  leakedKey = state.addAccessKey(member, "ci-deploy", { createdAt: new Date("2025-01-10T09:00:00Z") });
  state.user(member, "ci-deploy").attachedPolicies.push({
    policyName: "AWSCompromisedKeyQuarantineV3",
    policyArn: QUARANTINE_ARN,
  });
  state.addRole(member, MEMBER_ROLE, [home]);
});

afterAll(async () => {
  await sandbox.stop();
});

afterEach(() => {
  sandbox.faults.clear();
});

describe("STS", () => {
  it("GetCallerIdentity names the signing user", async () => {
    const identity = await sts(credentialsOf(responderKey)).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(home);
    expect(identity.Arn).toBe(`arn:aws:iam::${home}:user/responder`);
    expect(identity.UserId).toBe(sandbox.state.user(home, "responder").userId);
  });

  it("GetAccessKeyInfo finds the owning account of a sandbox key, and a stable foreign one for any other", async () => {
    const client = sts(credentialsOf(responderKey));
    const owned = await client.send(new GetAccessKeyInfoCommand({ AccessKeyId: leakedKey.accessKeyId }));
    expect(owned.Account).toBe(member);

    const stranger = fakeAccessKeyId();
    const first = await client.send(new GetAccessKeyInfoCommand({ AccessKeyId: stranger }));
    const again = await client.send(new GetAccessKeyInfoCommand({ AccessKeyId: stranger }));
    expect(first.Account).toMatch(/^\d{12}$/);
    expect(again.Account).toBe(first.Account);
    expect(sandbox.state.accounts.has(first.Account ?? "")).toBe(false);

    // The responder runs as a role session (its Lambda role): those may ask too.
    const asRole = await sts(await memberRoleCredentials()).send(
      new GetAccessKeyInfoCommand({ AccessKeyId: responderKey.accessKeyId }),
    );
    expect(asRole.Account).toBe(home);
  });

  it("AssumeRole into the member account yields ASIA credentials that act in that account", async () => {
    const before = Date.now();
    const assumed = await sts(credentialsOf(responderKey)).send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${member}:role/${MEMBER_ROLE}`,
        RoleSessionName: "incident-42",
        DurationSeconds: 900,
      }),
    );
    expect(assumed.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(assumed.Credentials?.Expiration).toBeInstanceOf(Date);
    const expiresIn = (assumed.Credentials?.Expiration?.getTime() ?? 0) - before;
    expect(expiresIn).toBeGreaterThan(890_000);
    expect(expiresIn).toBeLessThan(910_000);
    expect(assumed.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${member}:assumed-role/${MEMBER_ROLE}/incident-42`,
    );

    const c = assumed.Credentials;
    const roleCredentials = credentialsOf({
      accessKeyId: c?.AccessKeyId ?? "",
      secretAccessKey: c?.SecretAccessKey ?? "",
      sessionToken: c?.SessionToken,
    });
    const identity = await sts(roleCredentials).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(member);
    expect(identity.Arn).toBe(assumed.AssumedRoleUser?.Arn);

    // IAM acts in the caller's account: the role sees ci-deploy's key, the home key does not.
    const keys = await iam(roleCredentials).send(new ListAccessKeysCommand({ UserName: "ci-deploy" }));
    expect(keys.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([leakedKey.accessKeyId]);
    const fromHome = await failure(
      iam(credentialsOf(responderKey)).send(new ListAccessKeysCommand({ UserName: "ci-deploy" })),
    );
    expect(fromHome.name).toBe("NoSuchEntityException");
  });

  it("AssumeRole of a role that does not trust the caller is AccessDenied, naming the caller", async () => {
    const error = await failure(
      sts(credentialsOf(leakedKey)).send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${home}:role/${MEMBER_ROLE}`, RoleSessionName: "x1" }),
      ),
    );
    expect(error.name).toBe("AccessDenied");
    expect(error.message).toContain(
      `User: arn:aws:iam::${member}:user/ci-deploy is not authorized to perform: sts:AssumeRole`,
    );
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });

  it("rejects an unknown key as InvalidClientTokenId", async () => {
    const error = await failure(
      sts({ accessKeyId: fakeAccessKeyId(), secretAccessKey: "not-a-real-secret" }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(error.name).toBe("InvalidClientTokenId");
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });

  // The common error ExpiredToken, not STS's modeled ExpiredTokenException (an expired web identity token).
  it("names expired temporary credentials ExpiredToken", async () => {
    const issuedAt = new Date(Date.now() - 2 * 3_600_000);
    const expired = sandbox.state.issueTemporaryCredentials({
      accountId: member,
      arn: `arn:aws:iam::${member}:user/ci-deploy`,
      userId: sandbox.state.user(member, "ci-deploy").userId,
      kind: "session",
      userName: "ci-deploy",
      issuedAt,
      expiresAt: new Date(issuedAt.getTime() + 900_000),
    });
    const stsError = await failure(sts(credentialsOf(expired)).send(new GetCallerIdentityCommand({})));
    expect(stsError.name).toBe("ExpiredToken");
    expect(stsError.$metadata?.httpStatusCode).toBe(403);
    const s3Error = await failure(
      s3(credentialsOf(expired)).send(new ListObjectsV2Command({ Bucket: "any-bucket" })),
    );
    expect(s3Error.name).toBe("ExpiredToken");
  });

  it("rejects temporary credentials presented without their session token", async () => {
    const role = await memberRoleCredentials();
    const error = await failure(
      sts({ accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(error.name).toBe("InvalidClientTokenId");
  });
});

describe("IAM", () => {
  it("GetAccessKeyLastUsed says N/A for a key never used, and records a key's own use", async () => {
    const state = sandbox.state;
    state.addUser(member, "never-used");
    const idle = state.addAccessKey(member, "never-used");
    const client = iam(await memberRoleCredentials());

    const unused = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: idle.accessKeyId }));
    expect(unused.UserName).toBe("never-used");
    expect(unused.AccessKeyLastUsed).toEqual({ ServiceName: "N/A", Region: "N/A" });

    await sts(credentialsOf(idle)).send(new GetCallerIdentityCommand({}));
    const used = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: idle.accessKeyId }));
    expect(used.AccessKeyLastUsed?.ServiceName).toBe("sts");
    expect(used.AccessKeyLastUsed?.Region).toBe(REGION);
    expect(Date.now() - (used.AccessKeyLastUsed?.LastUsedDate?.getTime() ?? 0)).toBeLessThan(5_000);
  });

  it("GetAccessKeyLastUsed of a key outside the caller's account is NoSuchEntityException", async () => {
    const error = await failure(
      iam(credentialsOf(responderKey)).send(
        new GetAccessKeyLastUsedCommand({ AccessKeyId: leakedKey.accessKeyId }),
      ),
    );
    expect(error.name).toBe("NoSuchEntityException");
    expect(error.$metadata?.httpStatusCode).toBe(404);
  });

  it("UpdateAccessKey deactivates a key (ListAccessKeys shows it, the key stops working) and reactivates it", async () => {
    sandbox.state.addUser(member, "contractor");
    const key = sandbox.state.addAccessKey(member, "contractor");
    const client = iam(await memberRoleCredentials());
    await client.send(
      new UpdateAccessKeyCommand({
        UserName: "contractor",
        AccessKeyId: key.accessKeyId,
        Status: "Inactive",
      }),
    );

    const listed = await client.send(new ListAccessKeysCommand({ UserName: "contractor" }));
    expect(listed.AccessKeyMetadata).toEqual([
      {
        UserName: "contractor",
        AccessKeyId: key.accessKeyId,
        Status: "Inactive",
        CreateDate: expect.any(Date),
      },
    ]);
    const rejected = await failure(sts(credentialsOf(key)).send(new GetCallerIdentityCommand({})));
    expect(rejected.name).toBe("InvalidClientTokenId");
    const s3Rejected = await failure(
      s3(credentialsOf(key)).send(new ListObjectsV2Command({ Bucket: "any-bucket" })),
    );
    expect(s3Rejected.name).toBe("InvalidAccessKeyId");

    // Reactivation is the undo for a false positive (facts.md).
    await client.send(
      new UpdateAccessKeyCommand({ UserName: "contractor", AccessKeyId: key.accessKeyId, Status: "Active" }),
    );
    const identity = await sts(credentialsOf(key)).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(`arn:aws:iam::${member}:user/contractor`);
  });

  it("validates UpdateAccessKey's status and the key's owner", async () => {
    const client = iam(await memberRoleCredentials());
    const badStatus = await failure(
      client.send(
        new UpdateAccessKeyCommand({
          UserName: "ci-deploy",
          AccessKeyId: leakedKey.accessKeyId,
          Status: "Disabled" as "Inactive",
        }),
      ),
    );
    expect(badStatus.name).toBe("ValidationError");
    expect(badStatus.$metadata?.httpStatusCode).toBe(400);
    const wrongUser = await failure(
      client.send(
        new UpdateAccessKeyCommand({
          UserName: "never-used",
          AccessKeyId: leakedKey.accessKeyId,
          Status: "Inactive",
        }),
      ),
    );
    expect(wrongUser.name).toBe("NoSuchEntityException");
  });

  it("stores user policies and returns the document URL-encoded, as IAM does", async () => {
    const client = iam(await memberRoleCredentials());
    const document = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "arn:aws:s3:::evidence/*" }],
    });
    await client.send(
      new PutUserPolicyCommand({ UserName: "ci-deploy", PolicyName: "NoEvidence", PolicyDocument: document }),
    );

    const got = await client.send(
      new GetUserPolicyCommand({ UserName: "ci-deploy", PolicyName: "NoEvidence" }),
    );
    expect(got.PolicyDocument).toBe(encodeURIComponent(document));
    expect(decodeURIComponent(got.PolicyDocument ?? "")).toBe(document);
    const names = await client.send(new ListUserPoliciesCommand({ UserName: "ci-deploy" }));
    expect(names.PolicyNames).toContain("NoEvidence");
    const attached = await client.send(new ListAttachedUserPoliciesCommand({ UserName: "ci-deploy" }));
    expect(attached.AttachedPolicies).toEqual([
      { PolicyName: "AWSCompromisedKeyQuarantineV3", PolicyArn: QUARANTINE_ARN },
    ]);

    const missing = await failure(
      client.send(new GetUserPolicyCommand({ UserName: "ci-deploy", PolicyName: "Nope" })),
    );
    expect(missing.name).toBe("NoSuchEntityException");
    const noUser = await failure(client.send(new ListUserPoliciesCommand({ UserName: "ghost" })));
    expect(noUser.name).toBe("NoSuchEntityException");
    const malformed = await failure(
      client.send(
        new PutUserPolicyCommand({
          UserName: "ci-deploy",
          PolicyName: "Broken",
          PolicyDocument: "{not json",
        }),
      ),
    );
    expect(malformed.name).toBe("MalformedPolicyDocumentException");
  });

  it("stores role policies", async () => {
    const client = iam(await memberRoleCredentials());
    sandbox.state.addRole(member, "deployer", [member]);
    const document = denyOlderSessions(new Date("2020-01-01T00:00:00Z"));
    await client.send(
      new PutRolePolicyCommand({
        RoleName: "deployer",
        PolicyName: "AWSRevokeOlderSessions",
        PolicyDocument: document,
      }),
    );
    const got = await client.send(
      new GetRolePolicyCommand({ RoleName: "deployer", PolicyName: "AWSRevokeOlderSessions" }),
    );
    expect(decodeURIComponent(got.PolicyDocument ?? "")).toBe(document);
    expect(got.RoleName).toBe("deployer");
    const names = await client.send(new ListRolePoliciesCommand({ RoleName: "deployer" }));
    expect(names.PolicyNames).toEqual(["AWSRevokeOlderSessions"]);
    const missing = await failure(client.send(new ListRolePoliciesCommand({ RoleName: "no-such-role" })));
    expect(missing.name).toBe("NoSuchEntityException");
  });

  it("is reached through AWS_ENDPOINT_URL_IAM when the client has no endpoint (facts.md)", async () => {
    const saved = process.env.AWS_ENDPOINT_URL_IAM;
    process.env.AWS_ENDPOINT_URL_IAM = sandbox.url;
    try {
      const before = sandbox.state.callsTo("iam", "ListAccessKeys").length;
      const client = new IAMClient({ region: REGION, credentials: credentialsOf(responderKey) });
      const keys = await client.send(new ListAccessKeysCommand({}));
      expect(keys.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([responderKey.accessKeyId]);
      expect(sandbox.state.callsTo("iam", "ListAccessKeys").length).toBe(before + 1);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_IAM;
      else process.env.AWS_ENDPOINT_URL_IAM = saved;
    }
  });
});

describe("session revocation", () => {
  it("a deny-older-sessions user policy ends sessions minted before the cut-off, not those minted after", async () => {
    sandbox.state.addUser(member, "builder");
    const key = sandbox.state.addAccessKey(member, "builder");
    await s3(credentialsOf(responderKey)).send(new CreateBucketCommand({ Bucket: "build-artifacts" }));
    const old = await sessionFor(key);
    await s3(old).send(new ListObjectsV2Command({ Bucket: "build-artifacts" }));
    // GetSessionToken credentials cannot call IAM without MFA, nor mint another session.
    expect((await failure(iam(old).send(new ListAccessKeysCommand({})))).name).toBe("InvalidClientTokenId");
    expect((await failure(sts(old).send(new GetSessionTokenCommand({})))).name).toBe("AccessDenied");
    expect(
      (await failure(sts(old).send(new GetAccessKeyInfoCommand({ AccessKeyId: key.accessKeyId })))).name,
    ).toBe("AccessDenied");
    // Role sessions cannot mint session tokens either.
    const roleSession = await failure(
      sts(await memberRoleCredentials()).send(new GetSessionTokenCommand({})),
    );
    expect(roleSession.name).toBe("AccessDenied");

    await tick(5);
    const cutoff = new Date();
    await iam(await memberRoleCredentials()).send(
      new PutUserPolicyCommand({
        UserName: "builder",
        PolicyName: "AWSRevokeOlderSessions",
        PolicyDocument: denyOlderSessions(cutoff),
      }),
    );
    await tick(5);
    const fresh = await sessionFor(key);

    const denied = await failure(s3(old).send(new ListObjectsV2Command({ Bucket: "build-artifacts" })));
    expect(denied.name).toBe("AccessDenied");
    expect(denied.message).toContain("explicit deny");
    const sqsDenied = await failure(sqs(old).send(new GetQueueUrlCommand({ QueueName: "anything" })));
    expect(sqsDenied.name).toBe("AccessDenied");
    const iamDenied = await failure(iam(old).send(new ListUserPoliciesCommand({ UserName: "builder" })));
    expect(iamDenied.name).toBe("AccessDenied");
    // AWS never denies GetCallerIdentity, so a revoked session can still ask who it is.
    const identity = await sts(old).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(`arn:aws:iam::${member}:user/builder`);

    const listed = await s3(fresh).send(new ListObjectsV2Command({ Bucket: "build-artifacts" }));
    expect(listed.KeyCount).toBe(0);
  });

  it("a deny-older-sessions role policy ends the role's earlier sessions", async () => {
    sandbox.state.addRole(member, "ci-role", [member]);
    const assumed = await sts(credentialsOf(leakedKey)).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${member}:role/ci-role`, RoleSessionName: "attacker" }),
    );
    const c = assumed.Credentials;
    const attacker = credentialsOf({
      accessKeyId: c?.AccessKeyId ?? "",
      secretAccessKey: c?.SecretAccessKey ?? "",
      sessionToken: c?.SessionToken,
    });
    await iam(attacker).send(new ListRolePoliciesCommand({ RoleName: "ci-role" }));

    await tick(5);
    await iam(await memberRoleCredentials()).send(
      new PutRolePolicyCommand({
        RoleName: "ci-role",
        PolicyName: "AWSRevokeOlderSessions",
        PolicyDocument: denyOlderSessions(new Date()),
      }),
    );
    const denied = await failure(iam(attacker).send(new ListRolePoliciesCommand({ RoleName: "ci-role" })));
    expect(denied.name).toBe("AccessDenied");
    expect(denied.message).toContain(`arn:aws:sts::${member}:assumed-role/ci-role/attacker`);
  });
});

describe("injected faults", () => {
  it("the SDK retries two throttles on UpdateAccessKey and succeeds on the third attempt", async () => {
    sandbox.faults.inject({ service: "iam", operation: "UpdateAccessKey", kind: "throttle", times: 2 });
    const before = sandbox.state.callsTo("iam", "UpdateAccessKey").length;
    const result = await iam(await memberRoleCredentials()).send(
      new UpdateAccessKeyCommand({
        UserName: "ci-deploy",
        AccessKeyId: leakedKey.accessKeyId,
        Status: "Active",
      }),
    );
    expect(result.$metadata.attempts).toBe(3);
    const statuses = sandbox.state
      .callsTo("iam", "UpdateAccessKey")
      .slice(before)
      .map((c) => c.status);
    expect(statuses).toEqual([400, 400, 200]);
  });

  it("a throttle the SDK may not retry surfaces as Throttling", async () => {
    sandbox.faults.inject({ service: "iam", operation: "ListAccessKeys", kind: "throttle", times: 1 });
    const error = await failure(
      iam(credentialsOf(responderKey), { maxAttempts: 1 }).send(new ListAccessKeysCommand({})),
    );
    expect(error.name).toBe("Throttling");
    expect(error.message).toBe("Rate exceeded");
  });

  it("the SDK retries a 500 from IAM", async () => {
    sandbox.faults.inject({ service: "iam", operation: "ListAccessKeys", kind: "server-error", times: 1 });
    const result = await iam(credentialsOf(responderKey)).send(new ListAccessKeysCommand({}));
    expect(result.$metadata.attempts).toBe(2);
    expect(result.AccessKeyMetadata).toHaveLength(1);
  });

  it("an injected access-denied surfaces as AccessDenied in AWS's wording", async () => {
    sandbox.faults.inject({ service: "iam", operation: "UpdateAccessKey", kind: "access-denied", times: 1 });
    const error = await failure(
      iam(credentialsOf(responderKey)).send(
        new UpdateAccessKeyCommand({
          UserName: "responder",
          AccessKeyId: responderKey.accessKeyId,
          Status: "Inactive",
        }),
      ),
    );
    expect(error.name).toBe("AccessDenied");
    expect(error.message).toBe(
      `User: arn:aws:iam::${home}:user/responder is not authorized to perform: iam:UpdateAccessKey on resource: user responder because no identity-based policy allows the iam:UpdateAccessKey action`,
    );
    expect(sandbox.state.user(home, "responder").accessKeys.get(responderKey.accessKeyId)?.status).toBe(
      "Active",
    );
  });

  it("S3 throttles as 503 SlowDown, which the SDK retries", async () => {
    await s3(credentialsOf(responderKey)).send(new CreateBucketCommand({ Bucket: "slow-bucket" }));
    sandbox.faults.inject({ service: "s3", operation: "PutObject", kind: "throttle", times: 1 });
    const put = await s3(credentialsOf(responderKey)).send(
      new PutObjectCommand({ Bucket: "slow-bucket", Key: "k", Body: "v" }),
    );
    expect(put.$metadata.attempts).toBe(2);
    sandbox.faults.inject({ service: "s3", operation: "PutObject", kind: "throttle", times: 1 });
    const error = await failure(
      s3(credentialsOf(responderKey), { maxAttempts: 1 }).send(
        new PutObjectCommand({ Bucket: "slow-bucket", Key: "k", Body: "v" }),
      ),
    );
    expect(error.name).toBe("SlowDown");
    expect(error.$metadata?.httpStatusCode).toBe(503);
  });

  it("SQS throttles as RequestThrottled, which the SDK retries", async () => {
    const queue = createQueue(sandbox.state, home, "throttled-queue", sandbox.url);
    sandbox.faults.inject({ service: "sqs", operation: "SendMessage", kind: "throttle", times: 1 });
    const sent = await sqs(credentialsOf(responderKey)).send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "x" }),
    );
    expect(sent.$metadata.attempts).toBe(2);
    sandbox.faults.inject({ service: "sqs", operation: "SendMessage", kind: "throttle", times: 1 });
    const error = await failure(
      sqs(credentialsOf(responderKey), { maxAttempts: 1 }).send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "x" }),
      ),
    );
    expect(error.name).toBe("RequestThrottled");
  });
});

describe("S3", () => {
  const bucket = "incidents-bucket";
  let client: S3Client;
  const paths: string[] = [];

  beforeAll(async () => {
    client = s3(credentialsOf(responderKey));
    // Records the request path the SDK chose, to prove path-style addressing.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { path?: string };
        if (request.path) paths.push(request.path);
        return next(args);
      },
      { step: "finalizeRequest", name: "recordPath" },
    );
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it("uses path-style addressing against the IP endpoint and round-trips an object", async () => {
    const body = JSON.stringify({ id: "inc-1", state: "contained" });
    const put = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "incidents/inc 1/incident.json",
        Body: body,
        ContentType: "application/json",
        Metadata: { "alert-number": "7" },
      }),
    );
    expect(paths.at(-1)).toBe("/incidents-bucket/incidents/inc%201/incident.json");
    const { createHash } = await import("node:crypto");
    expect(put.ETag).toBe(`"${createHash("md5").update(body).digest("hex")}"`);

    const got = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: "incidents/inc 1/incident.json" }),
    );
    expect(await got.Body?.transformToString()).toBe(body);
    expect(got.ETag).toBe(put.ETag);
    expect(got.ContentType).toBe("application/json");
    expect(got.ContentLength).toBe(Buffer.byteLength(body));
    expect(got.Metadata).toEqual({ "alert-number": "7" });
    expect(Date.now() - (got.LastModified?.getTime() ?? 0)).toBeLessThan(5_000);

    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: "incidents/inc 1/incident.json" }),
    );
    expect(head.ETag).toBe(put.ETag);
    expect(head.ContentLength).toBe(Buffer.byteLength(body));
  });

  it("honours If-None-Match: * (create once) and If-Match (update only the version read)", async () => {
    const key = "incidents/inc-2/incident.json";
    const created = await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: "v1", IfNoneMatch: "*" }),
    );
    const again = await failure(
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "v1", IfNoneMatch: "*" })),
    );
    expect(again.name).toBe("PreconditionFailed");
    expect(again.$metadata?.httpStatusCode).toBe(412);

    const updated = await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: "v2", IfMatch: created.ETag }),
    );
    expect(updated.ETag).not.toBe(created.ETag);
    const stale = await failure(
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "v3", IfMatch: created.ETag })),
    );
    expect(stale.name).toBe("PreconditionFailed");
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body?.transformToString()).toBe("v2");

    const absent = await failure(
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: "incidents/none/incident.json",
          Body: "x",
          IfMatch: created.ETag,
        }),
      ),
    );
    expect(absent.name).toBe("NoSuchKey");
  });

  it("decodes aws-chunked streaming uploads", async () => {
    const parts = [Buffer.from("evidence-part-1;"), Buffer.from("evidence-part-2")];
    const length = parts.reduce((n, p) => n + p.length, 0);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "evidence/stream.bin",
        Body: Readable.from(parts),
        ContentLength: length,
      }),
    );
    const stored = sandbox.state.buckets.get(bucket)?.get("evidence/stream.bin");
    expect(stored?.body.toString()).toBe("evidence-part-1;evidence-part-2");
  });

  it("names missing keys and buckets as S3 does", async () => {
    expect((await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: "nope" })))).name).toBe(
      "NoSuchKey",
    );
    // HEAD has no body, so the SDK can only go by the status.
    expect((await failure(client.send(new HeadObjectCommand({ Bucket: bucket, Key: "nope" })))).name).toBe(
      "NotFound",
    );
    const noBucket = await failure(client.send(new ListObjectsV2Command({ Bucket: "no-such-bucket-here" })));
    expect(noBucket.name).toBe("NoSuchBucket");
    expect(noBucket.$metadata?.httpStatusCode).toBe(404);
  });

  it("lists with prefix, delimiter and continuation tokens", async () => {
    const listing = "listing-bucket";
    await client.send(new CreateBucketCommand({ Bucket: listing }));
    const keys = ["a/1.json", "a/2.json", "a/sub/3.json", "b/4.json", "c.json"];
    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: listing, Key: key, Body: key }));

    const top = await client.send(new ListObjectsV2Command({ Bucket: listing, Delimiter: "/" }));
    expect(top.Contents?.map((o) => o.Key)).toEqual(["c.json"]);
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["a/", "b/"]);

    const underA = await client.send(
      new ListObjectsV2Command({ Bucket: listing, Prefix: "a/", Delimiter: "/" }),
    );
    expect(underA.Contents?.map((o) => o.Key)).toEqual(["a/1.json", "a/2.json"]);
    expect(underA.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["a/sub/"]);
    expect(underA.Contents?.[0]?.Size).toBe("a/1.json".length);

    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client }, { Bucket: listing, MaxKeys: 2 })) {
      pages += 1;
      for (const o of page.Contents ?? []) seen.push(o.Key ?? "");
    }
    expect(seen).toEqual(keys);
    expect(pages).toBe(3);
  });
});

describe("SQS", () => {
  let client: SQSClient;

  beforeAll(() => {
    client = sqs(credentialsOf(responderKey));
  });

  it("creates a queue and finds its URL", async () => {
    const created = await client.send(
      new CreateQueueCommand({ QueueName: "alerts", Attributes: { VisibilityTimeout: "45" } }),
    );
    expect(created.QueueUrl).toBe(`${sandbox.url}/${home}/alerts`);
    const found = await client.send(new GetQueueUrlCommand({ QueueName: "alerts" }));
    expect(found.QueueUrl).toBe(created.QueueUrl);
    const attributes = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: found.QueueUrl, AttributeNames: ["All"] }),
    );
    expect(attributes.Attributes?.VisibilityTimeout).toBe("45");
    expect(attributes.Attributes?.QueueArn).toBe(`arn:aws:sqs:${REGION}:${home}:alerts`);
  });

  it("names a missing queue QueueDoesNotExist", async () => {
    const byName = await failure(client.send(new GetQueueUrlCommand({ QueueName: "missing" })));
    expect(byName.name).toBe("QueueDoesNotExist");
    const byUrl = await failure(
      client.send(new SendMessageCommand({ QueueUrl: `${sandbox.url}/${home}/missing`, MessageBody: "x" })),
    );
    expect(byUrl.name).toBe("QueueDoesNotExist");
    expect(byUrl.$metadata?.httpStatusCode).toBe(400);
  });

  it("send, receive, re-receive after the visibility timeout, delete", async () => {
    const queue = createQueue(sandbox.state, home, "jobs", sandbox.url);
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify({ deliveryId: "d-1" }),
        MessageAttributes: { deliveryId: { DataType: "String", StringValue: "d-1" } },
      }),
    );
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);

    const first = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        VisibilityTimeout: 1,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const message = first.Messages?.[0];
    expect(message?.MessageId).toBe(sent.MessageId);
    expect(message?.Attributes?.ApproximateReceiveCount).toBe("1");
    expect(Date.now() - Number(message?.Attributes?.SentTimestamp)).toBeLessThan(5_000);
    expect(message?.MessageAttributes?.deliveryId?.StringValue).toBe("d-1");
    expect(message?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);

    const hidden = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url }));
    expect(hidden.Messages).toBeUndefined();
    const counts = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    expect(counts.Attributes).toEqual({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "1",
    });

    // A long poll is woken by the visibility timeout running out.
    const startedAt = Date.now();
    const second = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    const again = second.Messages?.[0];
    expect(again?.MessageId).toBe(sent.MessageId);
    expect(again?.Attributes).toEqual({ ApproximateReceiveCount: "2" });
    expect(again?.ReceiptHandle).not.toBe(message?.ReceiptHandle);

    // Only the latest receipt handle deletes (an older one succeeds and deletes nothing).
    await client.send(
      new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message?.ReceiptHandle }),
    );
    expect(queue.messages).toHaveLength(1);
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: again?.ReceiptHandle }));
    expect(queue.messages).toHaveLength(0);
  });

  it("a long poll returns as soon as a message is sent", async () => {
    const queue = createQueue(sandbox.state, home, "long-poll", sandbox.url);
    const startedAt = Date.now();
    const polling = client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 10 }));
    await tick(200);
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "wake up" }));
    const received = await polling;
    expect(received.Messages?.[0]?.Body).toBe("wake up");
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it("ChangeMessageVisibility to 0 releases a message at once", async () => {
    const queue = createQueue(sandbox.state, home, "released", sandbox.url);
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "retry me" }));
    const first = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, VisibilityTimeout: 600 }),
    );
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queue.url,
        ReceiptHandle: first.Messages?.[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = await client.send(
      // The legacy AttributeNames parameter still selects system attributes.
      new ReceiveMessageCommand({ QueueUrl: queue.url, AttributeNames: ["All"] }),
    );
    expect(second.Messages?.[0]?.Body).toBe("retry me");
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe("2");
  });

  it("moves a message past maxReceiveCount to the dead-letter queue", async () => {
    const dlq = createQueue(sandbox.state, home, "responder-dlq", sandbox.url);
    const queue = createQueue(sandbox.state, home, "responder-jobs", sandbox.url, {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: `arn:aws:sqs:${REGION}:${home}:responder-dlq`,
        maxReceiveCount: 1,
      }),
    });
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "poison" }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, VisibilityTimeout: 0 }));
    const retried = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url }));
    expect(retried.Messages).toBeUndefined();
    const dead = await client.send(new ReceiveMessageCommand({ QueueUrl: dlq.url }));
    expect(dead.Messages?.[0]?.Body).toBe("poison");
  });

  it("validates MaxNumberOfMessages", async () => {
    const queue = createQueue(sandbox.state, home, "validated", sandbox.url);
    const error = await failure(
      client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 11 })),
    );
    expect(error.name).toBe("InvalidParameterValue");
    expect(error.message).toContain("MaxNumberOfMessages");
  });

  it("a client without an endpoint follows the queue URL to the sandbox", async () => {
    const queue = createQueue(sandbox.state, home, "by-url", sandbox.url);
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const noEndpoint = new SQSClient({
      region: REGION,
      credentials: credentialsOf(responderKey),
      logger: quiet,
    });
    await noEndpoint.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "routed" }));
    expect(queue.messages.map((m) => m.body)).toEqual(["routed"]);
  });
});
