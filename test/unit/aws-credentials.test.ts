/**
 * Issue 12: `respond` asks the SDK's provider chain for credentials once, up front, and gives up
 * after a short time: a profile whose credential_process (or SSO exchange) hangs must not hold a
 * person at 2 AM for minutes before they learn what to fix.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeAccessKeyId, fakeSecretAccessKey } from "../../sandbox/fake-ids.js";
import { requireAwsCredentials } from "../../src/cli/aws-credentials.js";
import { ConfigError } from "../../src/domain/errors.js";

const NAMES = [
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
];
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
  for (const name of NAMES) delete process.env[name];
});
afterEach(() => {
  for (const name of NAMES) {
    const value = saved[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function profileThatHangs(): void {
  const dir = mkdtempSync(join(tmpdir(), "aws-credentials-"));
  const config = join(dir, "config");
  writeFileSync(config, "[profile hangs]\ncredential_process = sleep 30\n");
  process.env.AWS_CONFIG_FILE = config;
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, "none");
  process.env.AWS_PROFILE = "hangs";
}

describe("requireAwsCredentials", () => {
  it("gives up on a profile that does not answer within the time limit, naming what to set", async () => {
    profileThatHangs();
    const started = Date.now();
    const outcome = await requireAwsCredentials(process.env, 300).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(outcome).toBeInstanceOf(ConfigError);
    expect(String((outcome as Error).message)).toMatch(/within 0\.3 s/);
    expect(String((outcome as Error).message)).toContain("aws sso login --profile hangs");
  });

  it("passes credentials from the environment without a call", async () => {
    process.env.AWS_ACCESS_KEY_ID = fakeAccessKeyId();
    process.env.AWS_SECRET_ACCESS_KEY = fakeSecretAccessKey();
    await expect(requireAwsCredentials(process.env, 300)).resolves.toBeUndefined();
  });
});
