/**
 * `npm run bench [-- --json]`: every performance figure the project claims, measured in one run on
 * this machine (figures are compared as ratios within the run, never across machines).
 */
import { benchBundles } from "./bundles.js";
import { benchContainment } from "./containment.js";
import { benchIntake } from "./intake.js";
import { benchSnapshot } from "./snapshot.js";
import { benchStorm } from "./storm.js";

const SECTIONS: Array<[string, () => Promise<Record<string, number>>]> = [
  ["intake", benchIntake],
  ["containment", benchContainment],
  ["snapshot", () => benchSnapshot()],
  ["storm", benchStorm],
  ["bundles", benchBundles],
];

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const only = argv.find((arg) => !arg.startsWith("--"));
  const results: Record<string, Record<string, number>> = {};
  for (const [name, run] of SECTIONS) {
    if (only && only !== name) continue;
    if (!json) process.stdout.write(`${name}...\n`);
    results[name] = await run();
    if (!json) {
      for (const [key, value] of Object.entries(results[name] ?? {}))
        console.log(`  ${key.padEnd(44)} ${value}`);
    }
  }
  if (json)
    console.log(
      JSON.stringify({ node: process.version, measuredAt: new Date().toISOString(), results }, null, 2),
    );
  return 0;
}
