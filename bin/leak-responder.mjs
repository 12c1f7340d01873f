#!/usr/bin/env node
// The `leak-responder` command: builds the TypeScript CLI on the fly (esbuild, well under a second)
// and runs it, so `npx leak-responder ...` works in a clone right after `npm ci`.
import { runTs } from "../scripts/run-ts.mjs";

await runTs("src/cli/main.ts", process.argv.slice(2));
