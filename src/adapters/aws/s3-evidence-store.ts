/**
 * Evidence and reports in S3 beside the incident (`incidents/<id>/evidence/<name>`), each written
 * once with `If-None-Match: *`. Evidence is also locked on the same PutObject: Object Lock in
 * COMPLIANCE mode until now + EVIDENCE_RETENTION_DAYS, so no one (root included) can delete or
 * replace that version before the date; the bucket has Object Lock on and no default retention, so
 * an object written without these parameters (a report, incident.json) is not locked. S3 refuses
 * Object Lock parameters without a checksum of the body: the SHA-256 computed here, over the exact
 * bytes stored, is sent as x-amz-checksum-sha256, and S3 checks the bytes against it.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ConflictError } from "../../domain/errors.js";
import { isSafeEvidenceName } from "../../domain/evidence-name.js";
import type { EvidenceObject, EvidenceStore, PutOnceOptions } from "../../ports.js";
import { awsErrorName, isNotFound, sdkErrorSummary, toResponderError } from "./aws-errors.js";
import { INCIDENT_PREFIX } from "./s3-incident-store.js";

export function evidenceKey(incidentId: string, name: string): string {
  if (!isSafeEvidenceName(name)) throw new Error(`unsafe evidence name: ${name}`);
  return `${INCIDENT_PREFIX}${incidentId}/evidence/${name}`;
}

const DAY_MS = 86_400_000;

export class S3EvidenceStore implements EvidenceStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly retention: { evidenceRetentionDays: number },
  ) {}

  async putOnce(
    incidentId: string,
    name: string,
    body: Buffer,
    contentType: string,
    options: PutOnceOptions = {},
  ): Promise<EvidenceObject> {
    const key = evidenceKey(incidentId, name);
    const sha256 = createHash("sha256").update(body).digest("hex");
    const retainUntil =
      options.retain === false
        ? undefined
        : new Date(Date.now() + this.retention.evidenceRetentionDays * DAY_MS);
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          IfNoneMatch: "*",
          ChecksumAlgorithm: "SHA256",
          ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64"),
          Metadata: { sha256 },
          // Needs s3:PutObjectRetention on the key (serverless.yml grants it on evidence/ only).
          ObjectLockMode: retainUntil ? "COMPLIANCE" : undefined,
          ObjectLockRetainUntilDate: retainUntil,
        }),
      );
      return { key, sha256, bytes: body.length };
    } catch (error: unknown) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (awsErrorName(error) === "PreconditionFailed" || status === 412) {
        throw new ConflictError(`Evidence ${key} already exists: evidence is written once`, {
          cause: sdkErrorSummary(error),
        });
      }
      throw toResponderError(error, `Storing evidence ${key}`);
    }
  }

  async get(incidentId: string, name: string): Promise<Buffer | undefined> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: evidenceKey(incidentId, name) }),
      );
      const bytes = await out.Body?.transformToByteArray();
      return bytes ? Buffer.from(bytes) : Buffer.alloc(0);
    } catch (error: unknown) {
      if (isNotFound(error)) return undefined;
      throw toResponderError(error, `Reading evidence ${name} of ${incidentId}`);
    }
  }
}
