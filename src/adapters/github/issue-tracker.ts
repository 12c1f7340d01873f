/** Issues in the affected repository through the GitHub REST API (step 8: tell the code owners). */
import type { AlertRef, IssueTracker } from "../../ports.js";
import { toResponderError } from "./github-errors.js";
import type { GitHubClient } from "./octokit.js";

/** GitHub refuses issue bodies over 65,536 characters. */
export const MAX_ISSUE_BODY = 65_000;

export class GitHubIssueTracker implements IssueTracker {
  constructor(private readonly clientFor: (installationId?: number) => GitHubClient) {}

  async findIssue(ref: AlertRef, label: string, marker: string) {
    const [owner = "", repo = ""] = ref.repository.split("/");
    try {
      const issues = await this.clientFor(ref.installationId).paginate("GET /repos/{owner}/{repo}/issues", {
        owner,
        repo,
        labels: label,
        state: "all",
        per_page: 100,
      });
      // The title ends "(<incident id>)": match the whole id, so incident ..._1 never takes ..._11's issue.
      const found = (issues as Array<{ number: number; title: string; html_url: string }>).find((issue) =>
        issue.title.endsWith(`(${marker})`),
      );
      return found ? { number: found.number, url: found.html_url } : undefined;
    } catch (error: unknown) {
      throw toResponderError(error, `Listing issues of ${ref.repository}`);
    }
  }

  async openIssue(ref: AlertRef, issue: { title: string; body: string; labels: string[] }) {
    const [owner = "", repo = ""] = ref.repository.split("/");
    try {
      const { data } = await this.clientFor(ref.installationId).request("POST /repos/{owner}/{repo}/issues", {
        owner,
        repo,
        title: issue.title.slice(0, 250),
        body:
          issue.body.length > MAX_ISSUE_BODY
            ? `${issue.body.slice(0, MAX_ISSUE_BODY)}\n\n… (truncated)`
            : issue.body,
        labels: issue.labels,
      });
      return { number: data.number, url: data.html_url };
    } catch (error: unknown) {
      throw toResponderError(error, `Opening an issue in ${ref.repository}`);
    }
  }
}
