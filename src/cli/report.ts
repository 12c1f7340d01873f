/**
 * `leak-responder report INCIDENT_ID [--format md|html|json] [--out FILE] [--chart-by category|region] [--store]`
 * and `leak-responder report --since 30d [--format md|json] [--out FILE]`: the audit report of one
 * incident, drawn from the incident store and its evidence, or the periodic summary of all of them.
 * Reports are read where the evidence is (INCIDENT_BUCKET with the caller's AWS credentials, or
 * INCIDENT_DIR): there is no public URL. A bad argument or an unknown incident is one line on
 * stderr and exit code 2.
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createStores, storeFromEnv } from "../adapters/incident-stores.js";
import { InvalidInputError } from "../domain/errors.js";
import { isSelftestIncident } from "../domain/selftest.js";
import { printable } from "../forensics/printable-text.js";
import { IncidentNotFoundError, loadIncidents, loadReportInput } from "../report/load-report.js";
import { buildReport } from "../report/report-model.js";
import { type ReportFormat, renderReport, storeReport } from "../report/store-report.js";
import { parseSince, renderSummaryMarkdown, summarizeIncidents } from "../report/summary.js";

const HELP = `usage: leak-responder report INCIDENT_ID [--format md|html|json] [--out FILE] [--chart-by category|region] [--store]
       leak-responder report --since 30d [--format md|json] [--out FILE]

The audit report of an incident: the timeline with the time between milestones, the key's activity
over time (HTML: an inline SVG chart), the findings, the actions taken, the evidence with its SHA-256
values (read back and checked), the OIDC plan and what is still open.
  --format     md (default), html (one self-contained page) or json
  --out FILE   write to FILE (created readable by you only) instead of standard output
  --chart-by   colour the activity by signal category (default) or by region
  --store      also store md, html and json beside the evidence (written once, time-stamped)
  --since P    instead of one incident: a summary of those recorded in the last P (30d, 7d, 12h)
               or since an ISO date: count, time to contain (median, worst), verdicts, and the
               repositories and users that leaked twice or more

Incidents are read from INCIDENT_BUCKET (S3: needs AWS credentials that may read it) or from
INCIDENT_DIR (default .leak-responder).`;

const FORMATS: readonly ReportFormat[] = ["md", "html", "json"];
const INCIDENT_ID = /^[\w.-]{1,200}$/;

class UsageError extends InvalidInputError {}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: "string", default: "md" },
      out: { type: "string" },
      since: { type: "string" },
      "chart-by": { type: "string", default: "category" },
      store: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
}

async function emit(text: string, out: string | undefined, what: string): Promise<void> {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  // Reports name keys, users and accounts: readable by the person who asked for them only.
  await writeFile(out, text, { encoding: "utf8", mode: 0o600 });
  console.log(`Wrote ${what} to ${out} (${Buffer.byteLength(text, "utf8")} bytes)`);
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const format = values.format as ReportFormat;
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be md, html or json, got "${printable(values.format, 20)}"`);
  const groupBy = values["chart-by"];
  if (groupBy !== "category" && groupBy !== "region") {
    throw new UsageError(`--chart-by must be category or region, got "${printable(groupBy, 20)}"`);
  }
  const stores = createStores(
    storeFromEnv(process.env),
    process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
  );
  const now = new Date();

  if (values.since !== undefined) {
    if (positionals.length > 0) throw new UsageError("give an incident id or --since, not both");
    if (format === "html") throw new UsageError("the --since summary is md or json");
    if (values.store) throw new UsageError("--store is for one incident's report");
    const since = parseSince(values.since, now);
    const all = await loadIncidents(stores.incidents);
    // `leak-responder selftest` contains the operator's canary on purpose: not a leak to count.
    const incidents = all.filter((incident) => !isSelftestIncident(incident));
    const selftests = all.length - incidents.length;
    // On stderr: where the numbers come from, without mixing into a summary piped elsewhere.
    console.error(
      `Read ${all.length} incident(s) from ${stores.where}${selftests > 0 ? ` (${selftests} selftest(s) left out)` : ""}`,
    );
    const summary = summarizeIncidents(incidents, since, now);
    const text = format === "json" ? `${JSON.stringify(summary, null, 2)}\n` : renderSummaryMarkdown(summary);
    await emit(text, values.out, "the summary");
    return 0;
  }

  const [id, ...extra] = positionals;
  if (!id) throw new UsageError("which incident? leak-responder report INCIDENT_ID (or --since 30d)");
  if (extra.length > 0) throw new UsageError(`one incident at a time, got ${positionals.length}`);
  if (!INCIDENT_ID.test(id)) throw new UsageError(`"${printable(id, 60)}" is not an incident id`);
  let loaded: Awaited<ReturnType<typeof loadReportInput>>;
  try {
    loaded = await loadReportInput(stores, id);
  } catch (error: unknown) {
    if (error instanceof IncidentNotFoundError)
      throw new UsageError(`no incident "${id}" in ${stores.where}`);
    throw error;
  }
  const report = buildReport({ ...loaded, generatedAt: now.toISOString(), groupBy });
  await emit(renderReport(report, format), values.out, `the ${format} report of ${id}`);
  if (values.store) {
    for (const object of await storeReport(stores.evidence, report)) {
      console.error(`Stored ${object.name} (sha256 ${object.sha256})`);
    }
  }
  return 0;
}

export const reportCommand = {
  summary: "the audit report of an incident, or a periodic summary",
  // A bad argument (the --since period or an unknown incident included) is an InvalidInputError:
  // main prints it and exits 2.
  run,
};
