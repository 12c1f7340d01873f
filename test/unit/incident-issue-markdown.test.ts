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
import { mdText } from "../../src/report/markdown-text.js";
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
