import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("leak-responder serve on a port that is taken", () => {
  it("--sandbox: exits 1 at once, saying the port is in use", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    const started = Date.now();
    try {
      const outcome = await run(
        process.execPath,
        ["bin/leak-responder.mjs", "serve", "--port", String(port), "--sandbox"],
        {
          env: { ...process.env, GITHUB_WEBHOOK_SECRET: "a-test-secret-for-this-run-only" },
          timeout: 20_000,
        },
      ).then(
        () => ({ code: 0, stderr: "", killed: false }),
        (error: { code?: number; stderr?: string; killed?: boolean }) => ({
          code: error.code,
          stderr: error.stderr ?? "",
          killed: error.killed ?? false,
        }),
      );
      expect(outcome.killed).toBe(false);
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain(`port ${port} is already in use`);
      expect(outcome.stderr).not.toMatch(/EADDRINUSE/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      taken.close();
    }
  });
});
