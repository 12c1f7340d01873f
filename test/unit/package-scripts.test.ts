/**
 * Every script in package.json works from a clean clone (issue 12): each command a script runs
 * resolves to a file in the repository, a dependency's bin or another script, and each path it names
 * exists. The scripts are enumerated, so a new script that points at nothing fails here. The cheap
 * one that produces something, `build`, is run for real (test/integration/build-script.test.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
};

/** Commands every machine that runs `npm ci` has without a dependency providing them. */
const SYSTEM_COMMANDS = new Set(["node", "npm", "npx"]);

/** What is wrong with one `&&`-separated step of a script, or nothing. */
function problemsWith(step: string): string[] {
  const [command, ...args] = step.trim().split(/\s+/);
  if (!command) return ["an empty step"];
  const problems: string[] = [];
  if (command === "npm" && args[0] === "run") {
    const target = args[1] ?? "";
    if (!(target in manifest.scripts)) problems.push(`npm run ${target}: no such script`);
    return problems;
  }
  if (!SYSTEM_COMMANDS.has(command) && !existsSync(join(root, "node_modules/.bin", command))) {
    problems.push(`${command}: neither a system command nor a dependency's bin`);
  }
  // Arguments that name a file or folder of the repository (`node scripts/x.mjs`, `vitest run test/unit`).
  for (const arg of args) {
    if (arg.startsWith("-") || arg === ".") continue;
    const looksLikePath = arg.includes("/") || /\.(m?js|cjs|ts|json|ya?ml)$/.test(arg);
    if (looksLikePath && !existsSync(join(root, arg)))
      problems.push(`${arg}: no such file in the repository`);
  }
  return problems;
}

describe("package.json scripts", () => {
  it("has scripts to check", () => {
    expect(Object.keys(manifest.scripts)).toEqual(expect.arrayContaining(["build", "test", "package"]));
  });

  for (const [name, command] of Object.entries(manifest.scripts)) {
    it(`"${name}" runs something that exists in a clean clone: ${command}`, () => {
      const problems = command.split(/&&|\|\|/).flatMap(problemsWith);
      expect(problems).toEqual([]);
    });
  }
});
