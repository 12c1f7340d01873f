import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import { parseSince, renderSummaryMarkdown, summarizeIncidents } from "../../src/report/summary.js";

const NOW = new Date("2026-11-30T12:00:00Z");

function incident(
  id: string,
  daysAgo: number,
  options: {
    ttcMs?: number;
    repository?: string;
    user?: string;
    account?: string;
    status?: Incident["status"];
    verdict?: string;
  } = {},
): Incident {
  const created = new Date(NOW.getTime() - daysAgo * 86_400_000);
  const at = (ms: number) => new Date(created.getTime() + ms).toISOString();
  return {
    id,
    version: 1,
    source: "github-alert",
    status: options.status ?? "contained",
    summary: "",
    deliveryIds: [],
    mode: "enforce",
    warnings: [],
    ...(options.repository ? { repository: options.repository } : {}),
    ...(options.user
      ? {
          location: {
            accountId: options.account ?? "111122223333",
            viaMemberRole: false,
            userName: options.user,
          },
        }
      : {}),
    ...(options.verdict
      ? {
          forensics: {
            window: { startTime: at(0), endTime: at(1) },
            regions: [],
            accessKeyIds: [],
            eventCount: 0,
            incompleteRegions: [],
            complete: true,
            rolesAssumed: [],
            rolesRevoked: [],
            parts: [],
            verdict: options.verdict,
          },
        }
      : {}),
    timeline: [
      { step: "webhook-received", outcome: "done", at: at(0), detail: "" },
      ...(options.ttcMs === undefined
        ? []
        : [
            { step: "key-deactivated" as const, outcome: "done" as const, at: at(options.ttcMs), detail: "" },
          ]),
    ],
    createdAt: at(0),
    updatedAt: at(1000),
  };
}

describe("summarizeIncidents: the periodic summary", () => {
  const incidents = [
    incident("a", 2, { ttcMs: 300, repository: "acme/api", user: "ci-deploy", verdict: "compromised" }),
    incident("b", 5, { ttcMs: 900, repository: "acme/api", user: "ci-deploy", verdict: "expected-use-only" }),
    incident("c", 10, {
      ttcMs: 500,
      repository: "acme/web",
      user: "ci-deploy",
      account: "444455556666",
      verdict: "no-use-since-leak",
    }),
    incident("d", 12, { status: "failed", repository: "acme/web", user: "web-ci" }),
    incident("e", 20, { ttcMs: 4_000, repository: "acme/ops", user: "ops", verdict: "suspicious" }),
    incident("old", 45, { ttcMs: 60_000, repository: "acme/api", user: "ci-deploy" }),
  ];
  const summary = summarizeIncidents(incidents, parseSince("30d", NOW), NOW);

  it("counts the incidents in the period only", () => {
    expect(summary.count).toBe(5);
    expect(summary.incidents.map((row) => row.id)).toEqual(["e", "d", "c", "b", "a"]);
  });

  it("gives the median and the worst time to contain, over the incidents that were contained", () => {
    // 300, 500, 900, 4000: the median of an even count is the mean of the middle two.
    expect(summary.timeToContain).toEqual({ measured: 4, medianMs: 700, worstMs: 4_000, worstIncident: "e" });
    const odd = summarizeIncidents(incidents.slice(0, 3), parseSince("30d", NOW), NOW);
    expect(odd.timeToContain.medianMs).toBe(500);
  });

  it("counts verdicts and statuses", () => {
    expect(summary.verdicts).toEqual({
      compromised: 1,
      "expected-use-only": 1,
      "no-use-since-leak": 1,
      "not analysed": 1,
      suspicious: 1,
    });
    expect(summary.statuses).toEqual({ contained: 4, failed: 1 });
  });

  it("names the repositories and users that leaked twice or more (a user is per account)", () => {
    expect(summary.repeatRepositories).toEqual([
      { name: "acme/api", incidents: ["a", "b"] },
      { name: "acme/web", incidents: ["c", "d"] },
    ]);
    expect(summary.repeatUsers).toEqual([{ name: "111122223333/ci-deploy", incidents: ["a", "b"] }]);
  });

  it("renders as Markdown a person can paste into a review", () => {
    const md = renderSummaryMarkdown(summary);
    expect(md).toContain("- Incidents: 5");
    expect(md).toContain("median 700 ms, worst 4.0 s (e), over 4 contained");
    expect(md).toContain("- repository acme/api: 2 incidents (a, b)");
    expect(md).toContain("- user 111122223333/ci-deploy: 2 incidents");
  });

  it("says so when nothing happened", () => {
    const empty = summarizeIncidents([], parseSince("7d", NOW), NOW);
    expect(empty).toMatchObject({
      count: 0,
      timeToContain: { measured: 0 },
      repeatRepositories: [],
      repeatUsers: [],
    });
    expect(renderSummaryMarkdown(empty)).toContain("no contained incident");
  });
});

describe("parseSince", () => {
  it("reads days, hours, minutes and ISO dates", () => {
    expect(parseSince("30d", NOW).toISOString()).toBe("2026-10-31T12:00:00.000Z");
    expect(parseSince("12h", NOW).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(parseSince("90m", NOW).toISOString()).toBe("2026-11-30T10:30:00.000Z");
    expect(parseSince("2026-11-01", NOW).toISOString()).toBe("2026-11-01T00:00:00.000Z");
  });

  it("refuses anything else with a clear error", () => {
    for (const bad of ["30", "d30", "1w", "yesterday", "2026-13-45"]) {
      expect(() => parseSince(bad, NOW)).toThrow(InvalidInputError);
    }
  });
});
