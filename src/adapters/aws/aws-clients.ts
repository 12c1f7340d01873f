/**
 * The AWS SDK clients the responder uses, built once per credentials and region and reused (style.md:
 * clients are built once and passed in). Endpoints come from the environment (AWS_ENDPOINT_URL_*),
 * so the same clients reach the local sandbox or AWS. Every client has a connection and a request
 * timeout (request-handler.ts): without one a hung IAM call would hold the function until Lambda
 * kills it, with nothing recorded and nobody told.
 */
import { AccountClient } from "@aws-sdk/client-account";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { IAMClient } from "@aws-sdk/client-iam";
import { awsRequestHandler } from "./request-handler.js";

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface AwsClients {
  /** undefined credentials: the responder's own (the default provider chain). */
  iam(credentials?: TemporaryCredentials): IAMClient;
  cloudTrail(region: string, credentials?: TemporaryCredentials): CloudTrailClient;
  /** Account Management (the account's regions): global, like IAM. */
  account(credentials?: TemporaryCredentials): AccountClient;
}

/** IAM is global: one region for every account. */
export const IAM_REGION = "us-east-1";
/**
 * Account Management is global too: the SDK's endpoint rules sign every call for the partition's
 * global region (account.us-east-1.amazonaws.com), whatever region the client is given.
 */
export const ACCOUNT_REGION = "us-east-1";

export function awsClients(options: { maxAttempts: number; callTimeoutMs?: number }): AwsClients {
  const cache = new Map<string, IAMClient | CloudTrailClient | AccountClient>();
  const requestHandler = awsRequestHandler(options.callTimeoutMs);
  const config = (region: string, credentials?: TemporaryCredentials) => ({
    region,
    maxAttempts: options.maxAttempts,
    requestHandler,
    ...(credentials ? { credentials } : {}),
  });
  function cached<T extends IAMClient | CloudTrailClient | AccountClient>(
    kind: string,
    region: string,
    credentials: TemporaryCredentials | undefined,
    build: () => T,
  ): T {
    const key = `${kind}:${region}:${credentials?.accessKeyId ?? "home"}`;
    let client = cache.get(key) as T | undefined;
    if (!client) {
      client = build();
      cache.set(key, client);
    }
    return client;
  }
  return {
    // Adaptive retries: when many keys of one account leak at once, IAM throttles the account, and
    // the client's own rate limiter slows down to what IAM accepts instead of spending its attempts
    // (and the standard mode's retry quota) on more throttled calls.
    iam: (credentials) =>
      cached(
        "iam",
        IAM_REGION,
        credentials,
        () => new IAMClient({ ...config(IAM_REGION, credentials), retryMode: "adaptive" }),
      ),
    // One attempt: the snapshot paces LookupEvents and backs off itself (facts.md: 2 TPS per region);
    // the SDK's own quick retries would jump that queue and draw more throttling.
    cloudTrail: (region, credentials) =>
      cached(
        "cloudtrail",
        region,
        credentials,
        () => new CloudTrailClient({ ...config(region, credentials), maxAttempts: 1 }),
      ),
    account: (credentials) =>
      cached(
        "account",
        ACCOUNT_REGION,
        credentials,
        () => new AccountClient(config(ACCOUNT_REGION, credentials)),
      ),
  };
}
