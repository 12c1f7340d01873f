// `npm run build`: the Lambda bundles, built exactly as `osls package` builds them (the shared options of
// esbuild.config.cjs, one minified ESM bundle per function with its source map) into dist/functions/,
// without packaging or a Serverless service. For looking at what ships; the deploy packages with osls.
// `npm run build -- --outdir DIR` writes elsewhere.
import { statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import shared from "../esbuild.config.cjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { outdir: { type: "string" } } });
const outdir = resolve(root, values.outdir ?? "dist");

await rm(join(outdir, "functions"), { recursive: true, force: true });
for (const [name, entry] of Object.entries(shared.functionEntries)) {
  const outfile = join(outdir, "functions", `${name}${shared.outputFileExtension}`);
  await build({
    ...shared.esbuildOptions,
    banner: { ...shared.esbuildOptions.banner },
    mainFields: [...shared.esbuildOptions.mainFields],
    define: { ...shared.esbuildOptions.define },
    entryPoints: [join(root, entry)],
    outfile,
  });
  const kb = Math.round(statSync(outfile).size / 1024);
  console.log(`${name}: ${relative(process.cwd(), outfile)} (${kb} KB)`);
}
