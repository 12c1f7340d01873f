/**
 * Bundle size and module init time per Lambda function, built with the same esbuild options as the
 * deployment package (esbuild.config.cjs, which serverless-esbuild also loads), so the numbers are
 * those of what ships (style.md: measure, don't guess). Offline: nothing is fetched, and the child
 * processes get dead AWS endpoints in case a module reaches out while it loads.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import shared from "../esbuild.config.cjs";
import { fakeAccessKeyId } from "../sandbox/fake-ids.js";
import { bytesByPackage } from "./bundle-composition.js";

const root = fileURLToPath(new URL("../", import.meta.url));

/** Packages listed per bundle (`<name>.kb.<package>`): the ones that decide its size. */
const LARGEST_PACKAGES = 8;

/** Fresh processes per measurement; the median ignores the odd slow start. */
const RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  const lower = sorted[mid - 1] ?? upper;
  return sorted.length % 2 === 0 ? (lower + upper) / 2 : upper;
}

/**
 * What Lambda gives the module: the deployed NODE_OPTIONS (source maps are parsed at load, so they
 * count), a region and credentials so SDK clients can be built, and endpoints nobody listens on.
 * Secrets are given as values, not as `*_SSM_PARAMETER` names: the SSM round trip at cold start is
 * network time, not module init, and would need AWS.
 */
function childEnv(sourceMaps: boolean): NodeJS.ProcessEnv {
  const dead = "http://127.0.0.1:9";
  return {
    PATH: process.env.PATH,
    ...(sourceMaps ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: fakeAccessKeyId(),
    AWS_SECRET_ACCESS_KEY: "bench-not-a-secret",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL: dead,
    ALERT_QUEUE_URL: `${dead}/000000000000/bench`,
    INCIDENT_BUCKET: "bench",
    GITHUB_WEBHOOK_SECRET: "bench-webhook-secret",
    GITHUB_TOKEN: "bench-github-token",
    MEMBER_ROLE_NAME: "LeakResponderMember",
    RESPONDER_MODE: "dry-run",
    LOG_LEVEL: "ERROR",
  };
}

/** Wall-clock milliseconds of one `node` process running `args`. */
function timeNode(args: string[], sourceMaps: boolean): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env: childEnv(sourceMaps), encoding: "utf8" });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`node ${args.join(" ")} exited with ${result.status}: ${result.stderr.slice(0, 2000)}`);
  }
  return elapsed;
}

function medianNodeMs(args: string[], sourceMaps: boolean): number {
  timeNode(args, sourceMaps); // warm the file system cache; not counted
  return median(Array.from({ length: RUNS }, () => timeNode(args, sourceMaps)));
}

/**
 * For each function: `<name>.bundleKB` (the .mjs), `<name>.sourceMapKB`, `<name>.initMs` (median
 * time for a fresh `node` to import the bundle, minus a bare `node -e ""`, both with the deployed
 * NODE_OPTIONS=--enable-source-maps) and `<name>.initMsNoSourceMaps` (the same without it: what the
 * readable stack traces cost at each cold start), and `<name>.kb.<package>` for its largest packages.
 */
export async function benchBundles(): Promise<Record<string, number>> {
  const outdir = await mkdtemp(join(tmpdir(), "leak-responder-bundles-"));
  try {
    const results: Record<string, number> = {};
    const bareMs = medianNodeMs(["-e", ""], true);
    const bareNoMapsMs = medianNodeMs(["-e", ""], false);
    for (const [name, entry] of Object.entries(shared.functionEntries)) {
      const built = await build({
        ...shared.esbuildOptions,
        entryPoints: { [name]: resolve(root, entry) },
        outdir,
        outExtension: { ".js": shared.outputFileExtension },
        metafile: true,
        write: true,
      });
      const bundle = join(outdir, `${name}${shared.outputFileExtension}`);
      results[`${name}.bundleKB`] = Math.round((await stat(bundle)).size / 1024);
      const output = Object.values(built.metafile.outputs).find((out) => out.entryPoint);
      for (const [pkg, bytes] of output ? bytesByPackage(output).slice(0, LARGEST_PACKAGES) : [])
        results[`${name}.kb.${pkg}`] = Math.round(bytes / 1024);
      results[`${name}.sourceMapKB`] = Math.round((await stat(`${bundle}.map`)).size / 1024);
      const importArgs = [
        "--input-type=module",
        "-e",
        `await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
      ];
      results[`${name}.initMs`] = Math.round(Math.max(0, medianNodeMs(importArgs, true) - bareMs));
      results[`${name}.initMsNoSourceMaps`] = Math.round(
        Math.max(0, medianNodeMs(importArgs, false) - bareNoMapsMs),
      );
    }
    return results;
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
