/**
 * What the OIDC plan needs to know about a repository, through the GitHub REST API: its ids,
 * creation date and default branch (they decide the sub format: facts.md, GitHub Actions OIDC), its
 * environments, its sub claim customisation (404 = GitHub's default), and its workflow files through
 * the contents API. Needs `metadata: read`, `contents: read` and `actions: read` (App) or `repo`.
 * The follow-through also lists the repository's and its environments' Actions secret names, which
 * needs `secrets: read` (optional: without it the answer is "cannot tell").
 */
import { PermanentFailure } from "../../domain/errors.js";
import type { PlanRepository } from "../../oidc-plan/sub-claims.js";
import { MAX_WORKFLOW_BYTES, type WorkflowFile } from "../../oidc-plan/workflow-yaml.js";
import type { RepositorySecretNames } from "../../playbook/prevent.js";
import { toResponderError } from "./github-errors.js";
import type { GitHubClient } from "./octokit.js";

const WORKFLOWS_DIR = ".github/workflows";
/** Far more workflow files than a repository has; the plan reads no more than this. */
const MAX_WORKFLOW_FILES = 200;
/** Files fetched at once: enough to be quick, few enough to stay clear of secondary rate limits. */
const CONCURRENCY = 4;
const MAX_ENVIRONMENT_PAGES = 10;
const MAX_SECRET_PAGES = 10;
/** What the follow-through says when GitHub will not list the secrets to this App or token. */
export const SECRETS_UNREADABLE = "cannot tell (the GitHub App needs Secrets: read)";

export interface RepositorySnapshot {
  repository: PlanRepository;
  workflows: WorkflowFile[];
  /** Workflow files not read, with why (too large, not base64, over the file limit). */
  skipped: Array<{ path: string; reason: string }>;
}

/** Secret names, every page (GitHub's `{ total_count, secrets: [{ name }] }`); a refusal is "cannot tell". */
async function listSecretNames(
  what: string,
  fetchPage: (page: number) => Promise<{ data: unknown }>,
  options: { goneIsEmpty?: boolean } = {},
): Promise<RepositorySecretNames> {
  const names: string[] = [];
  try {
    for (let page = 1; page <= MAX_SECRET_PAGES; page++) {
      const raw = record((await fetchPage(page)).data);
      const list = Array.isArray(raw.secrets) ? raw.secrets : [];
      for (const secret of list) {
        const name = str(record(secret).name);
        if (name) names.push(name);
      }
      if (list.length < 100 || names.length >= (num(raw.total_count) ?? 0)) break;
    }
    return { names };
  } catch (error: unknown) {
    // A 403 that is a rate limit passes with time (transient): only a refusal is "cannot tell".
    const mapped = toResponderError(error, what);
    const status = statusOf(error);
    if (options.goneIsEmpty && status === 404 && mapped instanceof PermanentFailure) return { names: [] };
    if ((status === 403 || status === 404) && mapped instanceof PermanentFailure)
      return { unknown: SECRETS_UNREADABLE };
    throw mapped;
  }
}

function statusOf(error: unknown): number {
  return typeof error === "object" && error !== null && "status" in error ? Number(error.status) : 0;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;
}

/**
 * The plan's reader needs to know which permission is missing (github-errors.ts words 403 and 404
 * for the alert); everything else is mapped the same way as for the alert.
 */
function mapError(error: unknown, what: string, permission: string): Error {
  const status = statusOf(error);
  const cause = { name: error instanceof Error ? error.name : "Unknown", status };
  if (status === 403) {
    return new PermanentFailure(
      `${what}: GitHub denied access (the App or token needs ${permission}) (HTTP 403)`,
      "github-403",
      {
        cause,
      },
    );
  }
  if (status === 404) {
    return new PermanentFailure(
      `${what}: GitHub answered Not Found (no such repository, or the App or token cannot see it) (HTTP 404)`,
      "github-404",
      { cause },
    );
  }
  return toResponderError(error, what);
}

export class GitHubRepositorySource {
  constructor(
    private readonly clientFor: ((installationId?: number) => GitHubClient) & {
      installationOf?: (repository: string) => Promise<number | undefined>;
    },
  ) {}

  async load(repository: string, installationId?: number): Promise<RepositorySnapshot> {
    const [owner = "", repo = ""] = repository.split("/");
    // An incident no webhook delivered (AWS Health, a person) names no installation: GitHub is asked.
    const client = this.clientFor(installationId ?? (await this.clientFor.installationOf?.(repository)));
    const metadata = await this.#repository(client, owner, repo, repository);
    const [environments, subClaim, files] = await Promise.all([
      this.#environments(client, owner, repo, repository),
      this.#subClaim(client, owner, repo, repository),
      this.#workflows(client, owner, repo, repository),
    ]);
    return {
      repository: {
        ...metadata,
        environments,
        ...(subClaim === undefined ? {} : { subClaim }),
      },
      workflows: files.workflows,
      skipped: files.skipped,
    };
  }

  /**
   * GET /repos/{o}/{r}/actions/secrets, every page: the names of the repository's Actions secrets
   * (GitHub never returns a value). Organisation secrets are not listed here.
   * 403 and 404 (the App lacks `secrets: read`, or cannot see the repository) are "cannot tell".
   */
  async secretNames(repository: string, installationId?: number): Promise<RepositorySecretNames> {
    const [owner = "", repo = ""] = repository.split("/");
    const client = this.clientFor(installationId ?? (await this.clientFor.installationOf?.(repository)));
    return listSecretNames(`Listing the Actions secrets of ${repository}`, (page) =>
      client.request("GET /repos/{owner}/{repo}/actions/secrets", { owner, repo, per_page: 100, page }),
    );
  }

  /**
   * GET /repos/{o}/{r}/environments/{name}/secrets, every page: one environment's secret names (the
   * same `secrets: read` permission). An environment that no longer exists answers 404: "cannot tell"
   * would hold the deletion proposal for ever, so it is told as no secrets at all.
   */
  async environmentSecretNames(
    repository: string,
    environment: string,
    installationId?: number,
  ): Promise<RepositorySecretNames> {
    const [owner = "", repo = ""] = repository.split("/");
    const client = this.clientFor(installationId ?? (await this.clientFor.installationOf?.(repository)));
    return listSecretNames(
      `Listing the secrets of environment ${environment} in ${repository}`,
      (page) =>
        client.request("GET /repos/{owner}/{repo}/environments/{environment_name}/secrets", {
          owner,
          repo,
          environment_name: environment,
          per_page: 100,
          page,
        }),
      { goneIsEmpty: true },
    );
  }

  async #repository(
    client: GitHubClient,
    owner: string,
    repo: string,
    requested: string,
  ): Promise<Omit<PlanRepository, "environments">> {
    try {
      const { data } = await client.request("GET /repos/{owner}/{repo}", { owner, repo });
      const raw = record(data);
      const ownerRaw = record(raw.owner);
      const fullName = str(raw.full_name) ?? requested;
      const [realOwner = owner, realName = repo] = fullName.split("/");
      const ownerId = num(ownerRaw.id);
      const repoId = num(raw.id);
      const createdAt = str(raw.created_at);
      const visibility =
        str(raw.visibility) ??
        (raw.private === true ? "private" : raw.private === false ? "public" : undefined);
      return {
        owner: realOwner,
        name: realName,
        defaultBranch: str(raw.default_branch) ?? "main",
        // GitHub redirects an old name to the new one: a different answer means renamed or transferred.
        ...(fullName.toLowerCase() !== requested.toLowerCase() ? { renamedOrTransferred: true } : {}),
        ...(ownerId === undefined ? {} : { ownerId }),
        ...(repoId === undefined ? {} : { repoId }),
        ...(createdAt === undefined ? {} : { createdAt }),
        ...(visibility === undefined ? {} : { visibility }),
      };
    } catch (error: unknown) {
      throw mapError(error, `Reading repository ${requested}`, "metadata: read");
    }
  }

  async #environments(
    client: GitHubClient,
    owner: string,
    repo: string,
    requested: string,
  ): Promise<string[]> {
    const names: string[] = [];
    try {
      for (let page = 1; page <= MAX_ENVIRONMENT_PAGES; page++) {
        const { data } = await client.request("GET /repos/{owner}/{repo}/environments", {
          owner,
          repo,
          per_page: 100,
          page,
        });
        const raw = record(data);
        const list = Array.isArray(raw.environments) ? raw.environments : [];
        for (const environment of list) {
          const name = str(record(environment).name);
          if (name) names.push(name);
        }
        if (list.length < 100 || names.length >= (num(raw.total_count) ?? 0)) break;
      }
      return names;
    } catch (error: unknown) {
      // Repositories without environments (or plans without them) answer 404.
      if (statusOf(error) === 404) return [];
      throw mapError(error, `Listing the environments of ${requested}`, "actions: read or metadata: read");
    }
  }

  async #subClaim(
    client: GitHubClient,
    owner: string,
    repo: string,
    requested: string,
  ): Promise<PlanRepository["subClaim"]> {
    try {
      const { data } = await client.request("GET /repos/{owner}/{repo}/actions/oidc/customization/sub", {
        owner,
        repo,
      });
      const raw = record(data);
      const keys = Array.isArray(raw.include_claim_keys)
        ? raw.include_claim_keys.filter(
            (key): key is string => typeof key === "string" && /^\w{1,100}$/.test(key),
          )
        : undefined;
      return {
        useDefault: raw.use_default !== false,
        ...(keys === undefined ? {} : { includeClaimKeys: keys }),
      };
    } catch (error: unknown) {
      if (statusOf(error) === 404) return undefined;
      throw mapError(error, `Reading the OIDC sub claim template of ${requested}`, "actions: read");
    }
  }

  async #workflows(
    client: GitHubClient,
    owner: string,
    repo: string,
    requested: string,
  ): Promise<{ workflows: WorkflowFile[]; skipped: Array<{ path: string; reason: string }> }> {
    let entries: unknown[];
    try {
      const { data } = await client.request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner,
        repo,
        path: WORKFLOWS_DIR,
      });
      entries = Array.isArray(data) ? data : [];
    } catch (error: unknown) {
      if (statusOf(error) === 404) return { workflows: [], skipped: [] };
      throw mapError(error, `Listing the workflows of ${requested}`, "contents: read");
    }
    const skipped: Array<{ path: string; reason: string }> = [];
    const candidates: string[] = [];
    for (const entry of entries) {
      const raw = record(entry);
      const path = str(raw.path);
      if (raw.type !== "file" || !path || !/\.ya?ml$/i.test(path)) continue;
      if ((num(raw.size) ?? 0) > MAX_WORKFLOW_BYTES)
        skipped.push({ path, reason: "over the workflow size limit" });
      else candidates.push(path);
    }
    for (const path of candidates.splice(MAX_WORKFLOW_FILES))
      skipped.push({ path, reason: "over the file limit" });

    const workflows: WorkflowFile[] = [];
    let next = 0;
    const worker = async () => {
      while (next < candidates.length) {
        const path = candidates[next++];
        if (path === undefined) return;
        try {
          const { data } = await client.request("GET /repos/{owner}/{repo}/contents/{path}", {
            owner,
            repo,
            path,
          });
          const raw = record(data);
          const content = str(raw.content);
          if (raw.encoding !== "base64" || content === undefined) {
            skipped.push({ path, reason: "GitHub returned no inline content (too large)" });
            continue;
          }
          workflows.push({
            path,
            content: Buffer.from(content.replace(/\s+/g, ""), "base64").toString("utf8"),
          });
        } catch (error: unknown) {
          throw mapError(error, `Reading ${path} of ${requested}`, "contents: read");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, candidates.length) }, worker));
    workflows.sort((a, b) => a.path.localeCompare(b.path));
    return { workflows, skipped };
  }
}
