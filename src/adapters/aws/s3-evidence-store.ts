/**
 * Evidence and reports in S3 beside the incident (`incidents/<id>/evidence/<name>`), each written
 * once with `If-None-Match: *`: evidence is never overwritten (Object Lock guards the prefix in
 * production). The SHA-256 is computed here, over the exact bytes stored.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ConflictError } from "../../domain/errors.js";
import { isSafeEvidenceName } from "../../domain/evidence-name.js";
import type { EvidenceObject, EvidenceStore } from "../../ports.js";
import { awsErrorName, isNotFound, sdkErrorSummary, toResponderError } from "./aws-errors.js";
import { INCIDENT_PREFIX } from "./s3-incident-store.js";

export function evidenceKey(incidentId: string, name: string): string {
  if (!isSafeEvidenceName(name)) throw new Error(`unsafe evidence name: ${name}`);
  return `${INCIDENT_PREFIX}${incidentId}/evidence/${name}`;
}

export class S3EvidenceStore implements EvidenceStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putOnce(
    incidentId: string,
    name: string,
    body: Buffer,
    contentType: string,
  ): Promise<EvidenceObject> {
    const key = evidenceKey(incidentId, name);
    const sha256 = createHash("sha256").update(body).digest("hex");
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          IfNoneMatch: "*",
          ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64"),
          Metadata: { sha256 },
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
