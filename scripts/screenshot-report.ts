/**
 * Runs the demo on the embedded sandbox and screenshots the HTML audit report the playbook wrote
 * for its incident with headless Chromium, into docs/report-screenshot.png for the README.
 *   node scripts/screenshot-report.mjs [--out docs/report-screenshot.png] [--height PX | --full-page]
 * By default the picture is the top of the page (the story at a glance: numbers, follow-ups,
 * timeline, activity chart); --full-page takes all of it. Chromium: Debian's `chromium` or CHROMIUM_PATH.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { runDemo } from "../src/cli/demo.js";
import { findChromium, isError, withChromiumPage } from "../src/report/headless-chromium.js";

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: "string", default: join("docs", "report-screenshot.png") },
      "full-page": { type: "boolean", default: false },
      height: { type: "string", default: "2500" },
    },
  });
  const chromium = findChromium();
  if (!chromium)
    throw new Error("Chromium is not installed: apt-get install chromium (or set CHROMIUM_PATH)");
  const dir = await mkdtemp(join(tmpdir(), "leak-responder-report-"));
  try {
    const summary = await runDemo({ reportDir: dir });
    const page = summary.artifacts.find((path) => path.endsWith(".html"));
    if (!page) throw new Error("the demo wrote no HTML report");
    const { png, problems } = await withChromiumPage(
      pathToFileURL(resolve(page)).href,
      async (opened) => ({
        png: await opened.screenshot({ fullPage: values["full-page"] }),
        problems: opened.messages().filter(isError),
      }),
      { executable: chromium, width: 1200, height: Number(values.height), scale: 1 },
    );
    if (problems.length > 0)
      throw new Error(`the report logged errors: ${problems.map((p) => p.text).join("; ")}`);
    const out = resolve(values.out);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, png);
    console.log(`Wrote ${out} (${png.length} bytes) from ${page}`);
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
