/**
 * `leak-responder analyze --events FILE [--leaked-at ISO] [--contained-at ISO] [--key ID]...
 * [--ranges FILE | --offline] [--json]`: the analysis step for a CloudTrail export a person has in
 * hand (a log file, LookupEvents output, the snapshot's JSON lines; gzip or not). Prints the verdict
 * and its reasons first, then what the signals, addresses and regions show. A bad argument, an
 * unreadable file, or a file with no CloudTrail record in it is one clear line on stderr and exit code 2.
 */
import { readFile, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { isAccessKeyId } from "../domain/access-key.js";
import { errorMessage } from "../domain/errors.js";
import {
  type LoadedActionsRanges,
  loadActionsRanges,
  readActionsRangesFile,
} from "../forensics/actions-ranges.js";
import { analyzeTrail } from "../forensics/analyze.js";
import type { Findings, SignalFinding } from "../forensics/findings.js";
import {
  DEFAULT_MAX_TRAIL_BYTES,
  describeBytes,
  type ParsedTrail,
  parseTrail,
  type TrailFormat,
} from "../forensics/parse-trail.js";
import { printable } from "../forensics/printable-text.js";
import { SIGNAL_CATEGORIES } from "../forensics/signals.js";

const HELP = `usage: leak-responder analyze --events FILE [--leaked-at TIME] [--contained-at TIME]
                              [--key ACCESS_KEY_ID]... [--ranges FILE | --offline] [--json]

Judges a key's CloudTrail history: who used it after the leak, from where (GitHub Actions
runners or not), what they did (recon, credential access, exfiltration, persistence, privilege
escalation, impact, defense evasion), and whether it is compromised.
  --events        a CloudTrail log file ({"Records": [...]}), LookupEvents output
                  ({"Events": [...]}, one page or an array of pages), JSON lines of records,
                  or a JSON array of records; gzip is accepted
  --leaked-at     when the key became public, ISO 8601 with a zone (2026-11-02T09:14:08Z);
                  without it every call counts as after the leak
  --contained-at  when the key was contained (successful calls after it are a red flag)
  --key           only the history of this key (AKIA...) and the credentials it minted;
                  repeat for several keys. Needed for a log file of a whole account.
  --ranges        GitHub Actions ranges from a file (the body of GET https://api.github.com/meta)
  --offline       do not ask GitHub for the ranges (addresses are then "unknown")
  --max-mb        refuse larger inputs (default ${DEFAULT_MAX_TRAIL_BYTES / (1024 * 1024)})
  --json          print the findings as JSON`;

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A problem with what the person typed or gave: one line, exit code 2. */
class UsageProblem extends Error {}

export const analyzeCommand = {
  summary: "judge a CloudTrail export: who used the key, from where, what they did",
  async run(argv: string[]): Promise<number> {
    try {
      return await analyze(argv);
    } catch (error: unknown) {
      if (!(error instanceof UsageProblem)) throw error;
      console.error(`leak-responder analyze: ${error.message}`);
      return 2;
    }
  },
};

async function analyze(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseOptions>["values"];
  try {
    ({ values } = parseOptions(argv));
  } catch (error: unknown) {
    throw new UsageProblem(`${errorMessage(error)} (see --help)`);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.events) throw new UsageProblem("--events FILE is required (a CloudTrail export; see --help)");
  const leakedAt = optionalTime(values["leaked-at"], "--leaked-at");
  const containedAt = optionalTime(values["contained-at"], "--contained-at");
  if (leakedAt && containedAt && Date.parse(containedAt) < Date.parse(leakedAt)) {
    throw new UsageProblem("--contained-at is before --leaked-at");
  }
  const keys = (values.key ?? []).map((key) => key.trim());
  const badKey = keys.find((key) => !isAccessKeyId(key));
  if (badKey !== undefined) {
    throw new UsageProblem(
      `--key must be an access key id (AKIA or ASIA and 16 characters), not "${printable(badKey, 40)}"`,
    );
  }
  if (values.ranges && values.offline) throw new UsageProblem("--ranges and --offline do not go together");
  const maxBytes = maxBytesOption(values["max-mb"]);

  const parsed = await readTrail(values.events, maxBytes);
  const ranges = await rangesFor(values);
  const findings = analyzeTrail(parsed.events, {
    leakedAt,
    containedAt,
    accessKeyIds: keys,
    actionsRanges: ranges.ranges,
    actionsRangesProblem: ranges.available ? undefined : ranges.problem,
  });
  const skipped = describeSkipped(parsed);
  if (skipped) findings.notes.push(skipped);

  if (values.json) console.log(JSON.stringify(findings, null, 2));
  else console.log(formatFindings(findings, { file: values.events, format: parsed.format }));
  return 0;
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      events: { type: "string" },
      "leaked-at": { type: "string" },
      "contained-at": { type: "string" },
      key: { type: "string", multiple: true },
      ranges: { type: "string" },
      offline: { type: "boolean", default: false },
      "max-mb": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}

function optionalTime(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (!ISO_WITH_ZONE.test(value.trim()) || !Number.isFinite(Date.parse(value))) {
    throw new UsageProblem(
      `${name} must be an ISO 8601 time with a zone, e.g. 2026-11-02T09:14:08Z, not "${printable(value, 40)}"`,
    );
  }
  return new Date(Date.parse(value)).toISOString();
}

function maxBytesOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_TRAIL_BYTES;
  const megabytes = Number(value);
  if (!Number.isFinite(megabytes) || megabytes <= 0 || megabytes > 1024) {
    throw new UsageProblem(
      `--max-mb must be a number of megabytes between 0 and 1024, not "${printable(value, 20)}"`,
    );
  }
  return Math.floor(megabytes * 1024 * 1024);
}

async function readTrail(path: string, maxBytes: number): Promise<ParsedTrail> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageProblem(`--events ${path} is not a file`);
    size = info.size;
  } catch (error: unknown) {
    if (error instanceof UsageProblem) throw error;
    throw new UsageProblem(`cannot read --events ${path}: ${errorMessage(error)}`);
  }
  const limit = describeBytes(maxBytes);
  if (size > maxBytes)
    throw new UsageProblem(`${path} is larger than the ${limit} limit (raise it with --max-mb)`);
  let bytes = await readFile(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // Bounded output: a small gzip can expand to gigabytes.
      bytes = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (error: unknown) {
      const tooBig = error instanceof RangeError || /maxOutputLength|buffer/i.test(errorMessage(error));
      throw new UsageProblem(
        tooBig
          ? `${path} unpacks to more than the ${limit} limit (raise it with --max-mb)`
          : `${path} is not valid gzip`,
      );
    }
  }
  let parsed: ParsedTrail;
  try {
    parsed = parseTrail(bytes.toString("utf8"), { maxBytes });
  } catch (error: unknown) {
    throw new UsageProblem(`${path}: ${errorMessage(error)}`);
  }
  // An empty page of a real export ({"Records": []}, {"Events": []}) is "no calls"; an empty file or
  // JSON with no record in it is the wrong file, and "the key was not used" would be a false all-clear.
  const recognised = parsed.format === "cloudtrail-log-file" || parsed.format === "lookup-events";
  if (parsed.events.length === 0 && !recognised) {
    throw new UsageProblem(
      `${path}: Not a CloudTrail export: ${parsed.format === "empty" ? "the file is empty" : "no CloudTrail record in it"} (expected {"Records": [...]}, LookupEvents output or JSON lines of records)`,
    );
  }
  return parsed;
}

async function rangesFor(values: {
  ranges?: string | undefined;
  offline?: boolean | undefined;
}): Promise<LoadedActionsRanges> {
  if (values.ranges) {
    const loaded = await readActionsRangesFile(values.ranges);
    if (!loaded.available) throw new UsageProblem(`--ranges: ${loaded.problem}`);
    return loaded;
  }
  if (values.offline) return { available: false, problem: "--offline: the ranges were not fetched" };
  return loadActionsRanges({
    ...(process.env.GITHUB_API_URL ? { apiUrl: process.env.GITHUB_API_URL } : {}),
    ...(process.env.GITHUB_TOKEN ? { token: process.env.GITHUB_TOKEN } : {}),
  });
}

const FORMAT_NAMES: Record<TrailFormat, string> = {
  "cloudtrail-log-file": "a CloudTrail log file",
  "lookup-events": "LookupEvents output",
  "record-array": "an array of records",
  "single-record": "a single record",
  "json-lines": "JSON lines",
  empty: "an empty file",
};

function describeSkipped(parsed: ParsedTrail): string | undefined {
  const { notAnObject, incomplete, unparseable, duplicate } = parsed.skipped;
  const parts = [
    notAnObject ? `${notAnObject} not a record` : "",
    incomplete ? `${incomplete} without time, name or source` : "",
    unparseable ? `${unparseable} unparseable` : "",
    duplicate ? `${duplicate} duplicate` : "",
  ].filter((part) => part !== "");
  const total = notAnObject + incomplete + unparseable + duplicate;
  return total > 0
    ? `${total} entr${total === 1 ? "y" : "ies"} of the input skipped: ${parts.join(", ")}.`
    : undefined;
}

// ---------------------------------------------------------------------------------------------
// Text output
// ---------------------------------------------------------------------------------------------

/** The findings for a terminal: verdict and reasons first, then the detail that supports them. */
export function formatFindings(findings: Findings, input: { file: string; format: TrailFormat }): string {
  const lines: string[] = [];
  lines.push(`VERDICT: ${findings.verdict.toUpperCase()}`, findings.headline, "");
  lines.push("Why:", ...findings.reasons.map((reason) => `  - ${reason}`), "");

  const window = [
    findings.leakedAt ? `leaked ${findings.leakedAt}` : "no leak time given",
    findings.containedAt ? `contained ${findings.containedAt}` : undefined,
    findings.firstUse ? `first use ${findings.firstUse}` : undefined,
    findings.lastUse ? `last use ${findings.lastUse}` : undefined,
  ].filter((part): part is string => part !== undefined);
  lines.push(`Timeline: ${window.join(", ")}`);
  const after = findings.afterLeak;
  lines.push(
    `Calls: ${findings.totals.events} in all (${findings.totals.succeeded} succeeded, ${findings.totals.denied} denied, ${findings.totals.failed} failed); ${after.calls} after the leak (${after.succeeded} succeeded, ${after.denied} denied)`,
  );
  if (findings.afterContainment) {
    const c = findings.afterContainment;
    lines.push(
      `After containment: ${c.calls} call${c.calls === 1 ? "" : "s"}, ${c.denied} denied, ${c.succeeded} succeeded${c.succeededAfterGrace > 0 ? ` (${c.succeededAfterGrace} later than ${c.graceSeconds / 60} minutes: containment did not hold)` : ""}`,
    );
  }
  lines.push("");

  const counted = SIGNAL_CATEGORIES.flatMap((category) =>
    findings.signals[category].filter((signal) => signal.succeeded + signal.attempted > 0),
  );
  lines.push("Signals after the leak:");
  if (counted.length === 0) lines.push("  none");
  for (const category of SIGNAL_CATEGORIES) {
    const signals = findings.signals[category].filter((signal) => signal.succeeded + signal.attempted > 0);
    if (signals.length === 0) continue;
    lines.push(`  ${category}`);
    for (const signal of signals) lines.push(`    ${signalLine(signal)}`);
  }
  const explained = SIGNAL_CATEGORIES.flatMap((category) => findings.signals[category]).filter(
    (signal) => signal.explained > 0,
  );
  if (explained.length > 0) {
    lines.push(
      `  explained by the CI's usual calls: ${explained.map((signal) => `${signal.action} (${signal.explained})`).join(", ")}`,
    );
  }
  for (const burst of findings.deniedBursts) {
    lines.push(
      `  denied burst: ${burst.deniedCalls} calls in ${burst.durationSeconds} s from ${burst.address} at ${burst.start} (${burst.distinctActions} actions: ${burst.actions.slice(0, 5).join(", ")})`,
    );
  }
  lines.push("");

  lines.push("Addresses:");
  for (const address of findings.addresses.slice(0, 15)) {
    const actions = address.githubActions === "unknown" ? "unknown" : address.githubActions ? "yes" : "no";
    const agent = address.userAgents[0] ? `  ${address.userAgents[0].userAgent.slice(0, 60)}` : "";
    lines.push(
      `  ${address.address.padEnd(26)} GitHub Actions: ${actions.padEnd(7)} ${String(address.calls).padStart(5)} calls (${address.succeeded} ok, ${address.denied} denied, ${address.afterLeak} after leak)  ${address.regions.join(",")}${agent}`,
    );
    if (address.note) lines.push(`  ${"".padEnd(26)} ${address.note}`);
  }
  const more = findings.addresses.length - 15 + findings.addressesOmitted;
  if (more > 0) lines.push(`  ... and ${more} more (--json for all)`);
  lines.push("");

  lines.push(
    `Regions: ${findings.regions.map((region) => `${region.region} (${region.calls}${region.newSinceLeak ? ", new since the leak" : ""})`).join(", ") || "none"}`,
  );
  lines.push(
    `Top events: ${
      findings.eventNames
        .slice(0, 10)
        .map((event) => `${event.action} ${event.succeeded}/${event.calls}`)
        .join(", ") || "none"
    } (succeeded/calls)`,
  );
  if (findings.errorCodes.length > 0) {
    lines.push(
      `Errors: ${findings.errorCodes.map((error) => `${error.errorCode} (${error.count})`).join(", ")}`,
    );
  }
  if (findings.derivedCredentials.length > 0) {
    lines.push("Temporary credentials minted:");
    for (const credential of findings.derivedCredentials) {
      lines.push(
        `  ${credential.accessKeyId} via ${credential.via} at ${credential.mintedAt} from ${credential.sourceIPAddress ?? "?"}; used ${credential.calls} times${credential.roleArn ? `; role ${credential.roleArn}` : ""}`,
      );
    }
  }
  if (findings.artifacts.length > 0) {
    lines.push("Created after the leak (inspect, then remove):");
    for (const artifact of findings.artifacts) {
      lines.push(
        `  ${artifact.kind} ${artifact.name} at ${artifact.eventTime} from ${artifact.sourceIPAddress ?? "?"}`,
      );
    }
  }
  lines.push("", "Notes:", ...findings.notes.map((note) => `  - ${note}`));
  lines.push(`Input: ${input.file} (${FORMAT_NAMES[input.format]})`);
  return lines.join("\n");
}

function signalLine(signal: SignalFinding): string {
  const counts = [
    signal.succeeded ? `${signal.succeeded} succeeded` : "",
    signal.attempted ? `${signal.attempted} denied or failed` : "",
  ]
    .filter((part) => part !== "")
    .join(", ");
  const details = signal.details.length > 0 ? `  ${signal.details.slice(0, 3).join("; ")}` : "";
  return `${signal.action.padEnd(34)} ${counts.padEnd(32)} [${signal.severity}]${details}`;
}
