/**
 * Issue 11: the incident issue is posted in the repository that leaked the key, and much of its text
 * (file paths, CloudTrail user names and reasons, warnings) was chosen by whoever holds the key. None
 * of it may ping people (@mentions), link other issues (#refs), become a link, or break out of a code
 * span or table.
 */
import { describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { incidentIssue } from "../../src/adapters/github/incident-issue.js";
import type { Incident } from "../../src/domain/incident.js";
import { analyzeTrail } from "../../src/forensics/analyze.js";
import { parseTrailEvents } from "../../src/forensics/parse-trail.js";
import { mdText } from "../../src/report/markdown-text.js";
import { formatUtc } from "../../src/report/time-format.js";
import { asLogFile } from "../fixtures/trails/formats.js";
import { attackerStory } from "../fixtures/trails/stories.js";
import { minimalIncident } from "../support/fakes.js";

const HOSTILE = "hi @octocat see #12 and https://evil.example/x www.evil.example \\`| **x** [a](b) <img>";

function incident(): Incident {
  return {
    ...minimalIncident("inc-test", HOSTILE),
    status: "contained-with-warnings",
    accessKeyId: fakeAccessKeyId(),
    repository: "acme/app",
    leakLocation: { path: "ci/`deploy`@octocat.yml", startLine: 3 },
    location: { accountId: "111122223333", viaMemberRole: false, userName: "ci`@octocat" },
    timeline: [{ step: "key-deactivated", outcome: "done", at: "2026-01-01T00:00:00Z", detail: HOSTILE }],
    warnings: [HOSTILE],
  };
}

/** What GitHub would act on once the Markdown is rendered: entities decoded, code spans included. */
function renderedText(body: string): string {
  return body.replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&amp;/g, "&");
}

describe("untrusted text in the incident issue", () => {
  const body = incidentIssue({ incident: incident(), diffs: [], hideIps: false }).body;
  const text = renderedText(body);

  it("pings nobody and references no other issue", () => {
    expect(text).not.toMatch(/(^|[^\w\u200b])@octocat/);
    expect(text).not.toMatch(/(^|\s)#12\b/);
  });

  it("turns no URL into a link", () => {
    expect(text).not.toContain("https://evil.example");
    expect(text).not.toMatch(/(^|\s)www\.evil/);
    expect(body).not.toContain("](b)");
  });

  it("keeps backslashes and backticks from breaking out of the text", () => {
    // An odd backslash before a backtick would turn our escape into a literal backslash and open a span.
    expect(body).not.toContain("\\`");
    expect(body).not.toMatch(/`[^`\n]*`deploy`/);
    expect(body).not.toContain("<img>");
  });
});

describe("untrusted text in the Markdown report and summary (shared mdText)", () => {
  it("pings nobody, links nothing, and escapes backslashes as entities", () => {
    const text = renderedText(mdText(HOSTILE));
    expect(text).not.toMatch(/(^|[^\w\u200b])@octocat/);
    expect(text).not.toMatch(/(^|\s)#12\b/);
    expect(text).not.toContain("https://evil.example");
    expect(mdText("a\\`b")).toBe("a&#92;&#96;b");
  });
});

/**
 * Issue 11 (security posture): on a public repository (or one whose visibility is unknown) the issue is
 * a public page. It says only that a key was contained, when, and where the private report is.
 */
describe("the incident issue on a public repository", () => {
  function leakScenario(visibility: Incident["repositoryVisibility"]) {
    const story = attackerStory();
    const { accountId, userName, accessKeyId } = story.cast;
    const findings = analyzeTrail(parseTrailEvents(asLogFile(story.records)), {
      leakedAt: story.leakedAt,
      containedAt: story.containedAt,
      accessKeyIds: [accessKeyId],
    });
    const errorText = `AccessDenied: User: arn:aws:iam::${accountId}:user/${userName} is not authorized to perform: iam:PutUserPolicy from ${story.cast.attackerIps[0]}`;
    const incident: Incident = {
      ...minimalIncident("gh__acme__app__7", `Key ${accessKeyId} of ${userName} in ${accountId} contained`),
      source: "github-alert",
      status: "contained-with-warnings",
      accessKeyId,
      repository: "acme/app",
      alertNumber: 7,
      ...(visibility ? { repositoryVisibility: visibility } : {}),
      leakLocation: {
        type: "commit",
        path: "deploy/settings.env",
        startLine: 3,
        commitSha: "a".repeat(40),
        people: [
          { role: "author", login: "octo-dev", name: "Octo Developer" },
          { role: "committer", login: "web-flow", name: "GitHub" },
        ],
      },
      location: { accountId, viaMemberRole: true, userName },
      containment: { containedAt: story.containedAt, keyStatusAfter: "Inactive", quarantinePolicies: [] },
      timeline: [
        {
          step: "key-deactivated",
          outcome: "done",
          at: story.containedAt,
          detail: `Deactivated ${accessKeyId} of ${userName} in ${accountId}`,
        },
        { step: "sessions-revoked", outcome: "failed", at: story.containedAt, detail: errorText },
      ],
      warnings: [errorText],
      plan: {
        summary: `Role arn:aws:iam::${accountId}:role/gha-deploy for ${userName}`,
        files: ["workflows/deploy.diff"],
        roles: [`arn:aws:iam::${accountId}:role/gha-deploy`],
        nothingToMigrate: false,
        location: "incidents/gh__acme__app__7/evidence/plan/",
      },
    };
    const diff = `-  aws-access-key-id: ${accessKeyId}\n+  role-to-assume: arn:aws:iam::${accountId}:role/gha-deploy`;
    const issue = incidentIssue({
      incident,
      findings,
      diffs: [{ path: "deploy.yml", diff }],
      hideIps: false,
    });
    const ips = [...story.cast.attackerIps, ...story.cast.runnerIps];
    return { issue, story, incident, errorText, ips, text: visible(`${issue.title}\n${issue.body}`) };
  }

  /** What a reader sees: entities decoded, zero-width spaces gone. */
  function visible(markdown: string): string {
    return renderedText(markdown).replace(/&#8203;|\u200b/g, "");
  }

  for (const visibility of ["public", undefined] as const) {
    it(`names no account id, IP, user name, committer or error text (${visibility ?? "visibility unknown"})`, () => {
      const { text, story, errorText, ips } = leakScenario(visibility);
      expect(text).not.toContain(story.cast.accountId);
      for (const ip of ips) expect(text).not.toContain(ip);
      expect(text).not.toContain(story.cast.userName);
      expect(text).not.toContain("octo-dev");
      expect(text).not.toContain("Octo Developer");
      expect(text).not.toContain("AccessDenied");
      expect(text).not.toContain(errorText);
      expect(text).not.toContain("deploy/settings.env");
      expect(text).not.toContain("role-to-assume");
      // The key id is sensitive on a public page: its last four characters only.
      expect(text).not.toContain(story.cast.accessKeyId);
      expect(text).not.toContain(story.cast.accessKeyId.slice(0, 8));
    });

    it(`says a key was contained, when (UTC), and where the private report is (${visibility ?? "visibility unknown"})`, () => {
      const { issue, text, story } = leakScenario(visibility);
      expect(text).toContain(story.cast.accessKeyId.slice(-4));
      expect(text).toContain(formatUtc(story.containedAt));
      expect(text).toMatch(/contained/i);
      expect(text).toMatch(
        /private audit report of incident `gh__acme__app__7`, stored .*incidents\/gh__acme__app__7\/evidence\//,
      );
      // The title still ends with the incident id: a retry finds the issue instead of opening a second.
      expect(issue.title.endsWith("(gh__acme__app__7)")).toBe(true);
    });
  }

  it("a private or internal repository keeps the full issue, with who put the key there", () => {
    for (const visibility of ["private", "internal"] as const) {
      const { text, story, ips } = leakScenario(visibility);
      expect(text).toContain(story.cast.accessKeyId);
      expect(text).toContain(story.cast.userName);
      expect(text).toContain("AccessDenied");
      expect(ips.some((ip) => text.includes(ip))).toBe(true);
      expect(text).toContain("deploy/settings.env");
      expect(text).toMatch(/author octo-dev \(Octo Developer\)/);
      expect(text).toMatch(/committer web-flow \(GitHub\)/);
    }
  });

  it("GITHUB_ISSUE_HIDE_IPS still leaves the addresses out of a private repository's issue", () => {
    const story = attackerStory();
    const base = leakScenario("private");
    const issue = incidentIssue({
      incident: base.incident,
      findings: analyzeTrail(parseTrailEvents(asLogFile(story.records)), {
        leakedAt: story.leakedAt,
        containedAt: story.containedAt,
        accessKeyIds: [story.cast.accessKeyId],
      }),
      diffs: [],
      hideIps: true,
    });
    expect(issue.body).not.toContain("| Source address |");
    // Reasons, details and warnings quote addresses too: none is left anywhere in the issue.
    const text = visible(issue.body);
    for (const ip of base.ips) expect(text).not.toContain(ip);
    expect(text).toContain(story.cast.userName);
  });
});
