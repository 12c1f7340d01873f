/**
 * In AWS the secrets live in SSM Parameter Store (SecureString), never in the function's
 * environment: the environment names the parameter (`NAME_SSM_PARAMETER`) and this resolves it
 * once, at cold start, into `NAME`, so loadConfig sees one shape locally and in AWS.
 */
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { Env } from "../../config.js";
import { ConfigError } from "../../domain/errors.js";
import { awsRequestHandler } from "./request-handler.js";

export const SECRET_VARIABLES = [
  "GITHUB_WEBHOOK_SECRET",
  "GITHUB_WEBHOOK_SECRET_PREVIOUS",
  "GITHUB_APP_PRIVATE_KEY",
  "GITHUB_TOKEN",
  "SLACK_WEBHOOK_URL",
  "SLACK_BOT_TOKEN",
] as const;

const SUFFIX = "_SSM_PARAMETER";

/** Resolves the `*_SSM_PARAMETER` secrets among `only` (all the functions' secrets by default). */
export async function withSsmSecrets(
  env: Env,
  provider?: SSMProvider,
  only: readonly (typeof SECRET_VARIABLES)[number][] = SECRET_VARIABLES,
): Promise<Env> {
  const wanted = new Map<string, string>();
  for (const name of only) {
    const parameter = env[`${name}${SUFFIX}`]?.trim();
    if (parameter) wanted.set(name, parameter);
  }
  if (wanted.size === 0) return env;
  // Cold start: a hung SSM must fail the start (and be retried) rather than eat the function's timeout.
  const ssm =
    provider ?? new SSMProvider({ awsSdkV3Client: new SSMClient({ requestHandler: awsRequestHandler() }) });
  const names = Object.fromEntries([...wanted.values()].map((parameter) => [parameter, {}]));
  const found = (await ssm.getParametersByName(names, { decrypt: true, throwOnError: false })) as Record<
    string,
    unknown
  > & { _errors?: string[] };
  const resolved: Record<string, string | undefined> = { ...env };
  for (const [name, parameter] of wanted) {
    const value = found[parameter];
    if (typeof value !== "string" || value.length === 0) {
      throw new ConfigError(
        `${name}${SUFFIX} names ${parameter}, which SSM did not return (missing, or no access)`,
      );
    }
    resolved[name] = value;
  }
  return resolved;
}
