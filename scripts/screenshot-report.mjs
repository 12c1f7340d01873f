// Screenshots the demo's HTML audit report for the README (see scripts/screenshot-report.ts).
//   node scripts/screenshot-report.mjs [--out docs/report-screenshot.png] [--height PX | --full-page]
import { runTs } from "./run-ts.mjs";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
await runTs("scripts/screenshot-report.ts", process.argv.slice(2));
