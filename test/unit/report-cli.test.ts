import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FileEvidenceStore } from "../../src/adapters/local/file-evidence-store.js";
import { FileIncidentStore } from "../../src/adapters/local/file-incident-store.js";
import { main } from "../../src/cli/main.js";
import type { Incident } from "../../src/domain/incident.js";
import { createActionsRanges } from "../../src/forensics/actions-ranges.js";
import { analyzeTrail } from "../../src/forensics/analyze.js";
import { parseTrailEvents } from "../../src/forensics/parse-trail.js";
import type { EvidenceStore } from "../../src/ports.js";
import { asJsonLines } from "../fixtures/trails/formats.js";
import { attackerStory } from "../fixtures/trails/stories.js";

const ID = "gh__acme__payments-api__3";
const story = attackerStory();
const planted = `PLANTED${randomBytes(12).toString("hex")}`;
let dir: string;
let saved: { dir?: string | undefined; bucket?: string | undefined };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "report-cli-"));
  saved = { dir: process.env.INCIDENT_DIR, bucket: process.env.INCIDENT_BUCKET };
  process.env.INCIDENT_DIR = dir;
  delete process.env.INCIDENT_BUCKET;

  // The evidence as the playbook writes it: gzipped JSON lines, a manifest, the findings.
  const records = story.records.map((record, i) =>
    i === 0 ? { ...record, requestParameters: { token: planted } } : record,
  );
  const evidence: EvidenceStore = new FileEvidenceStore(dir);
  const part = await evidence.putOnce(
    ID,
    "cloudtrail-events-part-001.jsonl.gz",
    gzipSync(asJsonLines(records)),
    "application/gzip",
  );
  const events = parseTrailEvents(asJsonLines(records));
  const findings = analyzeTrail(events, {
    leakedAt: story.leakedAt,
    containedAt: story.containedAt,
    accessKeyIds: [story.cast.accessKeyId],
    actionsRanges: createActionsRanges(story.cast.runnerCidrs),
  });
  const window = {
    startTime: new Date(Date.parse(story.leakedAt) - 7 * 86_400_000).toISOString(),
    endTime: story.containedAt,
  };
  const manifestBody = Buffer.from(
    JSON.stringify({
      window,
      regions: ["eu-west-1", "us-east-1"],
      eventsPerRegion: {},
      events: events.length,
      incompleteRegions: [],
      complete: true,
      files: [{ name: "cloudtrail-events-part-001.jsonl.gz", sha256: part.sha256, bytes: part.bytes }],
    }),
  );
  const manifest = await evidence.putOnce(ID, "manifest.json", manifestBody, "application/json");
  const findingsFile = await evidence.putOnce(
    ID,
    "findings.json",
    Buffer.from(JSON.stringify(findings)),
    "application/json",
  );
  const webhook = Date.parse(story.containedAt) - 250;
  const incident: Incident = {
    id: ID,
    version: 1,
    source: "github-alert",
    status: "contained",
    summary: "The key is deactivated and its sessions are revoked.",
    accessKeyId: story.cast.accessKeyId,
    repository: "acme/payments-api",
    alertNumber: 3,
    deliveryIds: ["d-3"],
    mode: "enforce",
    location: { accountId: story.cast.accountId, viaMemberRole: false, userName: "ci-deploy" },
    containment: { containedAt: story.containedAt, keyStatusAfter: "Inactive", quarantinePolicies: [] },
    leakedAt: story.leakedAt,
    leakedAtSource: "commit",
    forensics: {
      window,
      regions: ["eu-west-1", "us-east-1"],
      accessKeyIds: [story.cast.accessKeyId],
      eventCount: events.length,
      incompleteRegions: [],
      complete: true,
      rolesAssumed: [],
      rolesRevoked: [],
      parts: [{ name: "cloudtrail-events-part-001.jsonl.gz", ...part }],
      manifest: { name: "manifest.json", ...manifest },
      findings: { name: "findings.json", ...findingsFile },
      verdict: findings.verdict,
    },
    warnings: [],
    timeline: [
      {
        step: "webhook-received",
        outcome: "done",
        at: new Date(webhook).toISOString(),
        detail: "Delivery d-3",
      },
      {
        step: "key-deactivated",
        outcome: "done",
        at: story.containedAt,
        detail: "iam:UpdateAccessKey -> Inactive",
      },
      {
        step: "analyzed",
        outcome: "done",
        at: new Date(webhook + 30_000).toISOString(),
        detail: "Verdict compromised",
      },
    ],
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  await new FileIncidentStore(dir).create(incident);
});

afterAll(async () => {
  if (saved.dir === undefined) delete process.env.INCIDENT_DIR;
  else process.env.INCIDENT_DIR = saved.dir;
  if (saved.bucket !== undefined) process.env.INCIDENT_BUCKET = saved.bucket;
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(`${args.join(" ")}\n`));
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" ")));
  const code = await main(["report", ...argv]);
  vi.restoreAllMocks();
  return { code, stdout: out.join(""), stderr: err.join("\n") };
}

describe("leak-responder report", () => {
  it("prints the Markdown report, with the evidence read back and its SHA-256 checked", async () => {
    const { code, stdout, stderr } = await run(ID);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# Leaked AWS key: audit report/);
    expect(stdout).toContain("**Verdict: Compromised.**");
    expect(stdout.match(/\| matches \|/g)).toHaveLength(3);
    expect(stdout).not.toContain(planted);
  });

  it("writes the HTML page to --out, readable by its owner only", async () => {
    const out = join(dir, "report.html");
    const { code, stdout } = await run(ID, "--format", "html", "--out", out);
    expect(code).toBe(0);
    expect(stdout).toContain(`Wrote the html report of ${ID} to ${out}`);
    const html = await readFile(out, "utf8");
    expect(html).toContain('<svg class="activity-chart"');
    expect(html).toMatch(/<rect class="bar"/);
    expect(html).not.toContain(planted);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
  });

  it("prints JSON with the chart's data, and can colour by region", async () => {
    const { code, stdout } = await run(ID, "--format", "json", "--chart-by", "region");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.version).toBe(1);
    expect(report.activity.groupBy).toBe("region");
    expect(report.activity.events).toBe(story.records.length);
    expect(report.durations.timeToContainMs).toBe(250);
    expect(stdout).not.toContain(planted);
  });

  it("says MISMATCH when a stored evidence file no longer has the SHA-256 recorded for it", async () => {
    const path = join(dir, "incidents", ID, "evidence", "findings.json");
    const original = await readFile(path);
    await writeFile(path, Buffer.concat([original, Buffer.from(" ")]));
    try {
      const { code, stdout } = await run(ID);
      expect(code).toBe(0);
      expect(stdout).toMatch(/\| findings\.json \| \d+ \| `[0-9a-f]{64}` \| \*\*MISMATCH\*\* \|/);
    } finally {
      await writeFile(path, original);
    }
  });

  it("stores md, html and json beside the evidence with --store", async () => {
    const { code, stderr } = await run(ID, "--store", "--out", join(dir, "ignored.md"));
    expect(code).toBe(0);
    const names = (await readdir(join(dir, "incidents", ID, "evidence"))).filter((n) =>
      n.startsWith("report-"),
    );
    expect(names.map((n) => n.split(".").at(-1)).sort()).toEqual(["html", "json", "md"]);
    expect(stderr).toMatch(/Stored report-\d{8}T\d{9}Z\.md \(sha256 [0-9a-f]{64}\)/);
  });

  it("prints the periodic summary with --since", async () => {
    const md = await run("--since", "30d");
    expect(md.code).toBe(0);
    expect(md.stdout).toContain("- Incidents: 1");
    expect(md.stdout).toContain("median 250 ms, worst 250 ms");
    const json = await run("--since", "7d", "--format", "json");
    expect(JSON.parse(json.stdout)).toMatchObject({ count: 1, timeToContain: { medianMs: 250 } });
  });

  it("leaves selftests out of the --since summary: the canary contained on purpose is not a leak", async () => {
    const stored = await new FileIncidentStore(dir).get(ID);
    if (!stored) throw new Error("the test's incident is missing");
    const id = "gh__leak-responder-selftest__live__1796490685000";
    const { installationId: _none, ...incident } = stored.incident;
    await new FileIncidentStore(dir).create({
      ...incident,
      id,
      repository: "leak-responder-selftest/live",
      alertNumber: 1796490685000,
      location: { accountId: story.cast.accountId, viaMemberRole: true, userName: "leak-responder-canary" },
    });
    const md = await run("--since", "30d");
    expect(md.code).toBe(0);
    expect(md.stdout).toContain("- Incidents: 1");
    expect(md.stdout).not.toContain("leak-responder-canary");
    expect(md.stderr).toContain("Read 2 incident(s)");
    expect(md.stderr).toContain("(1 selftest(s) left out)");
    // Its own report is still there for whoever wants it.
    expect((await run(id)).code).toBe(0);
  });

  it("an unknown incident or a bad argument is one clear line and exit code 2", async () => {
    const unknown = await run("gh__nobody__nothing__1");
    expect(unknown).toMatchObject({ code: 2, stdout: "" });
    expect(unknown.stderr).toBe(`leak-responder report: no incident "gh__nobody__nothing__1" in ${dir}`);
    for (const argv of [
      ["--format", "pdf", ID],
      [],
      ["../../etc/passwd"],
      [ID, "--since", "30d"],
      ["--since", "soon"],
      [ID, "--bogus"],
    ]) {
      const result = await run(...argv);
      expect(result.code).toBe(2);
      expect(result.stderr.split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(/^leak-responder report: /);
    }
  });
});
