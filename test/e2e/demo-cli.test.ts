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
    const { stdout } = await run(process.execPath, ["bin/leak-responder.mjs", "demo", "--out", out], {
      timeout: 60_000,
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

  it("uses only reserved names a reader cannot mistake for a real organisation or bucket", async () => {
    const out = mkdtempSync(join(tmpdir(), "demo-cli-"));
    const { stdout } = await run(process.execPath, ["bin/leak-responder.mjs", "demo", "--out", out], {
      timeout: 60_000,
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
