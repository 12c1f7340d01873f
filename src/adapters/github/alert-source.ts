/**
 * Secret scanning alerts through the GitHub REST API (facts.md: the webhook carries no secret, the
 * alert fetch does; resolve as `revoked` after containment).
 */
import { SecretValue } from "../../domain/secret.js";
import { withoutUndefined } from "../../domain/without-undefined.js";
import type { AlertDetails, AlertLocation, AlertRef, AlertSource } from "../../ports.js";
import { toResponderError } from "./github-errors.js";
import type { GitHubClient } from "./octokit.js";

function split(repository: string): { owner: string; repo: string } {
  const [owner = "", repo = ""] = repository.split("/");
  return { owner, repo };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * The location kinds GitHub reports (`secret-scanning-location`), told apart in
 * `first_location_detected` (which has no `type`) by the field only that kind carries.
 */
const TYPE_BY_FIELD: ReadonlyArray<readonly [field: string, type: string]> = [
  ["page_url", "wiki_commit"],
  ["commit_sha", "commit"],
  ["issue_title_url", "issue_title"],
  ["issue_body_url", "issue_body"],
  ["issue_comment_url", "issue_comment"],
  ["discussion_title_url", "discussion_title"],
  ["discussion_body_url", "discussion_body"],
  ["discussion_comment_url", "discussion_comment"],
  ["pull_request_title_url", "pull_request_title"],
  ["pull_request_body_url", "pull_request_body"],
  ["pull_request_comment_url", "pull_request_comment"],
  ["pull_request_review_url", "pull_request_review"],
  ["pull_request_review_comment_url", "pull_request_review_comment"],
];

/** A page a person can open: GitHub's API URLs (api.github.com, GHES `/api/v3`) are never linked. */
function pageUrl(value: unknown): string | undefined {
  const url = str(value);
  if (!url) return undefined;
  try {
    const { hostname, pathname } = new URL(url);
    if (hostname.startsWith("api.") || pathname.startsWith("/api/")) return undefined;
  } catch {
    return undefined;
  }
  return url;
}

function location(raw: unknown, type?: string): AlertLocation | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const details = raw as Record<string, unknown>;
  const inferred = type ?? TYPE_BY_FIELD.find(([field]) => field in details)?.[1] ?? "unknown";
  return {
    type: inferred,
    ...withoutUndefined({
      path: str(details.path),
      startLine: typeof details.start_line === "number" ? details.start_line : undefined,
      commitSha: str(details.commit_sha),
      url: pageUrl(details.html_url) ?? pageUrl(details.page_url),
    }),
  };
}

export class GitHubAlertSource implements AlertSource {
  constructor(private readonly clientFor: (installationId?: number) => GitHubClient) {}

  async getAlert(ref: AlertRef): Promise<AlertDetails> {
    const { owner, repo } = split(ref.repository);
    try {
      const { data } = await this.clientFor(ref.installationId).request(
        "GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}",
        { owner, repo, alert_number: ref.alertNumber },
      );
      const raw = data as Record<string, unknown>;
      const firstLocation =
        location(raw.first_location_detected) ?? (await this.firstListedLocation(ref, owner, repo));
      const details: AlertDetails = {
        number: Number(raw.number),
        state: String(raw.state),
        resolution: str(raw.resolution) ?? null,
        secretType: str(raw.secret_type) ?? "unknown",
        secret: new SecretValue(str(raw.secret) ?? ""),
      };
      return {
        ...details,
        ...withoutUndefined({
          secretTypeDisplayName: str(raw.secret_type_display_name),
          htmlUrl: str(raw.html_url),
          createdAt: str(raw.created_at),
          validity: str(raw.validity),
          publiclyLeaked: typeof raw.publicly_leaked === "boolean" ? raw.publicly_leaked : undefined,
          firstLocation,
        }),
      };
    } catch (error: unknown) {
      throw toResponderError(error, `Fetching alert ${ref.repository}#${ref.alertNumber}`);
    }
  }

  /**
   * GHES (and older alerts) carry no `first_location_detected`: the locations API lists them, oldest
   * first, each with its `type`.
   */
  private async firstListedLocation(
    ref: AlertRef,
    owner: string,
    repo: string,
  ): Promise<AlertLocation | undefined> {
    // Where the key leaked helps the people, not the containment: a failure here never blocks it.
    const listed = await this.clientFor(ref.installationId)
      .request("GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}/locations", {
        owner,
        repo,
        alert_number: ref.alertNumber,
        per_page: 1,
      })
      .then(
        ({ data }) => data as Array<{ type?: unknown; details?: unknown }>,
        () => [],
      );
    const [first] = listed;
    return first ? location(first.details, str(first.type)) : undefined;
  }

  async commitTime(ref: AlertRef, commitSha: string): Promise<string | undefined> {
    const { owner, repo } = split(ref.repository);
    try {
      const { data } = await this.clientFor(ref.installationId).request(
        "GET /repos/{owner}/{repo}/commits/{ref}",
        {
          owner,
          repo,
          ref: commitSha,
        },
      );
      const commit = (data as { commit?: { committer?: { date?: unknown }; author?: { date?: unknown } } })
        .commit;
      return str(commit?.committer?.date) ?? str(commit?.author?.date);
    } catch (error: unknown) {
      throw toResponderError(error, `Reading commit ${commitSha.slice(0, 12)} of ${ref.repository}`);
    }
  }

  async resolveAlert(ref: AlertRef, comment: string): Promise<void> {
    const { owner, repo } = split(ref.repository);
    try {
      await this.clientFor(ref.installationId).request(
        "PATCH /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}",
        {
          owner,
          repo,
          alert_number: ref.alertNumber,
          state: "resolved",
          resolution: "revoked",
          // GitHub limits the comment; keep it well inside.
          resolution_comment: comment.slice(0, 270),
        },
      );
    } catch (error: unknown) {
      throw toResponderError(error, `Resolving alert ${ref.repository}#${ref.alertNumber}`);
    }
  }
}
