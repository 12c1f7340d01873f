/**
 * Incidents in S3 (design.md, Storage): `incidents/<id>/incident.json`, created with
 * `If-None-Match: *` (exactly one incident per alert, whoever races) and updated with `If-Match` on
 * the ETag read, so two workers never overwrite each other's progress.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ConflictError } from "../../domain/errors.js";
import type { Incident } from "../../domain/incident.js";
import type { IncidentStore, StoredIncident } from "../../ports.js";
import { awsErrorName, isNotFound, sdkErrorSummary, toResponderError } from "./aws-errors.js";

export const INCIDENT_PREFIX = "incidents/";

export function incidentKey(id: string): string {
  return `${INCIDENT_PREFIX}${id}/incident.json`;
}

function isPreconditionFailed(error: unknown): boolean {
  const name = awsErrorName(error);
  const status =
    typeof error === "object" && error !== null && "$metadata" in error
      ? (error.$metadata as { httpStatusCode?: number }).httpStatusCode
      : undefined;
  return (
    name === "PreconditionFailed" || name === "ConditionalRequestConflict" || status === 412 || status === 409
  );
}

export class S3IncidentStore implements IncidentStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async get(id: string): Promise<StoredIncident | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: incidentKey(id) }));
      const text = (await out.Body?.transformToString("utf-8")) ?? "";
      if (!out.ETag) throw new Error("S3 returned no ETag");
      return { incident: JSON.parse(text) as Incident, etag: out.ETag };
    } catch (error: unknown) {
      if (isNotFound(error)) return undefined;
      throw toResponderError(error, `Reading incident ${id}`);
    }
  }

  async create(incident: Incident): Promise<string> {
    return this.#put(incident, { IfNoneMatch: "*" }, "Creating");
  }

  async update(incident: Incident, etag: string): Promise<string> {
    return this.#put(incident, { IfMatch: etag }, "Updating");
  }

  async list(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: INCIDENT_PREFIX,
            Delimiter: "/",
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const prefix of out.CommonPrefixes ?? []) {
          const id = prefix.Prefix?.slice(INCIDENT_PREFIX.length).replace(/\/$/, "");
          if (id) ids.push(id);
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    } catch (error: unknown) {
      throw toResponderError(error, "Listing incidents");
    }
    return ids.sort();
  }

  async #put(incident: Incident, condition: { IfNoneMatch: string } | { IfMatch: string }, verb: string) {
    try {
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: incidentKey(incident.id),
          Body: `${JSON.stringify(incident, null, 2)}\n`,
          ContentType: "application/json",
          ...condition,
        }),
      );
      if (!out.ETag) throw new Error("S3 returned no ETag");
      return out.ETag;
    } catch (error: unknown) {
      if (isPreconditionFailed(error)) {
        throw new ConflictError(`${verb} incident ${incident.id}: someone else wrote it first`, {
          cause: sdkErrorSummary(error),
        });
      }
      throw toResponderError(error, `${verb} incident ${incident.id}`);
    }
  }
}
