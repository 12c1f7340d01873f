/**
 * A person's `respond` from a laptop acts with that person's AWS credentials. Found missing only
 * inside the playbook, they cost retries, a "NOT contained" incident on disk and an SDK class name;
 * asked for once up front, from the same provider chain the clients use, they cost a sentence.
 */
import { STSClient } from "@aws-sdk/client-sts";
import { ConfigError, errorMessage } from "../domain/errors.js";
import { printable } from "../forensics/printable-text.js";

/**
 * Enough for a profile's SSO token exchange or credential_process; an instance metadata endpoint
 * that is not there gives up by itself after about a second.
 */
const CREDENTIALS_TIMEOUT_MS = 5_000;

/** Every way of handing the AWS SDK credentials that a person at a terminal is likely to use. */
function howToSet(profile: string | undefined): string {
  const login = profile ? `aws sso login --profile ${profile}` : "aws sso login --profile NAME";
  return `Set AWS_PROFILE to a profile that may act for the responder (after \`${login}\` for an SSO profile), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), then run again.`;
}

/**
 * Resolves the credentials of the SDK's default provider chain (environment, profile and SSO,
 * credential_process, container and instance metadata) once, within `timeoutMs`. Throws a
 * ConfigError naming what to set when there are none. The credentials themselves are not kept.
 */
export async function requireAwsCredentials(
  env: Record<string, string | undefined>,
  timeoutMs: number = CREDENTIALS_TIMEOUT_MS,
): Promise<void> {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  const client = new STSClient({ region });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timed-out">((resolve) => {
    timer = setTimeout(() => resolve("timed-out"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([client.config.credentials(), timedOut]);
    if (outcome === "timed-out") {
      throw new ConfigError(
        `no AWS credentials within ${timeoutMs / 1000} s (a profile's SSO login or credential_process did not answer). ${howToSet(env.AWS_PROFILE)}`,
      );
    }
  } catch (error: unknown) {
    if (error instanceof ConfigError) throw error;
    const profile = env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE;
    // The SDK's reason helps when a named profile failed (an expired SSO session, say); without a
    // profile it only says that no provider had any.
    const found = profile
      ? `no AWS credentials from profile "${profile}" (${printable(errorMessage(error), 300)}).`
      : "no AWS credentials found.";
    throw new ConfigError(`${found} ${howToSet(profile)}`);
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}
