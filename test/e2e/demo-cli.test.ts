import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("leak-responder demo, run as a newcomer runs it", () => {
  it("leaves every result on disk in one folder per incident and prints every path, each one opens", async () => {
    const out = mkdtempSync(join(tmpdir(), "demo-cli-"));
    // The demo also keeps its incident in INCIDENT_DIR: here, not in the checkout's .leak-responder.
    const { stdout } = await run(process.execPath, ["bin/leak-responder.mjs", "demo", "--out", out], {
      timeout: 60_000,
      env: { ...process.env, INCIDENT_DIR: out },
    });
    const printed = stdout
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith(out));
    const files = printed.map((path) => relative(out, path));
    // One folder per incident, holding the report, the plan, each Slack message twice, the issue body.
    expect(new Set(files.map((f) => f.split("/")[0])).size).toBe(1);
    const inside = files.map((f) => f.split("/").slice(1).join("/"));
    expect(inside).toEqual(
      expect.arrayContaining([
        "github-issue.md",
        "plan/MIGRATION.md",
        "plan/workflows/deploy.diff",
        "slack/message-1.json",
        "slack/message-1.txt",
        "slack/message-2.json",
        "slack/message-2.txt",
      ]),
    );
    expect(inside.filter((f) => f.startsWith("report/")).map((f) => f.split(".").pop())).toEqual(
      expect.arrayContaining(["html", "json", "md"]),
    );
    for (const path of printed) {
      expect(statSync(path).size, path).toBeGreaterThan(0);
      if (path.endsWith(".json")) expect(() => JSON.parse(readFileSync(path, "utf8")), path).not.toThrow();
    }
    // The rendered Slack message is words, not JSON.
    const slackText = readFileSync(printed.find((p) => p.endsWith("message-1.txt")) ?? "", "utf8");
    expect(slackText.trimStart().startsWith("{")).toBe(false);
  });

  it("leaves the incident where `report` finds it: `report <id>` from a fresh process prints its audit report", async () => {
    const store = mkdtempSync(join(tmpdir(), "demo-store-"));
    // INCIDENT_DIR is the local store both commands read (default .leak-responder); a bucket in the
    // caller's environment must not send the demo's copy, or the report's read, anywhere else.
    const env = { ...process.env, INCIDENT_DIR: store, INCIDENT_BUCKET: "" };
    const demoArgs = ["bin/leak-responder.mjs", "demo", "--out", join(store, "demo")];
    const demo = await run(process.execPath, demoArgs, { timeout: 60_000, env });
    const id = demo.stdout.match(/npx leak-responder report (\S+)/)?.[1] ?? "";
    expect(id, demo.stdout).toMatch(/^gh__/);
    const summary = JSON.parse(
      (await run(process.execPath, [...demoArgs, "--json"], { timeout: 60_000, env })).stdout,
    );
    // A second demo replaced its own earlier copy rather than failing on it.
    expect(summary.localIncident).toMatchObject({ folder: join(store, "incidents", id) });
    expect(summary.incidentId).toBe(id);
    expect(summary.verdict).toEqual(expect.any(String));

    // The sandbox and its bucket ended with the demo: a fresh process reads the local store only.
    const md = await run(process.execPath, ["bin/leak-responder.mjs", "report", id], {
      timeout: 60_000,
      env,
    });
    expect(md.stdout).toContain(id);
    expect(md.stdout).toContain(summary.accessKeyId);
    expect(md.stdout).toMatch(/\*\*Verdict\*\* \S/);
    const json = await run(process.execPath, ["bin/leak-responder.mjs", "report", id, "--format", "json"], {
      timeout: 60_000,
      env,
    });
    const report = JSON.parse(json.stdout);
    expect(report.incident).toMatchObject({ id, accessKeyId: summary.accessKeyId, status: "contained" });
    expect(report.findings.verdict).toBe(summary.verdict);
    // The evidence came along byte for byte: every SHA-256 read back matches, nothing is missing.
    expect(report.gaps).toEqual([]);
    const read = report.evidence.files.filter((file: { role: string }) => file.role !== "report");
    expect(read.length).toBeGreaterThan(2);
    for (const file of read) expect(file.verified, file.name).toBe("match");
    // Two demos and two reports, each a process of its own, on a machine others share.
  }, 180_000);

  it("uses only reserved names a reader cannot mistake for a real organisation or bucket", async () => {
    const out = mkdtempSync(join(tmpdir(), "demo-cli-"));
    // The demo also keeps its incident in INCIDENT_DIR: here, not in the checkout's .leak-responder.
    const { stdout } = await run(process.execPath, ["bin/leak-responder.mjs", "demo", "--out", out], {
      timeout: 60_000,
      env: { ...process.env, INCIDENT_DIR: out },
    });
    expect(stdout).toContain("example-org/payments-api");
    const written = stdout
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith(out))
      .map((path) => readFileSync(path, "utf8"));
    for (const text of [stdout, ...written]) expect(text).not.toMatch(/acme|leak-responder-incidents/i);
  });
});
