import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trailDate } from "../../sandbox/trail-history.js";
import { incidentIssue } from "../../src/adapters/github/incident-issue.js";
import { followUpLine, followUpMessage } from "../../src/adapters/slack/follow-up-message.js";
import { incidentMessage } from "../../src/adapters/slack/incident-message.js";
import type { Incident, TimelineEntry } from "../../src/domain/incident.js";
import { analyzeTrail } from "../../src/forensics/analyze.js";
import { parseTrailEvents } from "../../src/forensics/parse-trail.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/report-model.js";
import { formatUtc } from "../../src/report/time-format.js";
import { asLogFile } from "../fixtures/trails/formats.js";
import { attackerStory } from "../fixtures/trails/stories.js";
import { minimalIncident } from "../support/fakes.js";

/** An ISO-8601 time as code writes it: what a reader should never have to convert. */
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/;
/** A 12-hour clock or a month name: a local, locale-dependent rendering. */
const LOCAL_TIME = /\b(AM|PM)\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}/;

function visibleText(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/, "").replace(/<[^>]*>/g, " ");
}

/**
 * The attacker story, with the minted session's expiration as CloudTrail writes it inside
 * responseElements (`Dec 7, 2026, 4:34:14 AM`, UTC), and timeline details that quote times.
 */
function scenario() {
  const story = attackerStory();
  let expiresAt: Date | undefined;
  for (const record of story.records) {
    const credentials = (record.responseElements as { credentials?: { expiration?: string } } | undefined)
      ?.credentials;
    if (record.eventName === "GetSessionToken" && credentials?.expiration) {
      expiresAt = new Date(credentials.expiration);
      credentials.expiration = trailDate(expiresAt);
    }
  }
  const events = parseTrailEvents(asLogFile(story.records));
  const findings = analyzeTrail(events, {
    leakedAt: story.leakedAt,
    containedAt: story.containedAt,
    accessKeyIds: [story.cast.accessKeyId],
  });
  const contained = story.containedAt;
  const entry = (step: TimelineEntry["step"], detail: string): TimelineEntry => ({
    step,
    outcome: "done",
    at: contained,
    detail,
  });
  const incident: Incident = {
    ...minimalIncident("gh__acme__api__7", "contained"),
    source: "github-alert",
    accessKeyId: story.cast.accessKeyId,
    leakedAt: story.leakedAt,
    leakedAtSource: "commit",
    timeline: [
      entry("key-deactivated", "iam:UpdateAccessKey -> Inactive"),
      entry(
        "sessions-revoked",
        `iam:PutUserPolicy AWSRevokeOlderSessions: deny tokens issued before ${contained}`,
      ),
    ],
  };
  const report = buildReport({ incident, findings, events, generatedAt: contained });
  return { story, findings, incident, report, expiresAt };
}

describe("every time in the report, the issue and Slack is UTC, says so, and is written one way", () => {
  // A responder's laptop is rarely in UTC: the renderings must not depend on it.
  const zone = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = "America/Los_Angeles";
  });
  afterAll(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it("a time that does not name its zone is never read as the machine's local time", () => {
    expect(formatUtc("2026-12-05T10:00:00")).toBe("2026-12-05T10:00:00");
    expect(formatUtc("2026-12-05T10:00:00Z")).toBe("2026-12-05 10:00:00.000 UTC");
    expect(formatUtc("2026-12-05T10:00:00+02:00")).toBe("2026-12-05 08:00:00.000 UTC");
    expect(formatUtc("Dec 5, 2026, 10:00:00 PM")).toBe("2026-12-05 22:00:00.000 UTC");
  });

  it("the minted session's expiry (CloudTrail's 12-hour form) is shown as a UTC time in the report", () => {
    const { report, expiresAt } = scenario();
    expect(expiresAt).toBeDefined();
    const expected = formatUtc(expiresAt?.toISOString() ?? "", { zone: false });
    const md = renderMarkdown(report);
    const html = renderHtml(report);
    for (const output of [md, visibleText(html)]) {
      expect(output).toContain("Expires (UTC)");
      expect(output).toContain(expected);
      expect(output).not.toMatch(LOCAL_TIME);
    }
    expect(report.findings?.derivedCredentials[0]?.expiration).toBe(expiresAt?.toISOString());
  });

  it("times quoted inside sentences (details, reasons, chart captions) are in the report's UTC format, not ISO", () => {
    const { report, story } = scenario();
    const md = renderMarkdown(report);
    const html = renderHtml(report);
    expect(md).not.toMatch(ISO_TIME);
    expect(visibleText(html)).not.toMatch(ISO_TIME);
    expect(md).toContain(`deny tokens issued before ${formatUtc(story.containedAt)}`);
  });

  it("the GitHub issue writes its times as the report does", () => {
    const { incident, findings, story } = scenario();
    const body = incidentIssue({ incident, findings, diffs: [], hideIps: false }).body;
    expect(body).toContain(`${formatUtc(story.containedAt)}:`);
    expect(body).not.toMatch(ISO_TIME);
    expect(body).not.toMatch(LOCAL_TIME);
  });

  it("Slack quotes times (the revocation cut-off, a burst's start) as the report does", () => {
    const { incident, findings, story } = scenario();
    const slack = [
      JSON.stringify(incidentMessage(incident, "contained")),
      JSON.stringify(followUpMessage({ incident, findings })),
      followUpLine({ incident, findings }),
    ].join("\n");
    expect(slack).toContain(`deny tokens issued before ${formatUtc(story.containedAt)}`);
    expect(slack).not.toMatch(ISO_TIME);
    expect(slack).not.toMatch(LOCAL_TIME);
  });
});
