/** A file in the project's build folder (.build/, ignored by git). */
export function buildPath(name: string): string;
/** Bundles a TypeScript entry point for Node (dependencies external) to `outfile`. */
export function bundleTs(entry: string, outfile: string): Promise<void>;
/** Bundles `entry` into .build/ and runs its `main(argv)`, setting the exit code it returns. */
export function runTs(entry: string, argv: string[]): Promise<void>;
