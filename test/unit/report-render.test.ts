import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Incident, TimelineEntry } from "../../src/domain/incident.js";
import { createActionsRanges } from "../../src/forensics/actions-ranges.js";
import { analyzeTrail } from "../../src/forensics/analyze.js";
import { parseTrailEvents } from "../../src/forensics/parse-trail.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { type AuditReport, buildReport, type ReportInput } from "../../src/report/report-model.js";
import { renderReport } from "../../src/report/store-report.js";
import { asLogFile } from "../fixtures/trails/formats.js";
import { type CloudTrailRecord, cloudTrailRecord, fakeUserId } from "../fixtures/trails/records.js";
import { attackerStory, type TrailStory } from "../fixtures/trails/stories.js";

const HOSTILE_AGENT = '<script>console.error("xss")</script> | **bold** [link](javascript:alert(1))';
const HOSTILE_IP = '"><img src=x onerror=alert(1)>';

function sha(): string {
  return randomBytes(32).toString("hex");
}

interface Scenario {
  story: TrailStory;
  input: ReportInput;
  planted: string;
}

/**
 * The attacker story with extra records an attacker (or CloudTrail) controls: a hostile user agent
 * and source address, and a planted value in the fields a careless renderer might print:
 * request parameters, response elements, an error message and TLS details.
 */
function scenario(change: (incident: Incident) => Incident = (i) => i): Scenario {
  const story = attackerStory();
  const planted = `PLANTED${randomBytes(12).toString("hex")}`;
  const leak = Date.parse(story.leakedAt);
  const contained = Date.parse(story.containedAt);
  const caller = {
    accountId: story.cast.accountId,
    userName: story.cast.userName,
    principalId: fakeUserId(),
    accessKeyId: story.cast.accessKeyId,
  };
  const extra: CloudTrailRecord[] = [
    cloudTrailRecord({
      at: new Date(leak + 4 * 60_000),
      source: "s3.amazonaws.com",
      name: "ListBuckets",
      caller,
      ip: HOSTILE_IP,
      userAgent: HOSTILE_AGENT,
      request: { Host: "s3.amazonaws.com", note: planted },
      response: { echoed: planted },
    }),
    cloudTrailRecord({
      at: new Date(leak + 5 * 60_000),
      source: "secretsmanager.amazonaws.com",
      name: "GetSecretValue",
      caller,
      ip: HOSTILE_IP,
      userAgent: HOSTILE_AGENT,
      errorCode: "AccessDenied",
      errorMessage: `denied: ${planted}`,
      // The secret's name is a detail the responder needs (which secret to rotate); the other
      // request fields are not rendered.
      request: { secretId: "prod/payments-db", versionStage: planted },
    }),
  ];
  for (const record of extra) record.tlsDetails = { clientProvidedHostHeader: planted };
  const events = parseTrailEvents(asLogFile([...story.records, ...extra]));
  const findings = analyzeTrail(events, {
    leakedAt: story.leakedAt,
    containedAt: story.containedAt,
    accessKeyIds: [story.cast.accessKeyId],
    actionsRanges: createActionsRanges(story.cast.runnerCidrs),
  });
  const at = (ms: number) => new Date(ms).toISOString();
  const webhook = contained - 400;
  const entry = (step: TimelineEntry["step"], ms: number, detail: string): TimelineEntry => ({
    step,
    outcome: "done",
    at: at(ms),
    detail,
  });
  const partSha = sha();
  const incident: Incident = change({
    id: "gh__acme__payments-api__7",
    version: 1,
    source: "github-alert",
    status: "contained",
    summary: `${story.cast.accessKeyId} of ci-deploy is deactivated and its sessions are revoked.`,
    accessKeyId: story.cast.accessKeyId,
    secretFingerprint: "sha256:0123456789ab",
    secretType: "aws_access_key_id",
    repository: "acme/payments-api",
    alertNumber: 7,
    alertUrl: "https://github.com/acme/payments-api/security/secret-scanning/7",
    leakLocation: { path: "deploy/settings.env", startLine: 12, commitSha: "a".repeat(40) },
    deliveryIds: ["d-1"],
    mode: "enforce",
    location: { accountId: story.cast.accountId, viaMemberRole: true, userName: story.cast.userName },
    containment: {
      containedAt: story.containedAt,
      keyStatusAfter: "Inactive",
      quarantinePolicies: [],
      denyPolicyName: "AWSRevokeOlderSessions",
    },
    leakedAt: story.leakedAt,
    leakedAtSource: "commit",
    forensics: {
      window: { startTime: at(leak - 7 * 86_400_000), endTime: at(contained + 15 * 60_000) },
      regions: ["eu-west-1", "sa-east-1", "us-east-1"],
      accessKeyIds: [story.cast.accessKeyId],
      eventCount: events.length,
      incompleteRegions: [],
      complete: true,
      rolesAssumed: [],
      rolesRevoked: [],
      parts: [
        {
          name: "cloudtrail-events-part-001.jsonl.gz",
          key: "incidents/x/evidence/cloudtrail-events-part-001.jsonl.gz",
          sha256: partSha,
          bytes: 4096,
        },
      ],
      manifest: {
        name: "manifest.json",
        key: "incidents/x/evidence/manifest.json",
        sha256: sha(),
        bytes: 900,
      },
      findings: {
        name: "findings.json",
        key: "incidents/x/evidence/findings.json",
        sha256: sha(),
        bytes: 20_000,
      },
      verdict: findings.verdict,
      headline: findings.headline,
    },
    warnings: [],
    timeline: [
      entry("webhook-received", webhook, "Delivery d-1 (created)"),
      entry("alert-fetched", webhook + 120, "Alert #7 (aws_access_key_id, open)"),
      entry(
        "key-located",
        webhook + 300,
        `Account ${story.cast.accountId} (member role assumed), user ci-deploy`,
      ),
      entry("key-deactivated", contained, "iam:UpdateAccessKey -> Inactive"),
      entry("sessions-revoked", contained + 20, "iam:PutUserPolicy AWSRevokeOlderSessions on ci-deploy"),
      entry("incident-recorded", contained + 30, "Incident created"),
      entry("alert-resolved", contained + 150, "GitHub alert resolved as revoked"),
      entry("notified", contained + 180, "Owners notified (contained)"),
      entry("snapshot-taken", contained + 60_000, `${events.length} events in 3 regions for 1 key(s)`),
      entry("evidence-stored", contained + 61_000, "2 evidence file(s)"),
      entry("analyzed", contained + 62_000, `Verdict ${findings.verdict}: ${findings.headline}`),
    ],
    createdAt: at(webhook + 310),
    updatedAt: at(contained + 62_000),
  });
  const manifest = {
    incidentId: incident.id,
    window: incident.forensics?.window,
    regions: ["eu-west-1", "sa-east-1", "us-east-1"],
    eventsPerRegion: { "eu-west-1": 20, "sa-east-1": 1, "us-east-1": 30 },
    events: events.length,
    incompleteRegions: [],
    complete: true,
    files: [{ name: "cloudtrail-events-part-001.jsonl.gz", sha256: partSha, bytes: 4096 }],
  };
  return {
    story,
    planted,
    input: {
      incident,
      findings,
      manifest,
      events,
      readBack: { "cloudtrail-events-part-001.jsonl.gz": partSha, "manifest.json": sha() },
      generatedAt: at(contained + 3_600_000),
    },
  };
}

describe("buildReport: the audit report's model", () => {
  const { story, input } = scenario();
  const report = buildReport(input);
  const leak = Date.parse(story.leakedAt);
  const contained = Date.parse(story.containedAt);

  it("puts the milestones in time order with the time between them and since the leak", () => {
    const done = report.milestones.filter((m) => m.at !== undefined);
    expect(done.map((m) => m.id)).toEqual([
      "leak",
      "webhook-received",
      "key-deactivated",
      "sessions-revoked",
      "alert-resolved",
      "notified",
      "snapshot-taken",
      "analyzed",
    ]);
    const byId = new Map(report.milestones.map((m) => [m.id, m]));
    expect(byId.get("leak")?.label).toBe("Key committed (the leak)");
    expect(byId.get("webhook-received")?.sincePreviousMs).toBe(contained - 400 - leak);
    expect(byId.get("key-deactivated")?.sincePreviousMs).toBe(400);
    expect(byId.get("key-deactivated")?.sinceLeakMs).toBe(contained - leak);
    expect(byId.get("sessions-revoked")?.sincePreviousMs).toBe(20);
    // Steps that never ran are listed, at the end, as not recorded: an auditor sees the gap.
    expect(byId.get("planned")).toMatchObject({ outcome: "not-recorded" });
    expect(report.milestones.at(-1)?.at).toBeUndefined();
  });

  it("measures time to contain from the webhook and the exposure from the commit", () => {
    expect(report.durations.timeToContainMs).toBe(400);
    expect(report.durations.exposureMs).toBe(contained - leak);
    expect(report.durations.timeToFindingsMs).toBe(62_400);
  });

  it("digests the findings: verdict, reasons, addresses with GitHub Actions yes/no, signals by category", () => {
    expect(report.findings?.verdict).toBe("compromised");
    expect(report.findings?.reasons.length).toBeGreaterThan(3);
    const addresses = report.findings?.addresses ?? [];
    expect(addresses.find((a) => a.address === story.cast.attackerIps[0])?.githubActions).toBe("no");
    expect(addresses.find((a) => a.address === story.cast.runnerIps[0])?.githubActions).toBe("yes");
    expect(report.findings?.signals.map((s) => s.category)).toEqual(
      expect.arrayContaining(["persistence", "recon", "impact"]),
    );
    expect(report.findings?.artifacts.map((a) => a.name)).toEqual(expect.arrayContaining(["svc-backup"]));
  });

  it("lists the evidence with SHA-256 values and says which read back the same and which did not", () => {
    const byName = new Map(report.evidence.files.map((f) => [f.name, f]));
    expect(byName.get("cloudtrail-events-part-001.jsonl.gz")).toMatchObject({
      role: "events",
      verified: "match",
    });
    expect(byName.get("manifest.json")).toMatchObject({ role: "manifest", verified: "MISMATCH" });
    expect(byName.get("findings.json")).toMatchObject({ role: "findings", verified: "not-read" });
    expect(report.evidence.eventsPerRegion[0]).toEqual({ region: "us-east-1", events: 30 });
  });

  it("draws the whole window and a close-up of the leak, with every event counted once per view", () => {
    expect(report.activity.views.map((v) => v.id)).toEqual(["window", "leak"]);
    const window = report.activity.views[0];
    expect(window?.total).toBe(input.events?.length);
    expect(report.activity.leakedAt).toBe(story.leakedAt);
    expect(report.activity.containedAt).toBe(story.containedAt);
    expect(report.activity.totals.reduce((a, b) => a + b, 0)).toBe(input.events?.length);
  });

  it("is plain JSON: what is written is what is read back", () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("asks for the clean-up a person owes: what the attacker created, review, and deleting the user later", () => {
    const texts = report.followUps.map((f) => `${f.priority}: ${f.text}`);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^now: Inspect and remove what was created after the leak: iam-user svc-backup/,
        ),
        expect.stringMatching(/^now: The verdict is compromised/),
        expect.stringMatching(/^later: Delete the access key, then the IAM user ci-deploy/),
        expect.stringMatching(
          /^later: Plan the move to GitHub Actions OIDC: leak-responder plan --repo acme\/payments-api/,
        ),
      ]),
    );
    const ranks = report.followUps.map((f) => ["now", "soon", "later"].indexOf(f.priority));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });
});

describe("buildReport: follow-ups derived from what did not go to plan", () => {
  it("names incomplete regions and roles whose sessions were not revoked", () => {
    const { input } = scenario((incident) => ({
      ...incident,
      status: "contained-with-warnings",
      warnings: ["CloudTrail history is incomplete in ap-south-1: look there by hand."],
      ...(incident.forensics && {
        forensics: {
          ...incident.forensics,
          incompleteRegions: ["ap-south-1"],
          complete: false,
          rolesAssumed: ["arn:aws:iam::111122223333:role/deploy", "arn:aws:iam::444455556666:role/other"],
          rolesRevoked: ["arn:aws:iam::111122223333:role/deploy"],
        },
      }),
    }));
    const report = buildReport({ ...input, manifest: undefined });
    const texts = report.followUps.map((f) => `${f.priority}: ${f.text}`);
    expect(texts).toContainEqual(
      expect.stringMatching(/^soon: CloudTrail history is incomplete in ap-south-1/),
    );
    expect(texts).toContainEqual(
      expect.stringMatching(/^now: Sessions of role arn:aws:iam::444455556666:role\/other/),
    );
    expect(texts.join("\n")).not.toContain("role/deploy,");
    expect(report.evidence.incompleteRegions).toEqual(["ap-south-1"]);
    expect(report.warnings).toEqual(["CloudTrail history is incomplete in ap-south-1: look there by hand."]);
    expect(renderMarkdown(report)).toContain("**incomplete in ap-south-1**");
  });

  it("puts a failed containment first, with the manual steps, and says the key was not contained", () => {
    const { input, story } = scenario((incident) => ({
      ...incident,
      status: "failed",
      summary: "The key could NOT be deactivated: do it by hand now.",
      failure: {
        step: "key-deactivated",
        code: "AccessDenied",
        message: "not authorized to perform iam:UpdateAccessKey",
      },
      containment: { quarantinePolicies: [] },
      timeline: incident.timeline
        .filter((e) => ["webhook-received", "alert-fetched", "key-located"].includes(e.step))
        .concat([
          {
            step: "key-deactivated",
            outcome: "failed",
            at: incident.timeline[3]?.at ?? "",
            detail: "AccessDenied",
          },
        ]),
    }));
    const { findings: _findings, ...withoutFindings } = input;
    const report = buildReport({ ...withoutFindings, events: [] });
    expect(report.durations.timeToContainMs).toBeUndefined();
    expect(report.followUps[0]?.text).toMatch(/^Containment failed at key-deactivated \(AccessDenied\)/);
    expect(report.followUps[1]?.text).toContain(
      `aws iam update-access-key --user-name ci-deploy --access-key-id ${story.cast.accessKeyId} --status Inactive`,
    );
    expect(report.followUps.every((f, i) => i > 2 || f.priority === "now")).toBe(true);
    expect(report.milestones.find((m) => m.id === "key-deactivated")?.outcome).toBe("failed");
    const md = renderMarkdown(report);
    expect(md).toContain("| Time to contain | not contained |");
    expect(renderHtml(report)).toContain('data-status="failed"');
  });
});

describe("the Markdown, HTML and JSON renderings", () => {
  const { input, planted, story } = scenario();
  const report: AuditReport = buildReport(input);
  const md = renderMarkdown(report);
  const html = renderHtml(report);
  const json = renderReport(report, "json");

  it("Markdown tells the story: facts, follow-ups, timeline, activity, findings, actions, evidence", () => {
    for (const heading of [
      "## Open follow-ups",
      "## Timeline",
      "## Activity of the key",
      "## Findings",
      "## Actions taken",
      "## Evidence",
      "## OIDC migration plan",
      "## Playbook log",
    ]) {
      expect(md).toContain(heading);
    }
    expect(md).toContain("| Key deactivated |");
    expect(md).toContain("| Time to contain | 400 ms (alert webhook to key deactivated) |");
    expect(md).toContain("**Verdict: Compromised.**");
    for (const file of report.evidence.files) expect(md).toContain(`\`${file.sha256}\``);
    expect(md).toContain("**MISMATCH**");
    // The sparkline and its markers line, one character per bucket.
    expect(md).toMatch(/```text\n[·▁▂▃▄▅▆▇█]+\n *L/);
  });

  it("HTML is one self-contained page: a CSP that forbids loading and scripts, no external reference", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/<[a-z][^>]*\s(src|on\w+)=/i);
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^https:\/\//);
  });

  it("HTML has the timeline rows and the chart with bars and both markers", () => {
    for (const id of [
      "leak",
      "webhook-received",
      "key-deactivated",
      "sessions-revoked",
      "alert-resolved",
      "notified",
      "snapshot-taken",
      "analyzed",
    ]) {
      expect(html).toContain(`data-milestone="${id}"`);
    }
    expect((html.match(/<svg class="activity-chart"/g) ?? []).length).toBe(2);
    expect(html).toMatch(/<rect class="bar" data-series="persistence"/);
    expect(html).toContain('class="marker marker-leak"');
    expect(html).toContain('class="marker marker-contained"');
  });

  it("escapes what the attacker controls in every format: no tag, link or table break gets through", () => {
    // HTML: the user agent and the address arrive as text, never as elements or attributes.
    expect(html).toContain("&lt;script&gt;console.error(&quot;xss&quot;)&lt;/script&gt;");
    expect(html).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect(html).not.toContain("onerror=alert(1)>");
    // Markdown: no raw HTML, and the pipe cannot open a new table cell.
    expect(md).toContain("&lt;script&gt;");
    expect(md).not.toContain("<script");
    expect(md).not.toContain("<img");
    expect(md).toContain("&#124; &#42;&#42;bold&#42;&#42; &#91;link&#93;");
    // JSON keeps the text as data.
    expect(JSON.parse(json).findings.addresses.map((a: { address: string }) => a.address)).toContain(
      HOSTILE_IP,
    );
  });

  it("never renders raw request parameters, responses, error messages or TLS details: the planted value is in none", () => {
    // The planted value is really in the input, so a renderer that printed those fields would fail.
    expect(JSON.stringify(input.events)).toContain(planted);
    for (const output of [md, html, json]) expect(output).not.toContain(planted);
    // The named detail a rule reads (the secret targeted) is shown.
    expect(md).toContain("prod/payments-db");
    expect(story.cast.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
  });
});
