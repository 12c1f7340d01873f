/**
 * Issue 13: the intake answers GitHub within its 10 s, and every cold start loads and evaluates the
 * whole bundle first. The budget is 458 KB (facts.md: SQS SendMessage + an HMAC check), built with
 * the options that ship (esbuild.config.cjs), as `npm run bench -- bundles` builds it.
 * Everything counts, the SSM client for the cold-start secret read included: the budget holds with
 * zod's small build (src/domain/validation.ts), node:crypto for the HMAC, and the environment-only
 * credential provider Lambda needs (src/adapters/aws/lambda-credentials.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { bytesByPackage } from "../../bench/bundle-composition.js";
import shared from "../../esbuild.config.cjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

const INTAKE_BUDGET_BYTES = 458_000;

async function buildIntake(): Promise<Metafile["outputs"][string]> {
  const outdir = await mkdtemp(join(tmpdir(), "leak-responder-bundle-size-"));
  try {
    const result = await build({
      ...shared.esbuildOptions,
      entryPoints: { intake: resolve(root, shared.functionEntries.intake) },
      outdir,
      outExtension: { ".js": shared.outputFileExtension },
      metafile: true,
      write: true,
      logLevel: "silent",
    });
    const bundle = Object.values(result.metafile.outputs).find((output) => output.entryPoint);
    if (!bundle) throw new Error("esbuild wrote no intake bundle");
    return bundle;
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/** The largest packages in the bundle: what a failure should point at. */
function largestInputs(bundle: Metafile["outputs"][string], count: number): string[] {
  return bytesByPackage(bundle)
    .slice(0, count)
    .map(([name, bytes]) => `${name} ${bytes}`);
}

describe("the intake bundle", () => {
  it("fits issue 13's 458 KB budget, as shipped", async () => {
    const bundle = await buildIntake();
    expect(
      bundle.bytes,
      `intake is ${bundle.bytes} bytes; largest: ${largestInputs(bundle, 8).join(", ")}`,
    ).toBeLessThanOrEqual(INTAKE_BUDGET_BYTES);
  });
});
