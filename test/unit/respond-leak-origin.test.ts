/**
 * Issue 11: the incident records where the key leaked (the first location's type) and who put it
 * there, from the commit or the comment, after containment; the repository's visibility decides
 * whether the issue opened in it may say any of it.
 */
import { describe, expect, it } from "vitest";
import type { RepositoryVisibility } from "../../src/domain/alert-job.js";
import { afterContainment } from "../../src/playbook/after-containment.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import type { AlertLocation, AlertRef, IssueTracker } from "../../src/ports.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/report-model.js";
import { FakeAlertSource } from "../support/fakes.js";
import { investigationDeps, world } from "../support/respond-world.js";

class RecordingTracker implements IssueTracker {
  readonly opened: Array<{ title: string; body: string }> = [];
  async findIssue() {
    return undefined;
  }
  async openIssue(_ref: AlertRef, issue: { title: string; body: string; labels: string[] }) {
    this.opened.push(issue);
    return { number: this.opened.length, url: `https://github.com/acme/api/issues/${this.opened.length}` };
  }
}

function scenario(firstLocation: AlertLocation, visibility?: RepositoryVisibility) {
  const w = world();
  const alerts = new FakeAlertSource({
    number: 7,
    state: "open",
    secretType: "aws_access_key_id",
    secret: w.accessKeyId,
    createdAt: "2026-11-26T01:59:00.000Z",
    firstLocation,
  });
  alerts.origin = {
    committedAt: "2026-11-26T01:30:00.000Z",
    people: [
      { role: "author", login: "octo-dev", name: "Octo Developer" },
      { role: "committer", login: "web-flow", name: "GitHub" },
    ],
  };
  const tracker = new RecordingTracker();
  const deps = {
    ...w.deps,
    alerts,
    issues: { tracker, hideIps: false },
    afterContainment,
    investigation: investigationDeps("leak-origin-"),
  };
  const job = { ...w.job(), ...(visibility ? { repositoryVisibility: visibility } : {}) };
  if (!visibility) delete job.repositoryVisibility;
  return { w, alerts, tracker, deps, job };
}

const COMMIT: AlertLocation = { type: "commit", path: "deploy/.env", startLine: 4, commitSha: "c0ffee1" };

describe("the leak's origin on the incident, the report and the issue", () => {
  it("a commit location: its type, author and committer are recorded and shown in the report", async () => {
    const { alerts, deps, job } = scenario(COMMIT, "private");
    const { incident } = await respondToAlert(job, deps);
    expect(incident.repositoryVisibility).toBe("private");
    expect(alerts.originAsked).toEqual([{ commitSha: "c0ffee1" }]);
    expect(incident.leakLocation).toMatchObject({
      type: "commit",
      people: [
        { role: "author", login: "octo-dev", name: "Octo Developer" },
        { role: "committer", login: "web-flow", name: "GitHub" },
      ],
    });
    expect(incident.leakedAt).toBe("2026-11-26T01:30:00.000Z");
    const report = buildReport({ incident, generatedAt: incident.updatedAt });
    for (const text of [renderMarkdown(report), renderHtml(report)]) {
      expect(text).toMatch(/commit author octo-dev \(Octo Developer\), committer web-flow \(GitHub\)/);
    }
  });

  it("an issue comment location: its author is read from the comment's API path, and the type named", async () => {
    const apiPath = "/repos/acme/api/issues/comments/9";
    const { alerts, deps, job } = scenario({ type: "issue_comment", apiPath }, "internal");
    alerts.origin = { people: [{ role: "author", login: "octo-commenter" }] };
    const { incident } = await respondToAlert(job, deps);
    expect(alerts.originAsked).toEqual([{ apiPath }]);
    expect(incident.leakLocation).toMatchObject({
      type: "issue_comment",
      people: [{ login: "octo-commenter" }],
    });
    // The comment's time is no commit time: the alert's creation still stands for the leak.
    expect(incident.leakedAtSource).toBe("alert");
    const md = renderMarkdown(buildReport({ incident, generatedAt: incident.updatedAt }));
    expect(md).toContain("issue comment");
    expect(md).toContain("author octo-commenter");
  });

  it("the private repository's issue names who put the key there; a public or unknown one names nobody", async () => {
    const shown: Record<string, string> = {};
    for (const visibility of ["private", "public", undefined] as const) {
      const { w, tracker, deps, job } = scenario(COMMIT, visibility);
      await respondToAlert(job, deps);
      expect(tracker.opened).toHaveLength(1);
      const text = `${tracker.opened[0]?.title}\n${tracker.opened[0]?.body}`;
      shown[visibility ?? "unknown"] = text;
      if (visibility === "private") {
        expect(text).toContain("octo-dev");
        expect(text).toContain("ci-deploy");
      } else {
        for (const hidden of [
          "octo-dev",
          "Octo Developer",
          "web-flow",
          w.owner,
          "ci-deploy",
          w.accessKeyId,
        ]) {
          expect(text).not.toContain(hidden);
        }
        expect(text).toContain(w.accessKeyId.slice(-4));
      }
    }
    expect(Object.keys(shown)).toHaveLength(3);
  });
});
