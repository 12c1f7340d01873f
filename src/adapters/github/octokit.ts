/**
 * Octokit clients for the GitHub REST API: a GitHub App installation token (minted per installation
 * by @octokit/auth-app and refreshed by it) or a plain token. Transient failures (5xx, 429, network)
 * are retried by @octokit/plugin-retry before the error reaches the playbook.
 */
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import type { GitHubAuthConfig } from "../../config.js";

const GitHub = Octokit.plugin(retry, paginateRest);
export type GitHubClient = InstanceType<typeof GitHub>;

export interface GitHubClientOptions {
  /** Retries of a transient failure (plugin-retry's default is 3). */
  retries?: number;
  /** Base delay between retries in ms; plugin-retry grows it quadratically. */
  retryAfterBaseMs?: number;
}

/** Returns the client for an installation (App mode) or the single token client. */
export function githubClients(config: GitHubAuthConfig, options: GitHubClientOptions = {}) {
  const cache = new Map<string, GitHubClient>();
  const retryOptions = {
    retries: options.retries ?? 3,
    ...(options.retryAfterBaseMs === undefined ? {} : { retryAfterBaseValue: options.retryAfterBaseMs }),
  };
  const userAgent = "leak-responder";
  return (installationId?: number): GitHubClient => {
    const key = config.auth.kind === "app" ? `app:${installationId ?? "none"}` : "token";
    const cached = cache.get(key);
    if (cached) return cached;
    let client: GitHubClient;
    if (config.auth.kind === "app") {
      if (installationId === undefined) {
        throw new Error("GitHub App mode needs the installation id from the delivery");
      }
      client = new GitHub({
        baseUrl: config.apiUrl,
        userAgent,
        retry: retryOptions,
        authStrategy: createAppAuth,
        auth: { appId: config.auth.appId, privateKey: config.auth.privateKey, installationId },
      });
    } else {
      client = new GitHub({
        baseUrl: config.apiUrl,
        userAgent,
        retry: retryOptions,
        auth: config.auth.token,
      });
    }
    cache.set(key, client);
    return client;
  };
}
