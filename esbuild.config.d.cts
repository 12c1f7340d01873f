// Types for esbuild.config.cjs, which stays CommonJS because serverless-esbuild `require`s it.
import type { BuildOptions } from "esbuild";

interface SharedBuildConfig {
  (): BuildOptions & Record<string, unknown>;
  readonly esbuildOptions: Readonly<BuildOptions>;
  readonly functionEntries: Readonly<Record<"intake" | "contain" | "investigate" | "notify", string>>;
  readonly outputFileExtension: ".mjs";
}

declare const config: SharedBuildConfig;
export = config;
