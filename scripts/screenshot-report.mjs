// Runs the demo on the embedded sandbox, renders the HTML audit report of its incident and takes a
// screenshot of it with headless Chromium into docs/report-screenshot.png, for the README.
//   node scripts/screenshot-report.mjs [--out docs/report-screenshot.png] [--html FILE] [--height PX | --full-page]
// By default the picture is the top of the page (the story at a glance: numbers, follow-ups,
// timeline, activity chart); --full-page takes all of it.
// Chromium: Debian's `chromium` (apt-get install chromium) or CHROMIUM_PATH.
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// The TypeScript side, bundled like scripts/run-ts.mjs does for the CLI: the demo's stack is read
// through the responder's own stores just before the demo shuts the sandbox down.
const entry = `
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runDemo } from "./src/cli/demo.js";
import { findChromium, isError, withChromiumPage } from "./src/report/headless-chromium.js";
import { renderHtml } from "./src/report/html.js";
import { loadReportInput } from "./src/report/load-report.js";
import { buildReport } from "./src/report/report-model.js";

export async function screenshotDemoReport(options) {
  const chromium = findChromium();
  if (!chromium) throw new Error("Chromium is not installed: apt-get install chromium (or set CHROMIUM_PATH)");
  let html;
  await runDemo({
    beforeDelivery: (stack) => {
      const stop = stack.sandbox.stop.bind(stack.sandbox);
      stack.sandbox.stop = async () => {
        const incidentId = stack.results.at(-1)?.incident.id;
        const evidence = stack.deps.investigation?.evidence;
        if (incidentId && evidence) {
          const input = await loadReportInput({ incidents: stack.deps.incidents, evidence }, incidentId);
          html = renderHtml(buildReport({ ...input, generatedAt: new Date().toISOString() }));
        }
        return stop();
      };
    },
  });
  if (!html) throw new Error("the demo produced no incident");
  const dir = await mkdtemp(join(tmpdir(), "leak-responder-report-"));
  try {
    const page = options.html ?? join(dir, "report.html");
    await writeFile(page, html);
    const { png, problems } = await withChromiumPage(
      pathToFileURL(page).href,
      async (opened) => ({
        png: await opened.screenshot({ fullPage: options.fullPage }),
        problems: opened.messages().filter(isError),
      }),
      { executable: chromium, width: 1200, height: options.height, scale: 1 },
    );
    if (problems.length > 0) throw new Error("the report logged errors: " + problems.map((p) => p.text).join("; "));
    await writeFile(options.out, png);
    return { bytes: png.length, htmlBytes: Buffer.byteLength(html) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
`;

const { values } = parseArgs({
  options: {
    out: { type: "string", default: join(root, "docs", "report-screenshot.png") },
    html: { type: "string" },
    "full-page": { type: "boolean", default: false },
    height: { type: "string", default: "2500" },
  },
});
const outfile = join(root, ".build", "screenshot-report.mjs");
mkdirSync(dirname(outfile), { recursive: true });
await build({
  stdin: { contents: entry, resolveDir: root, loader: "ts", sourcefile: "screenshot-report-entry.ts" },
  outfile,
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "inline",
  logLevel: "warning",
});
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const { screenshotDemoReport } = await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
const out = resolve(values.out);
mkdirSync(dirname(out), { recursive: true });
const result = await screenshotDemoReport({
  out,
  fullPage: values["full-page"],
  height: Number(values.height),
  ...(values.html ? { html: resolve(values.html) } : {}),
});
console.log(`Wrote ${out} (${result.bytes} bytes) from a ${result.htmlBytes}-byte HTML report`);
