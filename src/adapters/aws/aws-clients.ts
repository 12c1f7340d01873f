/**
 * The AWS SDK clients the responder uses, built once per credentials and region and reused (style.md:
 * clients are built once and passed in). Endpoints come from the environment (AWS_ENDPOINT_URL_*),
 * so the same clients reach the local sandbox or AWS.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";

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
  ec2(region: string, credentials?: TemporaryCredentials): EC2Client;
}

/** IAM is global: one region for every account. */
export const IAM_REGION = "us-east-1";

export function awsClients(options: { maxAttempts: number }): AwsClients {
  const cache = new Map<string, IAMClient | CloudTrailClient | EC2Client>();
  const config = (region: string, credentials?: TemporaryCredentials) => ({
    region,
    maxAttempts: options.maxAttempts,
    ...(credentials ? { credentials } : {}),
  });
  function cached<T extends IAMClient | CloudTrailClient | EC2Client>(
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
    iam: (credentials) =>
      cached("iam", IAM_REGION, credentials, () => new IAMClient(config(IAM_REGION, credentials))),
    // One attempt: the snapshot paces LookupEvents and backs off itself (facts.md: 2 TPS per region);
    // the SDK's own quick retries would jump that queue and draw more throttling.
    cloudTrail: (region, credentials) =>
      cached(
        "cloudtrail",
        region,
        credentials,
        () => new CloudTrailClient({ ...config(region, credentials), maxAttempts: 1 }),
      ),
    ec2: (region, credentials) =>
      cached("ec2", region, credentials, () => new EC2Client(config(region, credentials))),
  };
}
