/**
 * Raw CloudTrail records for the sandbox's event history (state.addTrailRecords), in the JSON format
 * CloudTrail writes (facts.md: AWS, CloudTrail): what a CI user's key normally does, what an attacker
 * does with it after a leak, and a bulk history for the benchmark. Every id is made at run time
 * (fake-ids.ts), so nothing credential-shaped is committed; event times are whole seconds, as
 * CloudTrail prints them. Global-service events (IAM, the STS global endpoint) are filed in us-east-1.
 */
import { randomInt, randomUUID } from "node:crypto";
import { isoSeconds } from "./aws/query-protocol.js";
import { fakeAccessKeyId } from "./fake-ids.js";
import type { TrailRecord, TrailUserIdentity } from "./state.js";

/** facts.md: IAM and STS (global endpoint) events appear in us-east-1 only. */
export const GLOBAL_EVENT_REGION = "us-east-1";
const GLOBAL_SERVICES = new Set(["iam", "sts"]);

/** The long-term key's owner, as CloudTrail names an IAM user. */
export interface KeyOwner {
  accountId: string;
  userName: string;
  /** The AKIA key id. */
  accessKeyId: string;
  /** The user's unique id (AIDA...), CloudTrail's principalId; generated when absent. */
  principalId?: string;
}

/** Who made a call, from where, with what. */
interface Actor {
  identity: TrailUserIdentity;
  sourceIPAddress: string;
  userAgent: string;
}

/** One API call, before it is dated and given ids. */
interface Call {
  /** The service prefix: "s3", "iam", "ec2"... */
  service: string;
  name: string;
  /** Ignored for global services, which CloudTrail files in us-east-1. */
  region: string;
  readOnly: boolean;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  error?: { code: string; message: string };
  resources?: TrailRecord["resources"];
  /** Data events (S3 object calls) are not management events: LookupEvents never returns them. */
  data?: boolean;
}

const CI_CLI_AGENT =
  "aws-cli/2.22.35 md/awscrt#0.23.8 ua/2.0 os/linux#6.8.0-1021-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/GitHub-Actions cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off";
const CI_ACTION_AGENT =
  "aws-sdk-js/3.758.0 ua/2.1 os/linux#6.8.0-1021-azure lang/js md/nodejs#20.18.3 api/sts#3.758.0 m/E,N configure-aws-credentials-for-github-actions";
const ATTACKER_AGENT =
  "Boto3/1.35.12 md/Botocore#1.35.12 ua/2.0 os/linux#5.15.0-119-generic md/arch#x86_64 lang/python#3.10.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.12";

export function userIdentity(owner: KeyOwner, accessKeyId = owner.accessKeyId): TrailUserIdentity {
  return {
    type: "IAMUser",
    principalId: owner.principalId ?? principalIdFor(owner),
    arn: `arn:aws:iam::${owner.accountId}:user/${owner.userName}`,
    accountId: owner.accountId,
    accessKeyId,
    userName: owner.userName,
  };
}

/**
 * GetSessionToken credentials: CloudTrail still says IAMUser, with the ASIA key id and a session
 * context whose issuer is empty.
 */
export function sessionTokenIdentity(
  owner: KeyOwner,
  accessKeyId: string,
  issuedAt: Date,
): TrailUserIdentity {
  return {
    ...userIdentity(owner, accessKeyId),
    sessionContext: {
      sessionIssuer: {},
      webIdFederationData: {},
      attributes: { creationDate: isoSeconds(issuedAt), mfaAuthenticated: "false" },
    },
  };
}

export function assumedRoleIdentity(role: {
  accountId: string;
  roleName: string;
  roleId: string;
  sessionName: string;
  accessKeyId: string;
  issuedAt: Date;
}): TrailUserIdentity {
  return {
    type: "AssumedRole",
    principalId: `${role.roleId}:${role.sessionName}`,
    arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${role.sessionName}`,
    accountId: role.accountId,
    accessKeyId: role.accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: role.roleId,
        arn: `arn:aws:iam::${role.accountId}:role/${role.roleName}`,
        accountId: role.accountId,
        userName: role.roleName,
      },
      webIdFederationData: {},
      attributes: { creationDate: isoSeconds(role.issuedAt), mfaAuthenticated: "false" },
    },
  };
}

/** A principal id that stays the same for one user across generators when none is given. */
const principalIds = new Map<string, string>();
function principalIdFor(owner: KeyOwner): string {
  const key = `${owner.accountId}/${owner.userName}`;
  let id = principalIds.get(key);
  if (!id) {
    id = `AIDA${fakeAccessKeyId().slice(4)}`;
    principalIds.set(key, id);
  }
  return id;
}

/** Dates and ids a call, and files it where CloudTrail would. */
function record(actor: Actor, accountId: string, call: Call, at: Date): TrailRecord {
  const service = call.service;
  const region = GLOBAL_SERVICES.has(service) ? GLOBAL_EVENT_REGION : call.region;
  const host = GLOBAL_SERVICES.has(service)
    ? `${service}.amazonaws.com`
    : `${service}.${region}.amazonaws.com`;
  return {
    eventVersion: call.data ? "1.10" : "1.09",
    userIdentity: actor.identity,
    eventTime: isoSeconds(at),
    eventSource: `${service}.amazonaws.com`,
    eventName: call.name,
    awsRegion: region,
    sourceIPAddress: actor.sourceIPAddress,
    userAgent: actor.userAgent,
    ...(call.error ? { errorCode: call.error.code, errorMessage: call.error.message } : {}),
    requestParameters: call.requestParameters ?? null,
    responseElements: call.error ? null : (call.responseElements ?? null),
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: call.readOnly,
    ...(call.resources ? { resources: call.resources } : {}),
    eventType: "AwsApiCall",
    managementEvent: !call.data,
    recipientAccountId: accountId,
    eventCategory: call.data ? "Data" : "Management",
    tlsDetails: {
      tlsVersion: "TLSv1.3",
      cipherSuite: "TLS_AES_128_GCM_SHA256",
      clientProvidedHostHeader: host,
    },
  };
}

/** AWS's AccessDenied wording, as CloudTrail's errorMessage carries it. */
function denied(arn: string, action: string, resource = "*"): { code: string; message: string } {
  return {
    code: "AccessDenied",
    message: `User: ${arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  };
}

/** How CloudTrail prints dates inside responseElements (credentials' expiration, IAM's createDate). */
export function trailDate(date: Date): string {
  const month = date.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  const hours = date.getUTCHours();
  const hour12 = hours % 12 === 0 ? 12 : hours % 12;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${month} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ${hour12}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${hours < 12 ? "AM" : "PM"}`;
}

/** A random address inside an IPv4 CIDR (the runner ranges GitHub's /meta publishes). */
export function addressIn(cidr: string): string {
  const [base = "", bitsText = "32"] = cidr.split("/");
  const octets = base.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`trail-history: not an IPv4 CIDR: ${cidr}`);
  }
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  const value = octets.reduce((n, o) => n * 256 + o, 0);
  const start = value - (value % size);
  // Skip the network and broadcast addresses when the range has room for hosts.
  const offset = size > 2 ? 1 + randomInt(size - 2) : 0;
  const address = start + offset;
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

export interface CiHistoryOptions extends KeyOwner {
  from: Date;
  to: Date;
  /** Addresses of GitHub-hosted runners (pick them with addressIn from the /meta ranges). */
  runnerIps: string[];
  /** How many records; a few are S3 object (data) events, which LookupEvents does not return. */
  count: number;
  /** The deploy regions, 1 or 2 (default eu-west-1); IAM and STS calls land in us-east-1. */
  regions?: string[];
  bucket?: string;
  stackName?: string;
  functionName?: string;
  repositoryName?: string;
}

/**
 * Normal CI use of a long-term key from GitHub Actions runners: configure-aws-credentials' identity
 * check, ECR pushes, CloudFormation deploys, Lambda code updates and S3 artifacts, in deploy runs
 * spread over [from, to].
 */
export function ciHistory(options: CiHistoryOptions): TrailRecord[] {
  const regions = options.regions && options.regions.length > 0 ? options.regions : ["eu-west-1"];
  const bucket = options.bucket ?? `${options.userName}-artifacts-${options.accountId}`;
  const stack = options.stackName ?? "payments-api";
  const fn = options.functionName ?? "payments-api-handler";
  const repo = options.repositoryName ?? "payments-api";
  const from = options.from.getTime();
  const span = Math.max(1, options.to.getTime() - from);

  /** One deploy job's calls, in order; a run is `count`-limited at the end. */
  const run = (region: string, sha: string): Array<{ call: Call; agent: string }> => {
    const cli = (call: Call) => ({ call, agent: CI_CLI_AGENT });
    const objectKey = `builds/${sha}/lambda.zip`;
    const repoArn = `arn:aws:ecr:${region}:${options.accountId}:repository/${repo}`;
    const stackArn = `arn:aws:cloudformation:${region}:${options.accountId}:stack/${stack}/${randomUUID()}`;
    return [
      {
        call: { service: "sts", name: "GetCallerIdentity", region, readOnly: true },
        agent: CI_ACTION_AGENT,
      },
      cli({
        service: "ecr",
        name: "GetAuthorizationToken",
        region,
        readOnly: true,
        responseElements: null,
      }),
      cli({
        service: "ecr",
        name: "BatchCheckLayerAvailability",
        region,
        readOnly: true,
        requestParameters: { repositoryName: repo, registryId: options.accountId },
        resources: [{ accountId: options.accountId, ARN: repoArn }],
      }),
      cli({
        service: "ecr",
        name: "PutImage",
        region,
        readOnly: false,
        requestParameters: {
          repositoryName: repo,
          imageTag: sha.slice(0, 12),
          registryId: options.accountId,
        },
        resources: [{ accountId: options.accountId, ARN: repoArn }],
      }),
      cli({
        service: "s3",
        name: "PutObject",
        region,
        readOnly: false,
        data: true,
        requestParameters: {
          bucketName: bucket,
          key: objectKey,
          Host: `${bucket}.s3.${region}.amazonaws.com`,
        },
        resources: [
          { type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/${objectKey}` },
          { accountId: options.accountId, type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` },
        ],
      }),
      cli({
        service: "cloudformation",
        name: "DescribeStacks",
        region,
        readOnly: true,
        requestParameters: { stackName: stack },
      }),
      cli({
        service: "cloudformation",
        name: "UpdateStack",
        region,
        readOnly: false,
        requestParameters: {
          stackName: stack,
          templateURL: `https://s3.${region}.amazonaws.com/${bucket}/builds/${sha}/template.yaml`,
          capabilities: ["CAPABILITY_IAM"],
        },
        responseElements: { stackId: stackArn },
      }),
      cli({
        service: "lambda",
        name: "UpdateFunctionCode20150331v2",
        region,
        readOnly: false,
        requestParameters: { functionName: fn, s3Bucket: bucket, s3Key: objectKey, publish: true },
        responseElements: {
          functionName: fn,
          functionArn: `arn:aws:lambda:${region}:${options.accountId}:function:${fn}`,
          runtime: "nodejs22.x",
          lastUpdateStatus: "InProgress",
        },
      }),
      cli({
        service: "s3",
        name: "GetObject",
        region,
        readOnly: true,
        data: true,
        requestParameters: {
          bucketName: bucket,
          key: `config/${stack}.json`,
          Host: `${bucket}.s3.${region}.amazonaws.com`,
        },
        resources: [
          { type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/config/${stack}.json` },
          { accountId: options.accountId, type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` },
        ],
      }),
      cli({
        service: "cloudformation",
        name: "DescribeStacks",
        region,
        readOnly: true,
        requestParameters: { stackName: stack },
      }),
    ];
  };

  const identity = userIdentity(options);
  const perRun = run(regions[0] ?? "eu-west-1", "0").length;
  const runs = Math.max(1, Math.ceil(options.count / perRun));
  const records: TrailRecord[] = [];
  for (let r = 0; r < runs && records.length < options.count; r++) {
    // Runs are spread evenly over the window, each from one runner, each a few seconds per call.
    const region = regions[r % regions.length] ?? "eu-west-1";
    const runnerIp = options.runnerIps[randomInt(options.runnerIps.length)] ?? "";
    const startsAt = from + Math.floor(((r + 0.5) * span) / runs);
    const sha = randomUUID().replace(/-/g, "");
    let at = startsAt;
    for (const { call, agent } of run(region, sha)) {
      if (records.length >= options.count) break;
      const actor: Actor = { identity, sourceIPAddress: runnerIp, userAgent: agent };
      records.push(record(actor, options.accountId, call, new Date(Math.min(at, from + span))));
      at += 2_000 + randomInt(6_000);
    }
  }
  return records;
}

export interface AttackerStoryOptions extends KeyOwner {
  leakedAt: Date;
  attackerIp: string;
  /** The ASIA key the GetSessionToken pivot mints (a generated one when absent). */
  mintedSession?: { accessKeyId: string };
  /** The role the minted session assumes: a name in the key's account, or an ARN. None when absent. */
  roleToAssume?: string;
  /** The role's unique id (AROA...), for the assumed-role identity; generated when absent. */
  roleId?: string;
  /** The ASIA key AssumeRole returns (a generated one when absent). */
  roleSession?: { accessKeyId: string };
}

export interface AttackerStory {
  records: TrailRecord[];
  /** The ASIA key minted by GetSessionToken, and when. */
  sessionAccessKeyId: string;
  sessionIssuedAt: Date;
  /** The ASIA key AssumeRole returned, when a role was assumed, and when. */
  roleSession?: { accessKeyId: string; roleArn: string; sessionName: string; issuedAt: Date };
  /** The user the persistence attempt created. */
  createdUserName: string;
  /** The regions the story touched. */
  regions: string[];
  /** The last event's time. */
  endsAt: Date;
}

/**
 * What an attacker does with a leaked key, from leakedAt on (facts.md: the signals after a leak):
 * recon from a foreign address, a burst of AccessDenied while enumerating, a persistence attempt
 * (CreateUser succeeds, CreateAccessKey is denied), a RunInstances in a region the CI never uses, then
 * a GetSessionToken pivot, calls made with the ASIA key in several regions, and an AssumeRole.
 * Takes about six minutes.
 */
export function attackerStory(options: AttackerStoryOptions): AttackerStory {
  const { accountId, attackerIp } = options;
  const userArn = `arn:aws:iam::${accountId}:user/${options.userName}`;
  const records: TrailRecord[] = [];
  // The story's clock, in whole seconds as CloudTrail prints them, so the credentials a seed issues
  // at a call's time carry exactly the time its record shows.
  let at = Math.floor(options.leakedAt.getTime() / 1000) * 1000 + 47_000;
  const emit = (actor: Actor, after: number, call: Call): TrailRecord => {
    at += after;
    const entry = record(actor, accountId, call, new Date(at));
    records.push(entry);
    return entry;
  };
  const actorOf = (identity: TrailUserIdentity): Actor => ({
    identity,
    sourceIPAddress: attackerIp,
    userAgent: ATTACKER_AGENT,
  });
  const key = actorOf(userIdentity(options));
  const read = (service: string, name: string, region = GLOBAL_EVENT_REGION): Call => ({
    service,
    name,
    region,
    readOnly: true,
  });

  // Recon: who am I, what is here (facts.md: GetCallerIdentity, ListBuckets, ListUsers, ...).
  emit(key, 0, read("sts", "GetCallerIdentity"));
  emit(key, 3_000, { ...read("s3", "ListBuckets"), requestParameters: { Host: "s3.amazonaws.com" } });
  emit(key, 2_000, read("iam", "ListUsers"));
  emit(key, 2_000, {
    ...read("iam", "GetAccountAuthorizationDetails"),
    error: denied(userArn, "iam:GetAccountAuthorizationDetails"),
  });
  emit(key, 2_000, {
    ...read("ec2", "DescribeRegions"),
    requestParameters: { regionSet: {}, allRegions: true },
  });
  emit(key, 2_000, read("ses", "GetSendQuota"));
  emit(key, 1_000, read("ses", "GetSendQuota", "eu-west-1"));

  // Enumeration: an automated tool tries one read per service, 1 to 3 s apart; the CI user may do
  // none of them, so this is a burst of AccessDenied well inside a minute.
  const probes: Array<[service: string, name: string]> = [
    ["iam", "ListRoles"],
    ["iam", "ListPolicies"],
    ["iam", "ListGroups"],
    ["secretsmanager", "ListSecrets"],
    ["kms", "ListKeys"],
    ["dynamodb", "ListTables"],
    ["rds", "DescribeDBInstances"],
    ["ssm", "DescribeParameters"],
    ["organizations", "DescribeOrganization"],
    ["guardduty", "ListDetectors"],
    ["cloudtrail", "DescribeTrails"],
    ["sns", "ListTopics"],
    ["route53", "ListHostedZones"],
    ["ses", "ListIdentities"],
  ];
  for (const [service, name] of probes) {
    emit(key, 1_000 * (1 + randomInt(3)), {
      ...read(service, name),
      error: denied(userArn, `${service}:${name}`),
    });
  }

  // Persistence: a user of its own with a key and a password. IAM creates the user; the rest is refused.
  const createdUserName = `svc-backup-${randomUUID().slice(0, 4)}`;
  const createdUserArn = `arn:aws:iam::${accountId}:user/${createdUserName}`;
  at += 9_000;
  emit(key, 0, {
    service: "iam",
    name: "CreateUser",
    region: GLOBAL_EVENT_REGION,
    readOnly: false,
    requestParameters: { userName: createdUserName },
    responseElements: {
      user: {
        path: "/",
        userName: createdUserName,
        userId: `AIDA${fakeAccessKeyId().slice(4)}`,
        arn: createdUserArn,
        createDate: trailDate(new Date(at)),
      },
    },
  });
  emit(key, 2_000, {
    service: "iam",
    name: "CreateAccessKey",
    region: GLOBAL_EVENT_REGION,
    readOnly: false,
    requestParameters: { userName: createdUserName },
    error: denied(userArn, "iam:CreateAccessKey", createdUserArn),
  });
  emit(key, 2_000, {
    service: "iam",
    name: "CreateLoginProfile",
    region: GLOBAL_EVENT_REGION,
    readOnly: false,
    requestParameters: { userName: createdUserName, passwordResetRequired: false },
    error: denied(userArn, "iam:CreateLoginProfile", createdUserArn),
  });

  // Impact: compute in a region the CI never deploys to (ap-northeast-3 is enabled by default).
  const hex = () => randomUUID().replace(/-/g, "").slice(0, 17);
  emit(key, 20_000, {
    service: "ec2",
    name: "RunInstances",
    region: "ap-northeast-3",
    readOnly: false,
    requestParameters: {
      instancesSet: { items: [{ imageId: `ami-${hex()}`, minCount: 1, maxCount: 8 }] },
      instanceType: "c5.4xlarge",
      blockDeviceMapping: {},
      monitoring: { enabled: false },
      disableApiTermination: false,
    },
    responseElements: {
      requestId: randomUUID(),
      reservationId: `r-${hex()}`,
      ownerId: accountId,
      instancesSet: {
        items: [
          {
            instanceId: `i-${hex()}`,
            instanceType: "c5.4xlarge",
            instanceState: { code: 0, name: "pending" },
          },
        ],
      },
    },
  });

  // Pivot: temporary credentials that outlive the key's deactivation (facts.md: up to 36 h).
  const sessionAccessKeyId = options.mintedSession?.accessKeyId ?? fakeAccessKeyId("ASIA");
  const durationSeconds = 129_600;
  at += 15_000;
  emit(key, 0, {
    ...read("sts", "GetSessionToken"),
    requestParameters: { durationSeconds },
    responseElements: {
      credentials: {
        accessKeyId: sessionAccessKeyId,
        expiration: trailDate(new Date(at + durationSeconds * 1000)),
      },
    },
  });
  const sessionIssuedAt = new Date(at);

  // The minted session at work in several regions: CloudTrail still says IAMUser, with the ASIA key.
  const session = actorOf(sessionTokenIdentity(options, sessionAccessKeyId, sessionIssuedAt));
  emit(session, 30_000, read("sts", "GetCallerIdentity"));
  for (const region of ["eu-west-1", "us-west-2", "ap-southeast-1", "sa-east-1"]) {
    emit(session, 4_000, {
      ...read("ec2", "DescribeInstances", region),
      requestParameters: { instancesSet: {}, filterSet: {} },
    });
  }
  emit(session, 3_000, { ...read("s3", "ListBuckets"), requestParameters: { Host: "s3.amazonaws.com" } });
  emit(session, 3_000, read("lambda", "ListFunctions20150331", "eu-west-1"));

  let roleSession: AttackerStory["roleSession"];
  if (options.roleToAssume) {
    const roleArn = options.roleToAssume.startsWith("arn:")
      ? options.roleToAssume
      : `arn:aws:iam::${accountId}:role/${options.roleToAssume}`;
    const roleName = roleArn.split("/").at(-1) ?? options.roleToAssume;
    const roleId = options.roleId ?? `AROA${fakeAccessKeyId().slice(4)}`;
    const roleKey = options.roleSession?.accessKeyId ?? fakeAccessKeyId("ASIA");
    at += 20_000;
    const sessionName = `botocore-session-${Math.floor(at / 1000)}`;
    emit(session, 0, {
      ...read("sts", "AssumeRole"),
      requestParameters: { roleArn, roleSessionName: sessionName },
      responseElements: {
        credentials: { accessKeyId: roleKey, expiration: trailDate(new Date(at + 3_600_000)) },
        assumedRoleUser: {
          assumedRoleId: `${roleId}:${sessionName}`,
          arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
        },
      },
      resources: [{ accountId, type: "AWS::IAM::Role", ARN: roleArn }],
    });
    const issuedAt = new Date(at);
    roleSession = { accessKeyId: roleKey, roleArn, sessionName, issuedAt };
    const role = actorOf(
      assumedRoleIdentity({ accountId, roleName, roleId, sessionName, accessKeyId: roleKey, issuedAt }),
    );
    emit(role, 10_000, read("sts", "GetCallerIdentity"));
    emit(role, 3_000, { ...read("iam", "ListAttachedRolePolicies"), requestParameters: { roleName } });
    emit(role, 3_000, read("secretsmanager", "ListSecrets", "eu-west-1"));
    emit(role, 2_000, read("ssm", "DescribeParameters", "eu-west-1"));
    // The role can do what the CI user could not: finish the persistence.
    emit(role, 8_000, {
      service: "iam",
      name: "AttachUserPolicy",
      region: GLOBAL_EVENT_REGION,
      readOnly: false,
      requestParameters: {
        userName: createdUserName,
        policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
      },
    });
  }

  return {
    records,
    sessionAccessKeyId,
    sessionIssuedAt,
    ...(roleSession ? { roleSession } : {}),
    createdUserName,
    regions: [...new Set(records.map((r) => r.awsRegion))].sort(),
    endsAt: new Date(at),
  };
}

export interface BulkHistoryOptions extends KeyOwner {
  regions: string[];
  count: number;
  from: Date;
  to: Date;
  sourceIp?: string;
}

/** Regional read calls for the bulk history: management events that belong in any region. */
const BULK_CALLS: Array<{ service: string; name: string }> = [
  { service: "ec2", name: "DescribeInstances" },
  { service: "cloudformation", name: "DescribeStacks" },
  { service: "lambda", name: "ListFunctions20150331" },
  { service: "ssm", name: "DescribeParameters" },
  { service: "logs", name: "DescribeLogGroups" },
];

/**
 * `count` management events spread evenly over `regions` (event i goes to region i mod R) and evenly
 * over [from, to]; the benchmark's 10,000 events over 17 regions. No global services, so each region
 * holds exactly its share.
 */
export function bulkHistory(options: BulkHistoryOptions): TrailRecord[] {
  if (options.regions.length === 0) throw new Error("trail-history: bulkHistory needs at least one region");
  const actor: Actor = {
    identity: userIdentity(options),
    sourceIPAddress: options.sourceIp ?? "198.51.100.10",
    userAgent: CI_CLI_AGENT,
  };
  const from = options.from.getTime();
  const span = Math.max(0, options.to.getTime() - from);
  const records: TrailRecord[] = new Array(options.count);
  for (let i = 0; i < options.count; i++) {
    const region = options.regions[i % options.regions.length] ?? GLOBAL_EVENT_REGION;
    const call = BULK_CALLS[i % BULK_CALLS.length] ?? { service: "ec2", name: "DescribeInstances" };
    const at = from + Math.floor((i * span) / Math.max(1, options.count - 1));
    records[i] = record(actor, options.accountId, { ...call, region, readOnly: true }, new Date(at));
  }
  return records;
}
