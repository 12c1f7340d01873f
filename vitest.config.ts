import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one worker per core minus one: a single worker on CI's 2 cores. The long
    // end-to-end files (storm, fault matrix, crash resume) spend much of their time waiting on paced
    // services, so two forks overlap them without starving either.
    maxWorkers: 2,
    allowOnly: false,
    // Local runs are on Node 20 (facts.md); the SDK's notice about Node 22 would drown test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
