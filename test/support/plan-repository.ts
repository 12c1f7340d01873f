/**
 * The repository the OIDC plan's unit tests plan for: acme/web, created before 2026-07-15 (so its
 * sub claims are `repo:acme/web:...`, facts.md), default branch main, in account ACCOUNT.
 */
import type { PlanRepository } from "../../src/oidc-plan/sub-claims.js";

export const ACCOUNT = "123456789012";

export function acmeWeb(environments: string[] = []): PlanRepository {
  return {
    owner: "acme",
    name: "web",
    ownerId: 1001,
    repoId: 2002,
    createdAt: "2023-04-01T09:00:00Z",
    defaultBranch: "main",
    environments,
  };
}
