/**
 * Octokit clients for the GitHub REST API: a GitHub App installation token (minted per installation
 * by @octokit/auth-app and refreshed by it) or a plain token. Transient failures (5xx, 429, network,
 * a call that outlasts the timeout) are retried by @octokit/plugin-retry before the error reaches
 * the playbook.
 */
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import { DEFAULT_CALL_TIMEOUT_MS, type GitHubAuthConfig } from "../../config.js";
import { PermanentFailure } from "../../domain/errors.js";
import { toResponderError } from "./github-errors.js";

const GitHub = Octokit.plugin(retry, paginateRest);
export type GitHubClient = InstanceType<typeof GitHub>;

export interface GitHubClientOptions {
  /** Retries of a transient failure (plugin-retry's default is 3). */
  retries?: number;
  /** Base delay between retries in ms; plugin-retry grows it quadratically. */
  retryAfterBaseMs?: number;
  /** One request's limit, each try on its own (default DEFAULT_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * fetch with a deadline per request. @octokit/request has no timeout of its own and gives a
 * caller's AbortError back without a `request`, which plugin-retry then never retries; a timeout
 * signal's rejection (`TimeoutError`) instead becomes a RequestError with status 500, which it
 * retries like any 5xx. A signal the caller passed still aborts the request.
 */
export function fetchWithTimeout(timeoutMs: number, inner: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return inner(input, { ...init, signal });
  };
}

export type GitHubClients = ReturnType<typeof githubClients>;

/** Returns the client for an installation (App mode) or the single token client. */
export function githubClients(config: GitHubAuthConfig, options: GitHubClientOptions = {}) {
  const cache = new Map<string, GitHubClient>();
  const retryOptions = {
    retries: options.retries ?? 3,
    ...(options.retryAfterBaseMs === undefined ? {} : { retryAfterBaseValue: options.retryAfterBaseMs }),
  };
  const userAgent = "leak-responder";
  // Also used by @octokit/auth-app to mint installation tokens (it calls through octokit.request).
  const request = { fetch: fetchWithTimeout(options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) };
  const newClient = (auth: { appId: number; privateKey: string; installationId?: number } | string) =>
    new GitHub({
      baseUrl: config.apiUrl,
      userAgent,
      request,
      retry: retryOptions,
      ...(typeof auth === "string" ? { auth } : { authStrategy: createAppAuth, auth }),
    });
  const cached = (key: string, make: () => GitHubClient): GitHubClient => {
    let client = cache.get(key);
    if (!client) {
      client = make();
      cache.set(key, client);
    }
    return client;
  };
  const clientFor = (installationId?: number): GitHubClient => {
    const auth = config.auth;
    if (auth.kind === "token") return cached("token", () => newClient(auth.token));
    if (installationId === undefined) {
      // A retry brings no installation: an organisation or repository webhook (not the App's own)
      // delivers to an App-configured responder. Said once, never retried.
      throw new PermanentFailure(
        "GitHub App credentials are configured but the delivery names no installation: subscribe the GitHub App to secret scanning alerts (not an organisation or repository webhook), or configure GITHUB_TOKEN instead of the App",
        "github-no-installation",
      );
    }
    return cached(`app:${installationId}`, () =>
      newClient({ appId: auth.appId, privateKey: auth.privateKey, installationId }),
    );
  };
  const installations = new Map<string, Promise<number | undefined>>();
  /**
   * The App's installation on a repository (`GET /repos/{owner}/{repo}/installation`, answered to
   * the App's own JWT), for incidents no webhook delivered (AWS Health, a person). A token needs no
   * installation: undefined.
   */
  const installationOf = (repository: string): Promise<number | undefined> => {
    const auth = config.auth;
    if (auth.kind !== "app") return Promise.resolve(undefined);
    let found = installations.get(repository.toLowerCase());
    if (!found) {
      const app = cached("app", () => newClient({ appId: auth.appId, privateKey: auth.privateKey }));
      const [owner = "", repo = ""] = repository.split("/");
      found = app.request("GET /repos/{owner}/{repo}/installation", { owner, repo }).then(
        ({ data }) => data.id,
        (error: unknown) => {
          installations.delete(repository.toLowerCase());
          if ((error as { status?: unknown }).status === 404) {
            throw new PermanentFailure(
              `The GitHub App is not installed on ${repository}, so the responder cannot read its workflows: install it there, or run \`leak-responder plan --repo ${repository}\` with a token`,
              "github-not-installed",
            );
          }
          throw toResponderError(error, `GitHub: the App's installation on ${repository}`);
        },
      );
      installations.set(repository.toLowerCase(), found);
    }
    return found;
  };
  return Object.assign(clientFor, { installationOf });
}
