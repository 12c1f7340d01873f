import { PermanentFailure, TransientFailure } from "../../domain/errors.js";
import { unreachable, unreachableWords } from "../network-errors.js";

/**
 * The 4xx answers that a retry cannot change. 400 comes from the alert PATCH when the resolution asks
 * for no change; 410 from the issue calls when the repository has issues disabled.
 */
const PERMANENT_REASONS: Partial<Record<number, string>> = {
  400: "GitHub refused the request (malformed, or an alert update with no change to make)",
  401: "GitHub rejected the responder's credentials",
  403: "GitHub denied access (the App or token lacks the secret_scanning_alerts permission?)",
  404: "GitHub answered Not Found (repository or alert not visible to the App or token)",
  410: "GitHub answered Gone (issues are disabled on this repository)",
  422: "GitHub refused the request as invalid",
};

/** GitHub's answer, in the playbook's terms: 5xx, 429 and network trouble pass; 4xx needs a person. */
export function toResponderError(error: unknown, what: string): Error {
  // Already classified (the client could not even be made): keep its class, add what was being done.
  if (error instanceof PermanentFailure) return new PermanentFailure(`${what}: ${error.message}`, error.code);
  const status = typeof error === "object" && error !== null && "status" in error ? Number(error.status) : 0;
  // Only the status travels on: the raw Octokit error carries the request, headers included.
  const cause = { name: error instanceof Error ? error.name : "Unknown", status };
  if (status === 403 && rateLimited(error)) {
    // GitHub answers an exhausted or secondary rate limit with 403 (or 429): it passes with time.
    return new TransientFailure(`${what}: GitHub rate limit reached (HTTP 403)`, "github-rate-limited", {
      cause,
    });
  }
  // Octokit gives a request that got no answer status 500: that is no answer, not GitHub's 500.
  const away = unreachable(error, "GitHub");
  if (away) {
    return new TransientFailure(`${what}: ${unreachableWords(away)}`, "github-unreachable", { cause });
  }
  const reason = PERMANENT_REASONS[status];
  if (reason) {
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
