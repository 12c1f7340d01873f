/**
 * Secret scanning alerts through the GitHub REST API (facts.md: the webhook carries no secret, the
 * alert fetch does; resolve as `revoked` after containment).
 */

import type { LeakPerson } from "../../domain/incident.js";
import { SecretValue } from "../../domain/secret.js";
import { withoutUndefined } from "../../domain/without-undefined.js";
import type { AlertDetails, AlertLocation, AlertRef, AlertSource, LeakOrigin } from "../../ports.js";
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

/**
 * The locations API names no person (`secret-scanning-location-*`: paths, SHAs and API URLs only).
 * An issue, pull request or comment location gives the API URL of the item, whose `user.login` is
 * its author. Only the path is kept, and only when it is one of this repository's items: it is later
 * asked of the configured API, so the token never goes to a host a payload named.
 */
const ITEM_PATH =
  /\/repos\/([^/]+)\/([^/]+)\/((?:issues|pulls)\/comments\/\d+|issues\/\d+|pulls\/\d+(?:\/reviews\/\d+)?)$/;

/**
 * `/repos/OWNER/NAME/ITEM` rebuilt from the parts of `path` (a URL's path, GHES's `/api/v3` prefix
 * included) when it names an item of `repository`; never the text it was given, so whatever is
 * asked with the token is a path of the configured API, whatever a payload or a stored record held.
 */
function repositoryItemPath(path: string, repository: string): string | undefined {
  const match = ITEM_PATH.exec(path);
  if (!match || `${match[1]}/${match[2]}`.toLowerCase() !== repository.toLowerCase()) return undefined;
  return `/repos/${match[1]}/${match[2]}/${match[3]}`;
}

function itemApiPath(details: Record<string, unknown>, repository: string): string | undefined {
  for (const [field] of TYPE_BY_FIELD) {
    const url = str(details[field]);
    if (!url || !field.endsWith("_url")) continue;
    try {
      return repositoryItemPath(new URL(url).pathname, repository);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function location(raw: unknown, repository: string, type?: string): AlertLocation | undefined {
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
      apiPath: itemApiPath(details, repository),
    }),
  };
}

/** A commit's author or committer: the GitHub account GitHub matched (top level) and git's name. */
function commitPerson(role: LeakPerson["role"], account: unknown, git: unknown): LeakPerson[] {
  const login = str((account as { login?: unknown } | null | undefined)?.login);
  const name = str((git as { name?: unknown } | null | undefined)?.name);
  return login || name ? [{ role, ...withoutUndefined({ login, name }) }] : [];
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
        location(raw.first_location_detected, ref.repository) ??
        (await this.firstListedLocation(ref, owner, repo));
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
    return first ? location(first.details, ref.repository, str(first.type)) : undefined;
  }

  async leakOrigin(ref: AlertRef, where: { commitSha?: string; apiPath?: string }): Promise<LeakOrigin> {
    if (where.commitSha) return this.commitOrigin(ref, where.commitSha);
    if (where.apiPath) return this.itemAuthor(ref, where.apiPath);
    return { people: [] };
  }

  private async commitOrigin(ref: AlertRef, commitSha: string): Promise<LeakOrigin> {
    const { owner, repo } = split(ref.repository);
    try {
      const { data } = await this.clientFor(ref.installationId).request(
        "GET /repos/{owner}/{repo}/commits/{ref}",
        { owner, repo, ref: commitSha },
      );
      const raw = data as {
        author?: unknown;
        committer?: unknown;
        commit?: { committer?: { date?: unknown }; author?: { date?: unknown } };
      };
      const committedAt = str(raw.commit?.committer?.date) ?? str(raw.commit?.author?.date);
      return {
        ...(committedAt ? { committedAt } : {}),
        people: [
          ...commitPerson("author", raw.author, raw.commit?.author),
          ...commitPerson("committer", raw.committer, raw.commit?.committer),
        ],
      };
    } catch (error: unknown) {
      throw toResponderError(error, `Reading commit ${commitSha.slice(0, 12)} of ${ref.repository}`);
    }
  }

  /** The author of the issue, pull request, review or comment at `apiPath` (its `user.login`). */
  private async itemAuthor(ref: AlertRef, apiPath: string): Promise<LeakOrigin> {
    // Rebuilt here too: the path may come from a stored incident, and it is sent with the token.
    const path = repositoryItemPath(apiPath, ref.repository);
    if (!path) return { people: [] };
    try {
      const { data } = await this.clientFor(ref.installationId).request(`GET ${path}`);
      const login = str((data as { user?: { login?: unknown } | null }).user?.login);
      return { people: login ? [{ role: "author", login }] : [] };
    } catch (error: unknown) {
      throw toResponderError(error, `Reading the item that holds alert ${ref.repository}#${ref.alertNumber}`);
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
