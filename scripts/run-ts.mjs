// Runs a TypeScript entry point: bundles it with esbuild (dependencies stay external, source maps on)
// into .build/ and imports it. Used by bin/leak-responder.mjs and `npm run bench`, so a fresh clone
// needs nothing but `npm ci`.
import { mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A file in the project's build folder (.build/, ignored by git). */
export function buildPath(name) {
  return join(root, ".build", name);
}

/** Bundles a TypeScript entry point for Node (dependencies external) to `outfile`. */
export async function bundleTs(entry, outfile) {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [resolve(root, entry)],
    outfile,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node22",
    sourcemap: "inline",
    logLevel: "warning",
  });
}

export async function runTs(entry, argv) {
  const outfile = join(root, ".build", `${basename(entry, ".ts")}.mjs`);
  await bundleTs(entry, outfile);
  process.setSourceMapsEnabled?.(true);
  const module = await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
  const code = await module.main(argv);
  if (typeof code === "number") process.exitCode = code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [entry, ...argv] = process.argv.slice(2);
  if (!entry) {
    console.error("usage: node scripts/run-ts.mjs ENTRY.ts [args...]");
    process.exit(2);
  }
  await runTs(entry, argv);
}
