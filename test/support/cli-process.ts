/**
 * `leak-responder` as a person runs it: a process of its own, with only the environment the test
 * gives it (no stray AWS profile, no credentials of the machine), stdout and stderr apart.
 *
 * The CLI is bundled once per test file to a file of its own under .build/ (where bin/leak-responder.mjs
 * bundles too, so the packages resolve), not to the shared .build/main.mjs: another test file bundling
 * at the same moment cannot hand this one a half-written file.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleTs } from "../../scripts/run-ts.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Cli {
  run(args: string[], env: Record<string, string>, timeoutMs?: number): Promise<CliRun>;
  remove(): void;
}

export async function buildCli(): Promise<Cli> {
  const outfile = join(root, ".build", `cli-test-${randomBytes(6).toString("hex")}.mjs`);
  await bundleTs("src/cli/main.ts", outfile);
  const script = `const { main } = await import(${JSON.stringify(outfile)}); process.exitCode = await main(process.argv.slice(1));`;
  return {
    run: (args, env, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const child = spawn(process.execPath, ["--input-type=module", "-e", script, ...args], {
          cwd: root,
          // PATH only from this machine: everything else is the test's.
          env: {
            PATH: process.env.PATH ?? "",
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
            ...env,
          },
          timeout: timeoutMs,
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString("utf8");
        });
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString("utf8");
        });
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stdout, stderr, ms: Date.now() - started }));
      }),
    remove: () => rmSync(outfile, { force: true }),
  };
}
