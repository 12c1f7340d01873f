/**
 * What a bundle is made of: bytes in the output per package (or per source folder for the project's
 * own code), largest first. The bundle bench prints it and the size test names it when a budget is
 * broken, so "what would have to go" is read from the build, not guessed.
 */
import type { Metafile } from "esbuild";

export function bytesByPackage(bundle: Metafile["outputs"][string]): Array<[string, number]> {
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(bundle.inputs)) {
    const name =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split("/").slice(0, 2).join("/");
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]);
}
