import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

function bench(...args: string[]) {
  return spawnSync(process.execPath, ["scripts/run-ts.mjs", "bench/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("npm run bench: arguments", () => {
  it("refuses an unknown section with exit 2, naming the sections it knows, and measures nothing", () => {
    const run = bench("nosuch", "--json");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown section 'nosuch'");
    for (const section of ["intake", "containment", "snapshot", "storm", "bundles"])
      expect(run.stderr).toContain(section);
    expect(run.stdout).toBe("");
  });

  it("refuses an unknown flag with exit 2", () => {
    const run = bench("--nope");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown option '--nope'");
    expect(run.stdout).toBe("");
  });
});
