/**
 * The tactics peer detectors catch and the first signal table missed (issue 11): credential access,
 * exfiltration, S3 destruction, EC2/RDS impact, security-tool evasion, instance access, Lambda
 * backdoors, region enabling; rules that read the request; call outcomes; and the verdict for them.
 * Records are built from the published CloudTrail record contents with ids generated at run time.
 */
import { describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { createActionsRanges } from "../../src/forensics/actions-ranges.js";
import { analyzeTrail } from "../../src/forensics/analyze.js";
import { outcomeOf } from "../../src/forensics/call-outcome.js";
import { parseTrailEvents } from "../../src/forensics/parse-trail.js";
import { signalRulesFor } from "../../src/forensics/signals.js";
import { asLogFile } from "../fixtures/trails/formats.js";
import {
  type CloudTrailRecord,
  cloudTrailRecord,
  fakeUserId,
  type RecordSpec,
} from "../fixtures/trails/records.js";
import { ciOnlyStory } from "../fixtures/trails/stories.js";

const story = ciOnlyStory();
const leak = new Date(story.leakedAt);
const attacker = "203.0.113.45";
const caller = {
  accountId: story.cast.accountId,
  userName: story.cast.userName,
  principalId: fakeUserId(),
  accessKeyId: story.cast.accessKeyId,
};
const AGENT = "Boto3/1.35.36 md/Botocore#1.35.36 lang/python#3.12.3";

function call(
  spec: Partial<RecordSpec> & Pick<RecordSpec, "source" | "name">,
  minutes = 3,
): CloudTrailRecord {
  return cloudTrailRecord({
    at: new Date(leak.getTime() + minutes * 60_000),
    caller,
    ip: attacker,
    userAgent: AGENT,
    ...spec,
  });
}

const eventOf = (record: CloudTrailRecord) => {
  const [event] = parseTrailEvents(JSON.stringify({ Records: [record] }));
  if (!event) throw new Error("the record did not parse");
  return event;
};

const categoriesOf = (record: CloudTrailRecord) =>
  signalRulesFor(eventOf(record)).map((rule) => rule.category);

function analyze(records: CloudTrailRecord[]) {
  return analyzeTrail(parseTrailEvents(asLogFile([...story.records, ...records])), {
    leakedAt: story.leakedAt,
    containedAt: story.containedAt,
    accessKeyIds: [story.cast.accessKeyId],
    actionsRanges: createActionsRanges(story.cast.runnerCidrs),
  });
}

describe("the tactics issue 11 found missing", () => {
  it("raises credential access: secrets, SecureStrings decrypted, Windows passwords", () => {
    const theft = [
      call({
        source: "secretsmanager.amazonaws.com",
        name: "GetSecretValue",
        request: { secretId: "prod/db" },
      }),
      call({ source: "secretsmanager.amazonaws.com", name: "BatchGetSecretValue", request: { filters: [] } }),
      call({
        source: "ssm.amazonaws.com",
        name: "GetParameter",
        request: { name: "/prod/api", withDecryption: true },
      }),
      call({
        source: "ssm.amazonaws.com",
        name: "GetParameters",
        request: { names: ["/a", "/b"], withDecryption: true },
      }),
      call({ source: "ec2.amazonaws.com", name: "GetPasswordData", request: { instanceId: "i-0abc" } }),
    ];
    for (const record of theft) expect(categoriesOf(record), record.eventName).toContain("credential-access");
    // A plain parameter read is configuration, not a secret.
    expect(
      categoriesOf(call({ source: "ssm.amazonaws.com", name: "GetParameter", request: { name: "/cfg" } })),
    ).toEqual([]);
  });

  it("raises exfiltration: copies and replication to foreign buckets, shared snapshots and images, exports", () => {
    const own = story.cast.accountId;
    const out = [
      call({
        source: "s3.amazonaws.com",
        name: "PutBucketReplication",
        request: {
          bucketName: "prod-data",
          ReplicationConfiguration: {
            Rule: { Destination: { Bucket: "arn:aws:s3:::evil-drop", Account: "999988887777" } },
          },
        },
      }),
      call({
        source: "ec2.amazonaws.com",
        name: "ModifySnapshotAttribute",
        request: {
          snapshotId: "snap-0abc",
          attributeType: "CREATE_VOLUME_PERMISSION",
          createVolumePermission: { add: { items: [{ userId: "999988887777" }] } },
        },
      }),
      call({
        source: "ec2.amazonaws.com",
        name: "ModifyImageAttribute",
        request: { imageId: "ami-0abc", launchPermission: { add: { items: [{ group: "all" }] } } },
      }),
      call({
        source: "rds.amazonaws.com",
        name: "ModifyDBSnapshotAttribute",
        request: { dBSnapshotIdentifier: "prod", attributeName: "restore", valuesToAdd: ["all"] },
      }),
      call({
        source: "ec2.amazonaws.com",
        name: "CreateInstanceExportTask",
        request: { instanceId: "i-0abc" },
      }),
      call({ source: "ec2.amazonaws.com", name: "ExportImage", request: { imageId: "ami-0abc" } }),
      call({
        source: "s3.amazonaws.com",
        name: "CopyObject",
        request: { bucketName: "evil-drop", key: "dump.sql", "x-amz-copy-source": "prod-data/dump.sql" },
        resources: [{ ARN: "arn:aws:s3:::evil-drop", accountId: "999988887777", type: "AWS::S3::Bucket" }],
      }),
    ];
    for (const record of out) expect(categoriesOf(record), record.eventName).toContain("exfiltration");
    // A copy inside the account's own bucket is housekeeping.
    const inside = call({
      source: "s3.amazonaws.com",
      name: "CopyObject",
      request: { bucketName: "prod-data", key: "b", "x-amz-copy-source": "prod-data/a" },
      resources: [{ ARN: "arn:aws:s3:::prod-data", accountId: own, type: "AWS::S3::Bucket" }],
    });
    expect(categoriesOf(inside)).toEqual([]);
  });

  it("raises S3 destruction, EC2/RDS impact, security-tool evasion, instance access, Lambda backdoors, EnableRegion", () => {
    const expectations: Array<[CloudTrailRecord, string]> = [
      [
        call({ source: "s3.amazonaws.com", name: "DeleteObjects", request: { bucketName: "prod-data" } }),
        "impact",
      ],
      [
        call({
          source: "s3.amazonaws.com",
          name: "PutBucketVersioning",
          request: { bucketName: "prod-data", VersioningConfiguration: { Status: "Suspended" } },
        }),
        "impact",
      ],
      [
        call({ source: "s3.amazonaws.com", name: "DeleteBucketEncryption", request: { bucketName: "b" } }),
        "impact",
      ],
      [
        call({
          source: "s3.amazonaws.com",
          name: "PutBucketLogging",
          request: { bucketName: "b", BucketLoggingStatus: {} },
        }),
        "defense-evasion",
      ],
      [call({ source: "ec2.amazonaws.com", name: "TerminateInstances", request: {} }), "impact"],
      [call({ source: "ec2.amazonaws.com", name: "StopInstances", request: {} }), "impact"],
      [
        call({
          source: "rds.amazonaws.com",
          name: "DeleteDBInstance",
          request: { dBInstanceIdentifier: "prod" },
        }),
        "impact",
      ],
      [
        call({
          source: "rds.amazonaws.com",
          name: "ModifyDBInstance",
          request: { dBInstanceIdentifier: "prod", publiclyAccessible: true },
        }),
        "exfiltration",
      ],
      [call({ source: "rds.amazonaws.com", name: "StartExportTask", request: {} }), "exfiltration"],
      [call({ source: "securityhub.amazonaws.com", name: "DisableSecurityHub" }), "defense-evasion"],
      [call({ source: "macie2.amazonaws.com", name: "DisableMacie" }), "defense-evasion"],
      [
        call({ source: "wafv2.amazonaws.com", name: "DeleteWebACL", request: { name: "edge" } }),
        "defense-evasion",
      ],
      [call({ source: "guardduty.amazonaws.com", name: "DeletePublishingDestination" }), "defense-evasion"],
      [
        call({
          source: "ec2-instance-connect.amazonaws.com",
          name: "SendSSHPublicKey",
          request: { instanceId: "i-0abc", instanceOSUser: "ec2-user" },
        }),
        "privilege-escalation",
      ],
      [
        call({ source: "ec2-instance-connect.amazonaws.com", name: "SendSerialConsoleSSHPublicKey" }),
        "privilege-escalation",
      ],
      [call({ source: "ec2.amazonaws.com", name: "EnableSerialConsoleAccess" }), "defense-evasion"],
      [
        call({
          source: "lambda.amazonaws.com",
          name: "AddLayerVersionPermission20181031",
          request: { layerName: "shared", principal: "*", action: "lambda:GetLayerVersion" },
        }),
        "persistence",
      ],
      [call({ source: "lambda.amazonaws.com", name: "PublishLayerVersion20181031" }), "persistence"],
      [
        call({
          source: "lambda.amazonaws.com",
          name: "CreateFunctionUrlConfig20211031",
          request: { functionName: "payments-api", authType: "NONE" },
        }),
        "persistence",
      ],
      [
        call({
          source: "account.amazonaws.com",
          name: "EnableRegion",
          request: { RegionName: "me-south-1" },
        }),
        "defense-evasion",
      ],
    ];
    for (const [record, category] of expectations) {
      expect(categoriesOf(record), record.eventName).toContain(category);
    }
    // A function URL that needs IAM auth is not public.
    expect(
      categoriesOf(
        call({
          source: "lambda.amazonaws.com",
          name: "CreateFunctionUrlConfig20211031",
          request: { functionName: "f", authType: "AWS_IAM" },
        }),
      ),
    ).toEqual([]);
  });

  it("calls a note-like PutObject after deletions a ransom note, and not without them", () => {
    const note = (minutes: number) =>
      call(
        {
          source: "s3.amazonaws.com",
          name: "PutObject",
          request: { bucketName: "prod-data", key: "README_RESTORE.txt" },
        },
        minutes,
      );
    const ids = (records: CloudTrailRecord[]) => analyze(records).signals.impact.map((finding) => finding.id);
    expect(ids([note(4)])).not.toContain("s3:PutObject#ransom-note");
    const wiped = ids([
      call({ source: "s3.amazonaws.com", name: "DeleteObjects", request: { bucketName: "prod-data" } }, 3),
      note(4),
    ]);
    expect(wiped).toContain("s3:PutObject#ransom-note");
  });

  it("calls a burst of downloads from one address exfiltration; a few downloads are not", () => {
    const downloads = (count: number) =>
      Array.from({ length: count }, (_, i) =>
        call(
          {
            source: "s3.amazonaws.com",
            name: "GetObject",
            request: { bucketName: "prod-data", key: `customers/${i}.csv` },
          },
          3 + i / 60,
        ),
      );
    const exfil = (count: number) =>
      analyze(downloads(count)).signals.exfiltration.map((finding) => finding.id);
    expect(exfil(5)).toEqual([]);
    expect(exfil(150)).toContain("s3:GetObject#burst");
  });
});

describe("rules that read the request", () => {
  const policy = (statement: unknown) =>
    call({
      source: "s3.amazonaws.com",
      name: "PutBucketPolicy",
      request: { bucketName: "prod-data", bucketPolicy: { Version: "2012-10-17", Statement: [statement] } },
    });

  it("a bucket policy that only restricts is no finding; a public Allow is", () => {
    expect(
      categoriesOf(
        policy({
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      ),
    ).toEqual([]);
    expect(
      categoriesOf(
        policy({
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${story.cast.accountId}:root` },
          Action: "s3:GetObject",
        }),
      ),
    ).toEqual([]);
    expect(categoriesOf(policy({ Effect: "Allow", Principal: "*", Action: "s3:GetObject" }))).toContain(
      "exfiltration",
    );
  });

  it("event selectors that keep management events are no finding; ones that drop them are", () => {
    const selectors = (includeManagementEvents: boolean) =>
      call({
        source: "cloudtrail.amazonaws.com",
        name: "PutEventSelectors",
        request: { trailName: "org", eventSelectors: [{ readWriteType: "All", includeManagementEvents }] },
      });
    expect(categoriesOf(selectors(true))).toEqual([]);
    expect(categoriesOf(selectors(false))).toContain("defense-evasion");
  });

  it("logging that turns on is no finding", () => {
    const on = call({
      source: "s3.amazonaws.com",
      name: "PutBucketLogging",
      request: {
        bucketName: "b",
        BucketLoggingStatus: { LoggingEnabled: { TargetBucket: "logs", TargetPrefix: "b/" } },
      },
    });
    expect(categoriesOf(on)).toEqual([]);
  });

  it("a lifecycle rule that only aborts uploads is no finding; one that expires objects is", () => {
    const lifecycle = (rule: Record<string, unknown>) =>
      call({
        source: "s3.amazonaws.com",
        name: "PutBucketLifecycle",
        request: {
          bucketName: "trail-logs",
          LifecycleConfiguration: { Rule: { ID: "r", Status: "Enabled", ...rule } },
        },
      });
    expect(categoriesOf(lifecycle({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }))).toEqual(
      [],
    );
    expect(categoriesOf(lifecycle({ Expiration: { Days: 1 } }))).toContain("impact");
  });
});

describe("call outcomes", () => {
  it("a failed console sign-in is a failure, not a success", () => {
    const login = cloudTrailRecord({
      at: new Date(leak.getTime() + 60_000),
      caller,
      ip: attacker,
      userAgent: "Mozilla/5.0",
      source: "signin.amazonaws.com",
      name: "ConsoleLogin",
      response: { ConsoleLogin: "Failure" },
    });
    expect(outcomeOf(eventOf(login))).not.toBe("succeeded");
  });

  it("a non-error code like 200 is a success", () => {
    expect(outcomeOf({ errorCode: "200" })).toBe("succeeded");
  });

  it("a dry run proves the permission: permitted, not denied", () => {
    expect(outcomeOf({ errorCode: "Client.DryRunOperation" })).toBe("permitted");
  });
});

describe("the verdict for the new tactics", () => {
  it("twenty secrets stolen from outside is compromised and leads the reasons, above a list of VPCs", () => {
    const records = [
      call({ source: "ec2.amazonaws.com", name: "DescribeVpcs" }, 2),
      ...Array.from({ length: 20 }, (_, i) =>
        call(
          {
            source: "secretsmanager.amazonaws.com",
            name: "GetSecretValue",
            request: { secretId: `prod/s${i}` },
          },
          3,
        ),
      ),
    ];
    const findings = analyze(records);
    expect(findings.verdict).toBe("compromised");
    expect(findings.reasons[0]).toMatch(/secret/i);
  });

  it("damage from a runner address the key never did before the leak is compromised", () => {
    const runner = story.cast.runnerIps[0] ?? "198.51.100.23";
    const findings = analyze([
      call({ source: "cloudtrail.amazonaws.com", name: "StopLogging", request: { name: "org" }, ip: runner }),
      call({
        source: "iam.amazonaws.com",
        name: "CreateUser",
        request: { userName: "backup-admin" },
        ip: runner,
      }),
    ]);
    expect(findings.verdict).toBe("compromised");
  });

  it("a dry run from outside counts as permitted, not as denied", () => {
    const findings = analyze([
      call({
        source: "ec2.amazonaws.com",
        name: "RunInstances",
        errorCode: "Client.DryRunOperation",
        errorMessage: "Request would have succeeded, but DryRun flag is set.",
      }),
    ]);
    const run = findings.signals.impact.find((finding) => finding.id === "ec2:RunInstances");
    expect(run?.attempted).toBe(1);
    const reason = findings.reasons.find((text) => text.includes("ec2:RunInstances")) ?? "";
    expect(reason).toMatch(/dry run.*permitted/);
  });

  it("attributes a call an AWS service made for the key to the caller that started it", () => {
    const stack = call(
      { source: "cloudformation.amazonaws.com", name: "CreateStack", request: { stackName: "x" } },
      3,
    );
    const created = call(
      {
        source: "iam.amazonaws.com",
        name: "CreateUser",
        request: { userName: "cfn-admin" },
        ip: "cloudformation.amazonaws.com",
      },
      4,
    );
    const findings = analyze([stack, created]);
    expect(findings.verdict).toBe("compromised");
    const reason = findings.reasons.find((text) => /create an IAM user/.test(text)) ?? "";
    expect(reason).toContain(attacker);
  });

  it("a successful write call no rule knows, from outside, is compromised; reads from outside stay suspicious", () => {
    const write = call({
      source: "sns.amazonaws.com",
      name: "CreateTopic",
      request: { name: "t" },
      readOnly: false,
    });
    expect(analyze([write]).verdict).toBe("compromised");
    const read = call({ source: "sns.amazonaws.com", name: "ListTopics", readOnly: true });
    expect(analyze([read]).verdict).toBe("suspicious");
  });

  it("follows an access key the leaked key created: a backdoor to remove, and its own calls", () => {
    const backdoorKey = fakeAccessKeyId();
    const findings = analyze([
      call({
        source: "iam.amazonaws.com",
        name: "CreateAccessKey",
        request: { userName: "backup-admin" },
        response: { accessKey: { accessKeyId: backdoorKey, status: "Active", userName: "backup-admin" } },
      }),
      cloudTrailRecord({
        at: new Date(leak.getTime() + 10 * 60_000),
        caller: { ...caller, userName: "backup-admin", accessKeyId: backdoorKey },
        ip: "192.0.2.99",
        userAgent: AGENT,
        source: "secretsmanager.amazonaws.com",
        name: "GetSecretValue",
        request: { secretId: "prod/db" },
      }),
    ]);
    expect(findings.artifacts.map((artifact) => artifact.name).join(" ")).toContain(backdoorKey);
    expect(findings.signals["credential-access"].some((finding) => finding.succeeded > 0)).toBe(true);
  });
});
