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

function location(raw: unknown): AlertLocation | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const details = raw as Record<string, unknown>;
  return {
    type: "commit",
    ...withoutUndefined({
      path: str(details.path),
      startLine: typeof details.start_line === "number" ? details.start_line : undefined,
      commitSha: str(details.commit_sha),
      blobUrl: str(details.blob_url),
      url: str(details.commit_url),
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
          firstLocation: location(raw.first_location_detected),
        }),
      };
    } catch (error: unknown) {
      throw toResponderError(error, `Fetching alert ${ref.repository}#${ref.alertNumber}`);
    }
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
