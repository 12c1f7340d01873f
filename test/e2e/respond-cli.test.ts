/**
 * Issue 12: `leak-responder respond` as a person runs it from a laptop, in a process of its own.
 * Without AWS credentials it says so at once; a dry run says what it would do; an endpoint it cannot
 * reach is named as such; `--json` leaves stdout to the JSON alone.
 */
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeAccessKeyId, fakeAccountId, fakeSecretAccessKey } from "../../sandbox/fake-ids.js";
import { startSandbox } from "../../sandbox/index.js";
import { type DemoWorld, demoEnv, seedDemoWorld } from "../../sandbox/scenario.js";
import type { Sandbox } from "../../sandbox/server.js";
import { buildCli, type Cli } from "../support/cli-process.js";

/** Names from inside the program a person should never have to read. */
const INTERNAL_NAMES =
  /\b(Error|TypeError|CredentialsProviderError|TransientFailure|PermanentFailure)\b|HTTP 500/;

let cli: Cli;
let sandbox: Sandbox;
let world: DemoWorld;

beforeAll(async () => {
  cli = await buildCli();
  sandbox = await startSandbox();
  world = seedDemoWorld(sandbox);
});
afterAll(async () => {
  cli?.remove();
  await sandbox?.stop();
});

/** A laptop with nothing configured: no profile, no credential files, no keys in the environment. */
function bareLaptop(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), "respond-cli-home-"));
  return {
    HOME: home,
    AWS_CONFIG_FILE: join(home, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(home, "no-credentials"),
    // A laptop has no instance metadata; a CI runner on EC2 would, and would lend the test its role.
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_REGION: "us-east-1",
    INCIDENT_DIR: join(home, "incidents"),
    MANAGED_ACCOUNT_IDS: fakeAccountId(),
    ...extra,
  };
}

/** The sandbox's world, with incidents on this machine's disk. */
function sandboxLaptop(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), "respond-cli-home-"));
  const { INCIDENT_BUCKET: _bucket, ...env } = demoEnv(sandbox, world, extra);
  return {
    ...env,
    HOME: home,
    AWS_CONFIG_FILE: join(home, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(home, "no-credentials"),
    INCIDENT_DIR: join(home, "incidents"),
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

describe("leak-responder respond without AWS credentials", () => {
  it.each([[[]], [["--json"]], [["--dry-run"]]])(
    "%j: says at once what to set, exit 1, and records no incident",
    async (flags) => {
      const env = bareLaptop();
      const run = await cli.run(["respond", "--key", fakeAccessKeyId(), ...flags], env);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/no AWS credentials/i);
      for (const what of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "aws sso login"])
        expect(run.stderr).toContain(what);
      expect(run.stderr).not.toMatch(INTERNAL_NAMES);
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/NOT contained/);
      expect(run.stdout).toBe("");
      expect(existsSync(env.INCIDENT_DIR ?? "") ? readdirSync(env.INCIDENT_DIR ?? "") : []).toEqual([]);
    },
  );

  it("names the profile that gave none when AWS_PROFILE is set", async () => {
    const run = await cli.run(
      ["respond", "--key", fakeAccessKeyId()],
      bareLaptop({ AWS_PROFILE: "security-oncall" }),
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('"security-oncall"');
    expect(run.stderr).toContain("aws sso login --profile security-oncall");
  });
});

describe("leak-responder respond when an endpoint cannot be reached", () => {
  it("says it could not reach the AWS endpoint: connection refused", async () => {
    const port = await closedPort();
    const run = await cli.run(
      ["respond", "--key", fakeAccessKeyId()],
      bareLaptop({
        AWS_ACCESS_KEY_ID: fakeAccessKeyId(),
        AWS_SECRET_ACCESS_KEY: fakeSecretAccessKey(),
        AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`could not reach 127.0.0.1:${port}: connection refused`);
    expect(run.stdout).not.toMatch(INTERNAL_NAMES);
    expect(run.stdout).not.toMatch(/ECONNREFUSED/);
  });

  it("says it could not reach a host that does not resolve", async () => {
    const run = await cli.run(
      ["respond", "--key", fakeAccessKeyId()],
      bareLaptop({
        AWS_ACCESS_KEY_ID: fakeAccessKeyId(),
        AWS_SECRET_ACCESS_KEY: fakeSecretAccessKey(),
        AWS_ENDPOINT_URL: "http://aws.nowhere.invalid",
      }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/could not reach aws\.nowhere\.invalid: no such host/);
    expect(run.stdout).not.toMatch(INTERNAL_NAMES);
  });
});

describe("leak-responder respond --dry-run", () => {
  it("says what it would do, exit 0", async () => {
    const key = world.leaked.key.accessKeyId;
    const run = await cli.run(["respond", "--dry-run", "--key", key], sandboxLaptop());
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`would deactivate ${key}`);
    expect(run.stdout).toContain(world.leaked.accountId);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/NOT contained|FAILED/);
    expect(sandbox.state.findAccessKey(key)?.key.status).toBe("Active");
  });

  it("a protected user: says it would not deactivate, exit 0", async () => {
    const key = world.leaked.key.accessKeyId;
    const run = await cli.run(
      ["respond", "--dry-run", "--key", key],
      sandboxLaptop({ PROTECTED_USERS: world.leaked.userName }),
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/would NOT deactivate/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/NOT contained|is still ACTIVE/);
  });

  it("a member role it cannot assume: says the dry run could not tell, never NOT contained", async () => {
    const key = world.leaked.key.accessKeyId;
    const run = await cli.run(
      ["respond", "--dry-run", "--key", key],
      sandboxLaptop({ MEMBER_ROLE_NAME: "NoSuchRole" }),
    );
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/NOT contained/);
    expect(run.stdout).toMatch(/Dry run: could not tell what would be done/);
    expect(run.status).toBe(1);
  });

  it("--json: stdout is the JSON alone, progress and log lines go to stderr", async () => {
    const key = world.leaked.key.accessKeyId;
    const run = await cli.run(["respond", "--dry-run", "--json", "--key", key], sandboxLaptop());
    expect(run.status).toBe(0);
    const incident = JSON.parse(run.stdout) as { status: string; summary: string };
    expect(incident.status).toBe("dry-run");
    expect(incident.summary).toContain(`would deactivate ${key}`);
    expect(run.stderr).toContain("dry run finished");
  });
});

describe("leak-responder respond --json, for real", () => {
  it("contains the key; stdout is the incident's JSON alone", async () => {
    const key = world.leaked.key.accessKeyId;
    const run = await cli.run(["respond", "--json", "--key", key], sandboxLaptop(), 60_000);
    expect(run.status).toBe(0);
    const incident = JSON.parse(run.stdout) as { status: string };
    expect(incident.status).toMatch(/^contained/);
    expect(sandbox.state.findAccessKey(key)?.key.status).toBe("Inactive");
    expect(run.stderr).toContain("incident recorded");
  });
});
