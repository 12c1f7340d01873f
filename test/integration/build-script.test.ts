/**
 * `npm run build` from a clean clone (issue 12): it builds one ESM bundle per function, with its
 * source map, that Node loads and that exports the Lambda handler.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import shared from "../../esbuild.config.cjs";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
let outdir = "";

afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

describe("npm run build", () => {
  it("writes a loadable bundle and source map for every function", async () => {
    outdir = await mkdtemp(join(tmpdir(), "leak-responder-build-"));
    await run("npm", ["run", "--silent", "build", "--", "--outdir", outdir], { cwd: root, timeout: 120_000 });
    for (const name of Object.keys(shared.functionEntries)) {
      const bundle = join(outdir, "functions", `${name}${shared.outputFileExtension}`);
      expect(existsSync(bundle), `${name} bundle`).toBe(true);
      expect(existsSync(`${bundle}.map`), `${name} source map`).toBe(true);
      const loaded = await run(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(typeof m.handler);`,
        ],
        {
          env: {
            PATH: process.env.PATH,
            AWS_REGION: "eu-west-1",
            AWS_ACCESS_KEY_ID: fakeAccessKeyId(),
            AWS_SECRET_ACCESS_KEY: "build-test-not-a-secret",
            AWS_EC2_METADATA_DISABLED: "true",
            AWS_ENDPOINT_URL: "http://127.0.0.1:9",
            ALERT_QUEUE_URL: "http://127.0.0.1:9/000000000000/alerts",
            GITHUB_WEBHOOK_SECRET: "build-test-webhook-secret",
            GITHUB_TOKEN: "build-test-token",
            INCIDENT_BUCKET: "build-test",
            LOG_LEVEL: "ERROR",
          },
          timeout: 30_000,
        },
      );
      expect(loaded.stdout, `${name} exports a handler`).toBe("function");
    }
  });
});
