#!/usr/bin/env node
// The `leak-responder` command: builds the TypeScript CLI on the fly (esbuild, well under a second)
// and runs it, so `npx leak-responder ...` works in a clone right after `npm ci`.
import { runTs } from "../scripts/run-ts.mjs";

// Local runs are on Node 20 on purpose (facts.md: the lockfile keeps SDK versions that install
// there; Lambda runs nodejs22.x). The SDK's Node-version notice would drown the output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

await runTs("src/cli/main.ts", process.argv.slice(2));
