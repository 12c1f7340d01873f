/**
 * The repository source's answers to what the sandbox does not say: a 404 from the sub claim
 * endpoint means GitHub's default template, a 404 on environments means none, a renamed repository
 * is noticed from the name GitHub answers with, and a file GitHub will not inline is reported.
 */
import { describe, expect, it } from "vitest";
import type { GitHubClient } from "../../src/adapters/github/octokit.js";
import { GitHubRepositorySource } from "../../src/adapters/github/repository-source.js";
import { TransientFailure } from "../../src/domain/errors.js";

type Handler = (route: string, parameters: Record<string, unknown>) => unknown;

function fakeClient(handler: Handler): () => GitHubClient {
  const client = {
    request: async (route: string, parameters: Record<string, unknown>) => ({
      data: handler(route, parameters),
    }),
  };
  // Only `request` is used by the source; the rest of Octokit is not needed here.
  return () => client as unknown as GitHubClient;
}

const notFound = () => Object.assign(new Error("Not Found"), { status: 404 });

function base(route: string, parameters: Record<string, unknown>): unknown {
  if (route === "GET /repos/{owner}/{repo}") {
    return {
      id: 7,
      full_name: "acme/web",
      owner: { id: 3 },
      default_branch: "trunk",
      created_at: "2025-01-01T00:00:00Z",
      private: false,
    };
  }
  if (route === "GET /repos/{owner}/{repo}/contents/{path}" && parameters.path === ".github/workflows") {
    return [
      { type: "file", path: ".github/workflows/a.yml", size: 20 },
      { type: "file", path: ".github/workflows/big.yml", size: 2_000_000 },
      { type: "file", path: ".github/workflows/lfs.yml", size: 100 },
    ];
  }
  if (
    route === "GET /repos/{owner}/{repo}/contents/{path}" &&
    parameters.path === ".github/workflows/a.yml"
  ) {
    return { encoding: "base64", content: `${Buffer.from("on: push\n").toString("base64")}\n` };
  }
  if (
    route === "GET /repos/{owner}/{repo}/contents/{path}" &&
    parameters.path === ".github/workflows/lfs.yml"
  ) {
    return { encoding: "none", content: "" };
  }
  throw notFound();
}

describe("GitHubRepositorySource answers", () => {
  it("treats 404 from the sub claim and environments endpoints as the default template and no environments", async () => {
    const snapshot = await new GitHubRepositorySource(fakeClient(base)).load("acme/web");
    expect(snapshot.repository).toEqual({
      owner: "acme",
      name: "web",
      ownerId: 3,
      repoId: 7,
      createdAt: "2025-01-01T00:00:00Z",
      defaultBranch: "trunk",
      visibility: "public",
      environments: [],
    });
    expect(snapshot.repository.subClaim).toBeUndefined();
    expect(snapshot.workflows).toEqual([{ path: ".github/workflows/a.yml", content: "on: push\n" }]);
    expect(snapshot.skipped).toEqual([
      { path: ".github/workflows/big.yml", reason: "over the workflow size limit" },
      { path: ".github/workflows/lfs.yml", reason: "GitHub returned no inline content (too large)" },
    ]);
  });

  it("notices a rename or transfer when GitHub answers for another name", async () => {
    const renamed: Handler = (route, parameters) =>
      route === "GET /repos/{owner}/{repo}"
        ? { ...(base(route, parameters) as object), full_name: "acme-platform/web" }
        : base(route, parameters);
    const snapshot = await new GitHubRepositorySource(fakeClient(renamed)).load("acme/web");
    expect(snapshot.repository).toMatchObject({
      owner: "acme-platform",
      name: "web",
      renamedOrTransferred: true,
    });
  });

  it("passes a GitHub outage on as retryable", async () => {
    const down: Handler = () => {
      throw Object.assign(new Error("Server Error"), { status: 502 });
    };
    await expect(new GitHubRepositorySource(fakeClient(down)).load("acme/web")).rejects.toBeInstanceOf(
      TransientFailure,
    );
  });
});
