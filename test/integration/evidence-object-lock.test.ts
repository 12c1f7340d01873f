/**
 * Issue 11: evidence is really locked. S3EvidenceStore writes every evidence object with Object Lock
 * in COMPLIANCE mode until now + EVIDENCE_RETENTION_DAYS, and the sandbox enforces it as S3 does:
 * the lock needs a checksum on the PutObject, GetObjectRetention reads it back, and a locked version
 * cannot be deleted or replaced before its date. Real SDK client, real HTTP.
 */
import {
  DeleteObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3Service } from "../../sandbox/aws/s3.js";
import { type DemoWorld, seedDemoWorld } from "../../sandbox/scenario.js";
import { Sandbox } from "../../sandbox/server.js";
import { evidenceKey, S3EvidenceStore } from "../../src/adapters/aws/s3-evidence-store.js";

const sandbox = new Sandbox({ services: [s3Service] });
let world: DemoWorld;
const DAY_MS = 86_400_000;

function s3(options: { requestChecksumCalculation?: "WHEN_REQUIRED" } = {}): S3Client {
  return new S3Client({
    endpoint: sandbox.url,
    region: "us-east-1",
    credentials: world.responder,
    maxAttempts: 1,
    ...options,
  });
}

async function retentionOf(key: string) {
  return s3().send(new GetObjectRetentionCommand({ Bucket: world.bucket, Key: key }));
}

beforeAll(async () => {
  await sandbox.start();
  world = seedDemoWorld(sandbox);
});
afterAll(() => sandbox.stop());

describe("S3EvidenceStore locks evidence (COMPLIANCE, EVIDENCE_RETENTION_DAYS)", () => {
  it("stores evidence under COMPLIANCE retention until now + the configured days, and S3 refuses to delete it", async () => {
    const store = new S3EvidenceStore(s3(), world.bucket, { evidenceRetentionDays: 30 });
    const before = Date.now();
    const stored = await store.putOnce(
      "gh__acme__api__11",
      "cloudtrail/us-east-1.json",
      Buffer.from('{"Records":[]}'),
      "application/json",
    );
    const after = Date.now();
    const retention = (await retentionOf(stored.key)).Retention;
    expect(retention?.Mode).toBe("COMPLIANCE");
    const until = retention?.RetainUntilDate?.getTime() ?? 0;
    // The header carries whole seconds.
    expect(until).toBeGreaterThanOrEqual(before + 30 * DAY_MS - 1000);
    expect(until).toBeLessThanOrEqual(after + 30 * DAY_MS);

    const head = await s3().send(new HeadObjectCommand({ Bucket: world.bucket, Key: stored.key }));
    await expect(
      s3().send(
        new DeleteObjectCommand({ Bucket: world.bucket, Key: stored.key, VersionId: head.VersionId }),
      ),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(
      s3().send(new DeleteObjectCommand({ Bucket: world.bucket, Key: stored.key })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    expect((await store.get("gh__acme__api__11", "cloudtrail/us-east-1.json"))?.toString()).toBe(
      '{"Records":[]}',
    );
  });

  it("writes a report without retention: a report is a rendering that can be made again", async () => {
    const store = new S3EvidenceStore(s3(), world.bucket, { evidenceRetentionDays: 30 });
    const stored = await store.putOnce(
      "gh__acme__api__11",
      "report-20261205T170000000Z.md",
      Buffer.from("# Incident\n"),
      "text/markdown; charset=utf-8",
      { retain: false },
    );
    await expect(retentionOf(stored.key)).rejects.toMatchObject({ name: "NoSuchObjectLockConfiguration" });
    await s3().send(new DeleteObjectCommand({ Bucket: world.bucket, Key: stored.key }));
  });
});

describe("the sandbox's S3 enforces Object Lock as S3 does", () => {
  const lockedUntil = () => new Date(Date.now() + DAY_MS);

  it("refuses Object Lock parameters without Content-MD5 or an x-amz-checksum-* header (InvalidRequest)", async () => {
    const key = evidenceKey("gh__acme__api__12", "no-checksum.json");
    await expect(
      s3({ requestChecksumCalculation: "WHEN_REQUIRED" }).send(
        new PutObjectCommand({
          Bucket: world.bucket,
          Key: key,
          Body: "{}",
          ObjectLockMode: "COMPLIANCE",
          ObjectLockRetainUntilDate: lockedUntil(),
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidRequest", $metadata: { httpStatusCode: 400 } });
    expect(sandbox.state.buckets.get(world.bucket)?.has(key)).toBe(false);
  });

  it("refuses to overwrite a locked version before its date, and lets it go after", async () => {
    const key = evidenceKey("gh__acme__api__12", "locked.json");
    await s3().send(
      new PutObjectCommand({
        Bucket: world.bucket,
        Key: key,
        Body: "original",
        ChecksumAlgorithm: "SHA256",
        ObjectLockMode: "COMPLIANCE",
        ObjectLockRetainUntilDate: lockedUntil(),
      }),
    );
    await expect(
      s3().send(new PutObjectCommand({ Bucket: world.bucket, Key: key, Body: "tampered" })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    expect(sandbox.state.buckets.get(world.bucket)?.get(key)?.body.toString()).toBe("original");

    // The retention date passes: the version may go.
    const stored = sandbox.state.buckets.get(world.bucket)?.get(key);
    if (stored?.retention) stored.retention.retainUntil = new Date(Date.now() - 1000);
    await s3().send(new DeleteObjectCommand({ Bucket: world.bucket, Key: key }));
    expect(sandbox.state.buckets.get(world.bucket)?.has(key)).toBe(false);
  });

  it("refuses a retention date in the past and a mode S3 does not know", async () => {
    const key = evidenceKey("gh__acme__api__12", "bad-lock.json");
    const put = (lock: { ObjectLockMode?: "COMPLIANCE"; ObjectLockRetainUntilDate: Date }) =>
      s3().send(
        new PutObjectCommand({
          Bucket: world.bucket,
          Key: key,
          Body: "{}",
          ChecksumAlgorithm: "SHA256",
          ...lock,
        }),
      );
    await expect(
      put({ ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: new Date(Date.now() - DAY_MS) }),
    ).rejects.toMatchObject({ name: "InvalidArgument" });
    await expect(put({ ObjectLockRetainUntilDate: lockedUntil() })).rejects.toMatchObject({
      name: "InvalidArgument",
    });
  });
});
