/**
 * `npm run bench [-- SECTION] [--json]`: every performance figure the project claims, measured in one run on
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
  const known = SECTIONS.map(([name]) => name);
  const json = argv.includes("--json");
  const flag = argv.find((arg) => arg.startsWith("--") && arg !== "--json");
  const only = argv.filter((arg) => !arg.startsWith("--"));
  const unknown = only.find((name) => !known.includes(name));
  if (flag || unknown || only.length > 1) {
    const what = flag
      ? `unknown option '${flag}'`
      : unknown
        ? `unknown section '${unknown}'`
        : "name at most one section";
    process.stderr.write(`bench: ${what}. Usage: npm run bench -- [${known.join("|")}] [--json]\n`);
    return 2;
  }
  const results: Record<string, Record<string, number>> = {};
  for (const [name, run] of SECTIONS) {
    if (only[0] && only[0] !== name) continue;
    // Progress goes to stderr, so that with --json stdout carries the JSON document only.
    process.stderr.write(`bench: ${name}...\n`);
    results[name] = await run();
    if (!json) {
      console.log(name);
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
