/** Issues in the affected repository through the GitHub REST API (step 8: tell the code owners). */
import type { AlertRef, IssueRepositoryRef, IssueTracker } from "../../ports.js";
import { toResponderError } from "./github-errors.js";
import type { GitHubClient } from "./octokit.js";

/**
 * The body with `- [ ] <item>` ticked for each item whose whole text matches, at the start of a line
 * (any `-`, `*` or `+` bullet, any indentation); everything else, a person's edits and ticks among
 * them, is left exactly as it was. Returns the items ticked.
 */
export function tickChecklist(body: string, items: readonly string[]): { body: string; ticked: string[] } {
  const wanted = new Set(items);
  const ticked = new Set<string>();
  const lines = body.split("\n").map((line) => {
    const match = /^(\s*[-*+] )\[ \] (.*?)(\r?)$/.exec(line);
    if (!match || !wanted.has(match[2] ?? "")) return line;
    ticked.add(match[2] ?? "");
    return `${match[1]}[x] ${match[2]}${match[3]}`;
  });
  return { body: lines.join("\n"), ticked: [...ticked] };
}

/** GitHub refuses issue bodies over 65,536 characters. */
export const MAX_ISSUE_BODY = 65_000;

export class GitHubIssueTracker implements IssueTracker {
  constructor(
    private readonly clientFor: ((installationId?: number) => GitHubClient) & {
      installationOf?: (repository: string) => Promise<number | undefined>;
    },
  ) {}

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

  /**
   * GET the issue, tick the items, PATCH the body only when something changed (GitHub's issue PATCH
   * takes no precondition: the window for a person's edit to cross it is one round trip, once a day).
   * 404 and 410 are told, not thrown.
   */
  async updateChecklist(ref: IssueRepositoryRef, issueNumber: number, items: readonly string[]) {
    const [owner = "", repo = ""] = ref.repository.split("/");
    const what = `Updating the checklist of issue #${issueNumber} in ${ref.repository}`;
    try {
      // The follow-through may hold an incident no webhook delivered (no installation): GitHub is asked.
      const client = this.clientFor(
        ref.installationId ?? (await this.clientFor.installationOf?.(ref.repository)),
      );
      const { data } = await client.request("GET /repos/{owner}/{repo}/issues/{issue_number}", {
        owner,
        repo,
        issue_number: issueNumber,
      });
      const body = typeof data.body === "string" ? data.body : "";
      const next = tickChecklist(body, items);
      if (next.ticked.length === 0) return { ticked: [] };
      await client.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
        owner,
        repo,
        issue_number: issueNumber,
        body: next.body,
      });
      return { ticked: next.ticked };
    } catch (error: unknown) {
      const status =
        typeof error === "object" && error !== null && "status" in error ? Number(error.status) : 0;
      // 404: the issue or repository is gone (or hidden from the App); 410: issues are disabled.
      if (status === 404 || status === 410) return { unavailable: toResponderError(error, what).message };
      throw toResponderError(error, what);
    }
  }
}
