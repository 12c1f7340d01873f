import { PermanentFailure, TransientFailure } from "../../domain/errors.js";

/** GitHub's answer, in the playbook's terms: 5xx, 429 and network trouble pass; 4xx needs a person. */
export function toResponderError(error: unknown, what: string): Error {
  const status = typeof error === "object" && error !== null && "status" in error ? Number(error.status) : 0;
  // Only the status travels on: the raw Octokit error carries the request, headers included.
  const cause = { name: error instanceof Error ? error.name : "Unknown", status };
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
