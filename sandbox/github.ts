/**
 * The GitHub REST API, as much of it as the responder uses, under /github (Octokit's baseUrl).
 * Authentication is real: a token from state.githubTokens, or an installation token minted at
 * POST /app/installations/{id}/access_tokens with a JWT signed by the App's private key (RS256,
 * checked against the App's public key), valid only for that installation's repositories.
 */
import { createHash, createPublicKey, verify } from "node:crypto";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "./service.js";
import type { GitHubAlert, GitHubIssue, GitHubRepo, SandboxState } from "./state.js";

const DOCS = "https://docs.github.com/rest";

interface Route {
  operation: string;
  method: string;
  pattern: RegExp;
}

const ROUTES: Route[] = [
  {
    operation: "createInstallationToken",
    method: "POST",
    pattern: /^\/app\/installations\/(\d+)\/access_tokens$/,
  },
  {
    operation: "getAlert",
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/secret-scanning\/alerts\/(\d+)$/,
  },
  {
    operation: "updateAlert",
    method: "PATCH",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/secret-scanning\/alerts\/(\d+)$/,
  },
  {
    operation: "listAlertLocations",
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/secret-scanning\/alerts\/(\d+)\/locations$/,
  },
  { operation: "createIssue", method: "POST", pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues$/ },
  { operation: "listIssues", method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues$/ },
  { operation: "getIssue", method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)$/ },
  { operation: "updateIssue", method: "PATCH", pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)$/ },
  {
    operation: "listRepoSecrets",
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/actions\/secrets$/,
  },
  {
    operation: "listEnvironmentSecrets",
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/environments\/([^/]+)\/secrets$/,
  },
  { operation: "getRepo", method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)$/ },
  { operation: "getContent", method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/contents(?:\/(.*))?$/ },
  { operation: "listEnvironments", method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/environments$/ },
  {
    operation: "getOidcSubClaim",
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/actions\/oidc\/customization\/sub$/,
  },
  { operation: "getMeta", method: "GET", pattern: /^\/meta$/ },
  {
    operation: "getRepoInstallation",
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/installation$/,
  },
  {
    operation: "getIssueComment",
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/,
  },
  {
    operation: "getCommit",
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([0-9a-f]{7,40})$/,
  },
];

function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

function route(request: SandboxRequest): { route: Route; params: string[] } | undefined {
  const path = request.url.pathname.replace(/^\/github/, "") || "/";
  for (const candidate of ROUTES) {
    if (candidate.method !== request.method) continue;
    const match = candidate.pattern.exec(path);
    if (match) return { route: candidate, params: match.slice(1).map(decodeURIComponent) };
  }
  return undefined;
}

function bearer(request: SandboxRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^(?:token|bearer)\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

function base64url(input: string): Buffer {
  return Buffer.from(input.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

/** Verifies an App JWT (RS256) and returns the App id it was issued for. */
function verifyAppJwt(state: SandboxState, jwt: string): number {
  const [header = "", payload = "", signature = ""] = jwt.split(".");
  let claims: { iss?: unknown; exp?: unknown; iat?: unknown };
  try {
    const head = JSON.parse(base64url(header).toString("utf8")) as { alg?: unknown };
    if (head.alg !== "RS256") throw new Error("alg");
    claims = JSON.parse(base64url(payload).toString("utf8")) as typeof claims;
  } catch {
    throw new SandboxError(401, "Unauthorized", "A JSON web token could not be decoded");
  }
  const appId = Number(claims.iss);
  const app = state.githubApps.get(appId);
  if (!app) throw new SandboxError(401, "Unauthorized", "Integration not found");
  const ok = verify(
    "RSA-SHA256",
    Buffer.from(`${header}.${payload}`),
    createPublicKey(app.publicKeyPem),
    base64url(signature),
  );
  if (!ok) throw new SandboxError(401, "Unauthorized", "A JSON web token could not be decoded");
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== "number" || claims.exp < now || claims.exp - now > 600) {
    throw new SandboxError(
      401,
      "Unauthorized",
      "'Expiration time' claim ('exp') is too far in the future or past",
    );
  }
  return appId;
}

/** The repository, if the request's token may see it; 401/404 as GitHub answers otherwise. */
function authorizedRepo(
  request: SandboxRequest,
  state: SandboxState,
  owner: string,
  name: string,
): GitHubRepo {
  const token = bearer(request);
  if (!token) throw new SandboxError(401, "Unauthorized", "Requires authentication");
  const repo = state.repo(`${owner}/${name}`);
  const installation = state.installationTokens.get(token);
  if (installation) {
    if (installation.expiresAt.getTime() < Date.now())
      throw new SandboxError(401, "Unauthorized", "Bad credentials");
    if (!repo || repo.installationId !== installation.installationId) {
      throw new SandboxError(404, "NotFound", "Not Found");
    }
    return repo;
  }
  if (!state.githubTokens.has(token)) throw new SandboxError(401, "Unauthorized", "Bad credentials");
  if (!repo) throw new SandboxError(404, "NotFound", "Not Found");
  return repo;
}

/** An issue of a repository whose issues are on; 410 Gone when they are off, as GitHub answers. */
function issueOf(repo: GitHubRepo, number: string): GitHubIssue {
  if (repo.issuesDisabled) throw new SandboxError(410, "Gone", "Issues are disabled for this repo");
  const issue = repo.issues.find((candidate) => candidate.number === Number(number));
  if (!issue) throw new SandboxError(404, "NotFound", "Not Found");
  return issue;
}

function issueJson(repo: GitHubRepo, issue: GitHubIssue): Record<string, unknown> {
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body,
    html_url: `https://github.com/${repo.fullName}/issues/${issue.number}`,
    labels: issue.labels.map((name) => ({ name })),
    state: "open",
  };
}

/**
 * GET /repos/{o}/{r}/actions/secrets: names and dates, never values (GitHub returns none either).
 * An App without `secrets: read` gets 403.
 */
function secretsJson(
  repo: GitHubRepo,
  request: SandboxRequest,
  names = repo.actionsSecrets ?? [],
): Record<string, unknown> {
  if (repo.secretsUnreadable)
    throw new SandboxError(403, "Forbidden", "Resource not accessible by integration");
  const perPage = Math.min(100, Math.max(1, Number(request.url.searchParams.get("per_page") ?? 30) || 30));
  const page = Math.max(1, Number(request.url.searchParams.get("page") ?? 1) || 1);
  return {
    total_count: names.length,
    secrets: names
      .slice((page - 1) * perPage, page * perPage)
      .map((name) => ({ name, created_at: repo.createdAt, updated_at: repo.createdAt })),
  };
}

function alertOf(repo: GitHubRepo, number: string): GitHubAlert {
  const alert = repo.alerts.get(Number(number));
  if (!alert) throw new SandboxError(404, "NotFound", "Not Found");
  return alert;
}

function repoJson(repo: GitHubRepo, baseUrl: string): Record<string, unknown> {
  return {
    id: repo.id,
    name: repo.name,
    full_name: repo.fullName,
    private: repo.private,
    owner: { login: repo.owner, id: repo.ownerId, type: "Organization" },
    html_url: `https://github.com/${repo.fullName}`,
    url: `${baseUrl}/repos/${repo.fullName}`,
    default_branch: repo.defaultBranch,
    created_at: repo.createdAt,
  };
}

/** The alert as GET /repos/{owner}/{repo}/secret-scanning/alerts/{n} returns it (facts.md). */
function alertJson(repo: GitHubRepo, alert: GitHubAlert, baseUrl: string): Record<string, unknown> {
  const first = alert.locations[0];
  return {
    number: alert.number,
    created_at: alert.createdAt,
    updated_at: alert.resolvedAt ?? alert.createdAt,
    url: `${baseUrl}/repos/${repo.fullName}/secret-scanning/alerts/${alert.number}`,
    html_url: `https://github.com/${repo.fullName}/security/secret-scanning/${alert.number}`,
    locations_url: `${baseUrl}/repos/${repo.fullName}/secret-scanning/alerts/${alert.number}/locations`,
    state: alert.state,
    secret_type: alert.secretType,
    secret_type_display_name: alert.secretTypeDisplayName,
    secret: alert.secret,
    validity: alert.validity,
    publicly_leaked: alert.publiclyLeaked,
    multi_repo: false,
    resolution: alert.resolution,
    resolved_at: alert.resolvedAt,
    resolved_by: alert.resolvedBy ? { login: alert.resolvedBy } : null,
    resolution_comment: alert.resolutionComment,
    push_protection_bypassed: false,
    ...(alert.omitFirstLocation ? {} : { first_location_detected: first ? { ...first.details } : null }),
    has_more_locations: alert.locations.length > 1,
  };
}

// --- contents, environments, OIDC sub claim (the OIDC plan's inputs) ------------------------------

/** GitHub returns no content for files over 1 MB through this endpoint (encoding "none"). */
const CONTENT_INLINE_LIMIT = 1024 * 1024;

function blobSha(content: string): string {
  const body = Buffer.from(content, "utf8");
  return createHash("sha1").update(`blob ${body.length}\0`).update(body).digest("hex");
}

/** GET /repos/{o}/{r}/contents/{path}: a file (base64 in 60-character lines, as GitHub sends it) or a directory. */
function contentJson(repo: GitHubRepo, path: string, baseUrl: string): unknown {
  const clean = path.replace(/^\/+|\/+$/g, "");
  const entry = (name: string, entryPath: string, type: "file" | "dir", content?: string) => ({
    type,
    name,
    path: entryPath,
    sha: content === undefined ? blobSha(entryPath) : blobSha(content),
    size: content === undefined ? 0 : Buffer.byteLength(content, "utf8"),
    url: `${baseUrl}/repos/${repo.fullName}/contents/${entryPath}`,
    html_url: `https://github.com/${repo.fullName}/${type === "dir" ? "tree" : "blob"}/${repo.defaultBranch}/${entryPath}`,
    download_url:
      type === "file"
        ? `https://raw.githubusercontent.com/${repo.fullName}/${repo.defaultBranch}/${entryPath}`
        : null,
  });
  const file = repo.files.get(clean);
  if (file !== undefined) {
    const name = clean.split("/").pop() ?? clean;
    const inline = Buffer.byteLength(file, "utf8") <= CONTENT_INLINE_LIMIT;
    const base64 = inline
      ? (
          Buffer.from(file, "utf8")
            .toString("base64")
            .match(/.{1,60}/g) ?? []
        ).join("\n")
      : "";
    return {
      ...entry(name, clean, "file", file),
      encoding: inline ? "base64" : "none",
      content: inline ? `${base64}\n` : "",
    };
  }
  const prefix = clean === "" ? "" : `${clean}/`;
  const children = new Map<string, { type: "file" | "dir"; content?: string }>();
  for (const [filePath, content] of repo.files) {
    if (!filePath.startsWith(prefix)) continue;
    const [name = "", ...rest] = filePath.slice(prefix.length).split("/");
    if (name) children.set(name, rest.length > 0 ? { type: "dir" } : { type: "file", content });
  }
  if (children.size === 0) throw new SandboxError(404, "NotFound", "Not Found");
  return [...children]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, child]) => entry(name, `${prefix}${name}`, child.type, child.content));
}

function environmentsJson(
  repo: GitHubRepo,
  request: SandboxRequest,
  baseUrl: string,
): Record<string, unknown> {
  const perPage = Math.min(100, Math.max(1, Number(request.url.searchParams.get("per_page") ?? 30) || 30));
  const page = Math.max(1, Number(request.url.searchParams.get("page") ?? 1) || 1);
  const names = repo.environments.slice((page - 1) * perPage, page * perPage);
  return {
    total_count: repo.environments.length,
    environments: names.map((name, i) => ({
      id: repo.id * 1000 + (page - 1) * perPage + i,
      name,
      url: `${baseUrl}/repos/${repo.fullName}/environments/${encodeURIComponent(name)}`,
      html_url: `https://github.com/${repo.fullName}/deployments/activity_log?environments_filter=${encodeURIComponent(name)}`,
      created_at: repo.createdAt,
      updated_at: repo.createdAt,
      protection_rules: [],
      deployment_branch_policy: null,
    })),
  };
}

// ---------------------------------------------------------------------------------------------------

function parseBody(request: SandboxRequest): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(request.body.toString("utf8") || "{}");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SandboxError(400, "BadRequest", "Problems parsing JSON");
}

// --- GET /meta -----------------------------------------------------------------------------------

/**
 * GitHub's published address ranges. Like GitHub's, it needs no authentication. `actions` holds the
 * runner ranges a responder checks CloudTrail source addresses against (facts.md: AWS, CloudTrail).
 */
function metaJson(state: SandboxState): Record<string, unknown> {
  return { verifiable_password_authentication: false, actions: [...state.githubMeta.actions] };
}

// ---------------------------------------------------------------------------------------------------

export const githubService: SandboxService = {
  name: "github",

  operation(request) {
    return route(request)?.route.operation ?? "unknown";
  },

  handle(request, operation, state) {
    const matched = route(request);
    if (!matched) throw new SandboxError(404, "NotFound", "Not Found");
    const [a = "", b = "", c = ""] = matched.params;
    const host = typeof request.headers.host === "string" ? request.headers.host : "127.0.0.1";
    const baseUrl = `http://${host}/github`;

    switch (operation) {
      case "getMeta":
        return json(200, metaJson(state));
      case "getRepoInstallation": {
        // GitHub answers this to the App itself (a JWT), never to an installation token.
        const jwt = bearer(request);
        if (!jwt) throw new SandboxError(401, "Unauthorized", "A JSON web token could not be decoded");
        const appId = verifyAppJwt(state, jwt);
        const repo = state.repos.get(`${a}/${b}`.toLowerCase());
        if (!repo?.installationId) throw new SandboxError(404, "NotFound", "Not Found");
        return json(200, { id: repo.installationId, app_id: appId, target_type: "Organization" });
      }
      case "createInstallationToken": {
        const jwt = bearer(request);
        if (!jwt) throw new SandboxError(401, "Unauthorized", "A JSON web token could not be decoded");
        verifyAppJwt(state, jwt);
        const installationId = Number(a);
        const any = [...state.repos.values()].some((r) => r.installationId === installationId);
        if (!any) throw new SandboxError(404, "NotFound", "Not Found");
        const token = `ghs_${createHash("sha256").update(`${Math.random()}${Date.now()}`).digest("hex").slice(0, 36)}`;
        const expiresAt = new Date(Date.now() + 3600_000);
        state.installationTokens.set(token, { installationId, expiresAt });
        return json(201, {
          token,
          expires_at: expiresAt.toISOString(),
          permissions: {
            secret_scanning_alerts: "write",
            issues: "write",
            contents: "read",
            metadata: "read",
          },
          repository_selection: "selected",
        });
      }
      case "getCommit": {
        const repo = authorizedRepo(request, state, a, b);
        const commit = repo.commits?.get(c);
        if (!commit) throw new SandboxError(422, "Unprocessable", `No commit found for SHA: ${c}`);
        // `commit.author` is git's record (any name); the top-level `author` is the GitHub account
        // GitHub matched to it, null when none.
        const gitPerson = (who: { name: string } | undefined) => ({
          name: who?.name ?? "Dev",
          email: "dev@example.com",
          date: commit.date,
        });
        const account = (who: { login?: string } | undefined) =>
          who?.login ? { login: who.login, id: 1000, type: "User" } : null;
        return json(200, {
          sha: c,
          html_url: `https://github.com/${repo.fullName}/commit/${c}`,
          author: account(commit.author),
          committer: account(commit.committer),
          commit: {
            author: gitPerson(commit.author),
            committer: gitPerson(commit.committer),
            message: commit.message ?? "Update settings",
          },
        });
      }
      case "getIssueComment": {
        const repo = authorizedRepo(request, state, a, b);
        const comment = repo.comments?.get(Number(c));
        if (!comment) throw new SandboxError(404, "NotFound", "Not Found");
        return json(200, {
          id: Number(c),
          url: `${baseUrl}/repos/${repo.fullName}/issues/comments/${c}`,
          html_url: `https://github.com/${repo.fullName}/issues/1#issuecomment-${c}`,
          user: { login: comment.login, id: 1001, type: "User" },
          created_at: comment.createdAt,
          updated_at: comment.createdAt,
        });
      }
      case "getContent":
        return json(200, contentJson(authorizedRepo(request, state, a, b), c, baseUrl));
      case "listEnvironments":
        return json(200, environmentsJson(authorizedRepo(request, state, a, b), request, baseUrl));
      case "getOidcSubClaim":
        // A repository that never customised its template answers with the default.
        return json(200, authorizedRepo(request, state, a, b).oidcSubClaim ?? { use_default: true });
      case "getRepo":
        return json(200, repoJson(authorizedRepo(request, state, a, b), baseUrl));
      case "getAlert": {
        const repo = authorizedRepo(request, state, a, b);
        return json(200, alertJson(repo, alertOf(repo, c), baseUrl));
      }
      case "updateAlert": {
        const repo = authorizedRepo(request, state, a, b);
        const alert = alertOf(repo, c);
        const body = parseBody(request);
        if (body.state !== "resolved" && body.state !== "open") {
          throw new SandboxError(422, "Unprocessable", "state must be open or resolved");
        }
        if (body.state === "resolved") {
          const allowed = ["false_positive", "wont_fix", "revoked", "used_in_tests"];
          if (typeof body.resolution !== "string" || !allowed.includes(body.resolution)) {
            throw new SandboxError(422, "Unprocessable", `resolution must be one of ${allowed.join(", ")}`);
          }
          alert.state = "resolved";
          alert.resolution = body.resolution;
          alert.resolutionComment =
            typeof body.resolution_comment === "string" ? body.resolution_comment : null;
          alert.resolvedAt = new Date().toISOString();
          alert.resolvedBy = "leak-responder[bot]";
          alert.resolveCount += 1;
        } else {
          alert.state = "open";
          alert.resolution = null;
          alert.resolvedAt = null;
        }
        return json(200, alertJson(repo, alert, baseUrl));
      }
      case "listAlertLocations": {
        const repo = authorizedRepo(request, state, a, b);
        const alert = alertOf(repo, c);
        const perPage = Math.min(
          100,
          Math.max(1, Number(request.url.searchParams.get("per_page") ?? 30) || 30),
        );
        const page = Math.max(1, Number(request.url.searchParams.get("page") ?? 1) || 1);
        const slice = alert.locations.slice((page - 1) * perPage, page * perPage);
        const headers: Record<string, string> = {};
        if (page * perPage < alert.locations.length) {
          const next = new URL(`${baseUrl}${request.url.pathname.replace(/^\/github/, "")}`);
          next.searchParams.set("per_page", String(perPage));
          next.searchParams.set("page", String(page + 1));
          headers.link = `<${next.toString()}>; rel="next"`;
        }
        return json(
          200,
          slice.map((l) => ({ type: l.type, details: l.details })),
          headers,
        );
      }
      case "listIssues": {
        const repo = authorizedRepo(request, state, a, b);
        const label = request.url.searchParams.get("labels");
        const issues = repo.issues.filter((issue) => !label || issue.labels.includes(label));
        return json(
          200,
          issues.map((issue) => ({
            number: issue.number,
            title: issue.title,
            html_url: `https://github.com/${repo.fullName}/issues/${issue.number}`,
            labels: issue.labels.map((name) => ({ name })),
            state: "open",
          })),
        );
      }
      case "getIssue": {
        const repo = authorizedRepo(request, state, a, b);
        return json(200, issueJson(repo, issueOf(repo, c)));
      }
      case "updateIssue": {
        const repo = authorizedRepo(request, state, a, b);
        const issue = issueOf(repo, c);
        const body = parseBody(request);
        if (typeof body.body === "string") {
          if (body.body.length > 65536)
            throw new SandboxError(422, "Unprocessable", "body is too long (maximum is 65536 characters)");
          issue.body = body.body;
        }
        if (typeof body.title === "string" && body.title.length > 0) issue.title = body.title;
        return json(200, issueJson(repo, issue));
      }
      case "listRepoSecrets":
        return json(200, secretsJson(authorizedRepo(request, state, a, b), request));
      case "listEnvironmentSecrets": {
        const repo = authorizedRepo(request, state, a, b);
        const environment = decodeURIComponent(c ?? "");
        if (!repo.environments.includes(environment)) throw new SandboxError(404, "NotFound", "Not Found");
        return json(200, secretsJson(repo, request, repo.environmentSecrets?.get(environment) ?? []));
      }
      case "createIssue": {
        const repo = authorizedRepo(request, state, a, b);
        if (repo.issuesDisabled) throw new SandboxError(410, "Gone", "Issues are disabled for this repo");
        const body = parseBody(request);
        if (typeof body.title !== "string" || body.title.length === 0) {
          throw new SandboxError(422, "Unprocessable", "title is missing");
        }
        if (typeof body.body === "string" && body.body.length > 65536) {
          throw new SandboxError(422, "Unprocessable", "body is too long (maximum is 65536 characters)");
        }
        const number = repo.issues.length + 1;
        const labels = Array.isArray(body.labels)
          ? body.labels.filter((l): l is string => typeof l === "string")
          : [];
        const issue = {
          number,
          title: body.title,
          body: typeof body.body === "string" ? body.body : "",
          labels,
          createdAt: new Date().toISOString(),
        };
        repo.issues.push(issue);
        return json(201, {
          number,
          title: issue.title,
          body: issue.body,
          html_url: `https://github.com/${repo.fullName}/issues/${number}`,
          labels: labels.map((name) => ({ name })),
          state: "open",
        });
      }
      default:
        throw new SandboxError(404, "NotFound", "Not Found");
    }
  },

  faultError(kind) {
    switch (kind) {
      case "throttle":
        return new SandboxError(429, "RateLimited", "API rate limit exceeded");
      case "access-denied":
        return new SandboxError(403, "Forbidden", "Resource not accessible by integration");
      default:
        return new SandboxError(502, "BadGateway", "Server Error");
    }
  },

  render(error) {
    const headers: Record<string, string> = {};
    if (error.status === 429) {
      headers["retry-after"] = "1";
      headers["x-ratelimit-remaining"] = "0";
    }
    return json(
      error.status,
      { message: error.message, documentation_url: DOCS, status: String(error.status) },
      headers,
    );
  },
};
