import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { asJsonLines, asLogFile } from "../fixtures/trails/formats.js";
import { attackerStory, ciOnlyStory } from "../fixtures/trails/stories.js";

let dir: string;
const story = attackerStory();
const files = { log: "", ranges: "", gz: "", broken: "", ci: "" };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "analyze-cli-"));
  files.log = join(dir, "trail.json");
  files.ranges = join(dir, "meta.json");
  files.gz = join(dir, "trail.jsonl.gz");
  files.broken = join(dir, "broken.json");
  files.ci = join(dir, "ci.json");
  await writeFile(files.log, asLogFile(story.records));
  await writeFile(files.ranges, JSON.stringify({ actions: story.cast.runnerCidrs }));
  await writeFile(files.gz, gzipSync(asJsonLines(story.records)));
  await writeFile(files.broken, asLogFile(story.records).slice(0, 500));
  await writeFile(
    files.ci,
    asLogFile(ciOnlyStory({ cast: { accessKeyId: story.cast.accessKeyId } }).records),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" ")));
  const code = await main(["analyze", ...argv]);
  vi.restoreAllMocks();
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("leak-responder analyze", () => {
  it("prints the verdict and its reasons first, then signals, addresses with GitHub Actions yes/no, regions", async () => {
    const { code, stdout, stderr } = await run(
      "--events",
      files.log,
      "--leaked-at",
      story.leakedAt,
      "--contained-at",
      story.containedAt,
      "--ranges",
      files.ranges,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toBe("VERDICT: COMPROMISED");
    expect(lines[1]).toMatch(/^Compromised: 203\.0\.113\.45/);
    expect(stdout).toMatch(/ {4}iam:CreateUser +1 succeeded/);
    expect(stdout).toMatch(/203\.0\.113\.45 +GitHub Actions: no/);
    expect(stdout).toMatch(/198\.51\.100\.23 +GitHub Actions: yes/);
    expect(stdout).toMatch(/sa-east-1 \(\d+, new since the leak\)/);
    expect(stdout.indexOf("Why:")).toBeLessThan(stdout.indexOf("Signals after the leak:"));
  });

  it("prints the findings as JSON with --json, and reads gzipped JSON lines", async () => {
    const { code, stdout } = await run(
      "--events",
      files.gz,
      "--leaked-at",
      story.leakedAt,
      "--ranges",
      files.ranges,
      "--json",
    );
    expect(code).toBe(0);
    const findings = JSON.parse(stdout);
    expect(findings.verdict).toBe("compromised");
    expect(findings.signals.persistence.map((s: { id: string }) => s.id)).toContain("iam:CreateUser");
  });

  it("says 'unknown', never 'no', for addresses when the ranges were not fetched", async () => {
    const { code, stdout } = await run("--events", files.ci, "--leaked-at", story.leakedAt, "--offline");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^VERDICT: SUSPICIOUS/);
    expect(stdout).toMatch(/GitHub Actions: unknown/);
    expect(stdout).not.toMatch(/GitHub Actions: no/);
    expect(stdout).toMatch(/GitHub Actions ranges unavailable \(--offline/);
  });

  it.each([
    [
      ["--events", "/nonexistent/trail.json"],
      /^leak-responder analyze: cannot read --events \/nonexistent\/trail\.json/,
    ],
    [["--leaked-at", "2026-11-02T09:00:00Z"], /--events FILE is required/],
    [["--events", "EVENTS", "--leaked-at", "yesterday"], /--leaked-at must be an ISO 8601 time with a zone/],
    [
      ["--events", "EVENTS", "--leaked-at", "2026-11-02T09:00"],
      /--leaked-at must be an ISO 8601 time with a zone/,
    ],
    [["--events", "BROKEN"], /broken\.json: Not a CloudTrail export/],
    [["--events", "EVENTS", "--key", "not-a-key"], /--key must be an access key id/],
    [["--events", "EVENTS", "--ranges", "/nonexistent/meta.json"], /--ranges: no offline copy/],
    [
      ["--events", "EVENTS", "--max-mb", "0.001"],
      /trail\.json is larger than the 1 KB limit \(raise it with --max-mb\)/,
    ],
    [["--events", "EVENTS", "--frobnicate"], /Unknown option '--frobnicate'/],
  ])("fails with one clear line and exit code 2: %j", async (argv, message) => {
    const args = argv.map((arg) => (arg === "EVENTS" ? files.log : arg === "BROKEN" ? files.broken : arg));
    const { code, stdout, stderr } = await run(...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it.each([
    ["an empty file", ""],
    ["a JSON document that is not CloudTrail", JSON.stringify({ name: "package", version: "1.0.0" })],
    ["a JSON array of things that are not records", JSON.stringify([1, 2, { hello: "world" }])],
  ])("refuses %s instead of saying the key was not used", async (_what, content) => {
    const path = join(dir, `not-a-trail-${content.length}.json`);
    await writeFile(path, content);
    const { code, stdout, stderr } = await run("--events", path, "--offline");
    expect(code).toBe(2);
    expect(stdout).not.toMatch(/not used/i);
    expect(stderr).toMatch(/not a CloudTrail export/i);
  });

  it("is listed in the usage", async () => {
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" ")));
    await main(["--help"]);
    expect(out.join("\n")).toMatch(/ {2}analyze {4}judge a CloudTrail export/);
  });
});
