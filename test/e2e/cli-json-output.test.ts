/**
 * Issue 12: every command with a JSON output leaves stdout to the JSON alone, so it can be piped
 * to jq; progress, notes for a person and warnings go to stderr. The long runs (a storm, reading a
 * repository's workflows from GitHub) say how far they are on stderr. Each runs as its own process.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox/index.js";
import { type DemoWorld, seedDemoWorld } from "../../sandbox/scenario.js";
import type { Sandbox } from "../../sandbox/server.js";
import { asJsonLines } from "../fixtures/trails/formats.js";
import { attackerStory } from "../fixtures/trails/stories.js";
import { buildCli, type Cli } from "../support/cli-process.js";

let cli: Cli;
let sandbox: Sandbox;
let world: DemoWorld;
let home: string;

beforeAll(async () => {
  cli = await buildCli();
  sandbox = await startSandbox();
  world = seedDemoWorld(sandbox);
  home = mkdtempSync(join(tmpdir(), "cli-json-"));
});
afterAll(async () => {
  cli?.remove();
  await sandbox?.stop();
});

function parsesAsJson(stdout: string): unknown {
  expect(stdout.trim().startsWith("{")).toBe(true);
  return JSON.parse(stdout);
}

describe("--json: stdout is the JSON alone", () => {
  it("analyze --json", async () => {
    const events = join(home, "trail.jsonl");
    writeFileSync(events, asJsonLines(attackerStory().records));
    const run = await cli.run(["analyze", "--events", events, "--offline", "--json"], { HOME: home });
    expect(run.status).toBe(0);
    expect(parsesAsJson(run.stdout)).toHaveProperty("verdict");
  });

  it("plan --json, offline", async () => {
    const run = await cli.run(
      [
        "plan",
        "--repo",
        "acme/api",
        "--workflows",
        "test/fixtures/workflows",
        "--account",
        "123456789012",
        "--out",
        join(home, "plan-offline"),
        "--json",
      ],
      { HOME: home },
    );
    expect(run.status).toBe(0);
    expect(parsesAsJson(run.stdout)).toHaveProperty("summary");
  });

  it("plan --json, from GitHub: progress on stderr while the workflows are read", async () => {
    const run = await cli.run(
      [
        "plan",
        "--repo",
        world.repository,
        "--installation-id",
        String(world.installationId),
        "--out",
        join(home, "plan-online"),
        "--json",
      ],
      {
        HOME: home,
        GITHUB_API_URL: sandbox.githubUrl,
        GITHUB_APP_ID: String(world.app.appId),
        GITHUB_APP_PRIVATE_KEY: world.app.privateKeyPem,
      },
    );
    expect(run.status).toBe(0);
    expect(parsesAsJson(run.stdout)).toHaveProperty("summary");
    expect(run.stderr).toContain(`Reading ${world.repository}'s workflows from GitHub`);
    expect(run.stderr).toMatch(/Read \d+ workflow file/);
  });

  it("report --since --format json", async () => {
    const run = await cli.run(["report", "--since", "30d", "--format", "json"], {
      HOME: home,
      INCIDENT_DIR: join(home, "incidents"),
    });
    expect(run.status).toBe(0);
    parsesAsJson(run.stdout);
    expect(run.stderr).toMatch(/Read 0 incident/);
  });

  it("storm --json: progress lines on stderr", async () => {
    const run = await cli.run(
      ["storm", "--alerts", "2", "--accounts", "2", "--json"],
      { HOME: home },
      90_000,
    );
    expect(run.status).toBe(0);
    expect(parsesAsJson(run.stdout)).toMatchObject({ alerts: 2, contained: 2 });
    expect(run.stderr).toMatch(/storm: 2 alerts in 2 accounts/);
    expect(run.stderr).toMatch(/storm: \d+\/\d+ deliveries sent/);
  }, 120_000);
});

describe("plan from GitHub when GitHub cannot be reached", () => {
  it("says it could not reach the API host, not 500", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const port = typeof address === "object" && address ? address.port : 0;
    const run = await cli.run(
      ["plan", "--repo", "acme/api", "--json"],
      { HOME: home, GITHUB_API_URL: `http://127.0.0.1:${port}`, GITHUB_TOKEN: "not-a-token" },
      60_000,
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`could not reach 127.0.0.1:${port}: connection refused`);
    expect(run.stderr).not.toMatch(/\b500\b|did not answer properly/);
  }, 60_000);
});
