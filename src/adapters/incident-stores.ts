/**
 * The incident and evidence stores, built from the store configuration: one S3 bucket in AWS
 * (reports need the caller's AWS credentials: there is no public URL), a folder for local runs.
 * The responder, the `report` command and the demo all build them here.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { type Env, evidenceRetentionDays, type RespondConfig } from "../config.js";
import type { EvidenceStore, IncidentStore } from "../ports.js";
import { awsRequestHandler } from "./aws/request-handler.js";
import { S3EvidenceStore } from "./aws/s3-evidence-store.js";
import { S3IncidentStore } from "./aws/s3-incident-store.js";
import { FileEvidenceStore } from "./local/file-evidence-store.js";
import { FileIncidentStore } from "./local/file-incident-store.js";

export const DEFAULT_INCIDENT_DIR = ".leak-responder";

export interface Stores {
  incidents: IncidentStore;
  evidence: EvidenceStore;
  /** Where they are, for messages: `s3://bucket` or the folder. */
  where: string;
}

/** INCIDENT_BUCKET, else INCIDENT_DIR, else `.leak-responder` (the CLI's local default). */
export function storeFromEnv(env: Env): RespondConfig["store"] {
  const bucket = env.INCIDENT_BUCKET?.trim();
  if (bucket) return { kind: "s3", bucket, evidenceRetentionDays: evidenceRetentionDays(env) };
  return { kind: "file", dir: env.INCIDENT_DIR?.trim() || DEFAULT_INCIDENT_DIR };
}

export function createStores(
  store: RespondConfig["store"],
  region: string,
  maxAttempts = 5,
  callTimeoutMs?: number,
): Stores {
  if (store.kind === "s3") {
    const s3 = new S3Client({ region, maxAttempts, requestHandler: awsRequestHandler(callTimeoutMs) });
    return {
      incidents: new S3IncidentStore(s3, store.bucket),
      evidence: new S3EvidenceStore(s3, store.bucket, store),
      where: `s3://${store.bucket}`,
    };
  }
  return {
    incidents: new FileIncidentStore(store.dir),
    evidence: new FileEvidenceStore(store.dir),
    where: store.dir,
  };
}
