import { PermanentFailure, TransientFailure } from "../../domain/errors.js";

/** GitHub's answer, in the playbook's terms: 5xx, 429 and network trouble pass; 4xx needs a person. */
export function toResponderError(error: unknown, what: string): Error {
  const status = typeof error === "object" && error !== null && "status" in error ? Number(error.status) : 0;
  // Only the status travels on: the raw Octokit error carries the request, headers included.
  const cause = { name: error instanceof Error ? error.name : "Unknown", status };
  if (status === 403 && rateLimited(error)) {
    // GitHub answers an exhausted or secondary rate limit with 403 (or 429): it passes with time.
    return new TransientFailure(`${what}: GitHub rate limit reached (HTTP 403)`, "github-rate-limited", {
      cause,
    });
  }
  if (status === 401 || status === 403 || status === 404 || status === 422) {
    const reason =
      status === 401
        ? "GitHub rejected the responder's credentials"
        : status === 403
          ? "GitHub denied access (the App or token lacks the secret_scanning_alerts permission?)"
          : status === 404
            ? "GitHub answered Not Found (repository or alert not visible to the App or token)"
            : "GitHub refused the request as invalid";
    return new PermanentFailure(`${what}: ${reason} (HTTP ${status})`, `github-${status}`, { cause });
  }
  const code = status ? `github-${status}` : "github-unreachable";
  return new TransientFailure(`${what}: GitHub did not answer properly (${status || "no response"})`, code, {
    cause,
  });
}

/** The rate-limit headers of GitHub's answer: `x-ratelimit-remaining: 0` or a `retry-after`. */
function rateLimited(error: unknown): boolean {
  const response =
    typeof error === "object" && error !== null && "response" in error ? error.response : undefined;
  const headers =
    typeof response === "object" && response !== null && "headers" in response ? response.headers : undefined;
  if (typeof headers !== "object" || headers === null) return false;
  const get = (name: string) => (headers as Record<string, unknown>)[name];
  return String(get("x-ratelimit-remaining")) === "0" || get("retry-after") !== undefined;
}
