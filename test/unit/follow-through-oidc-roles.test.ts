/**
 * Issue 13, follow-through: "OIDC role created". The roles the plan names must exist in the key's
 * account, trusted by GitHub's provider with the sts.amazonaws.com audience and a sub pinned to this
 * repository (facts.md: never `repo:ORG/REPO:*`), and the provider must be there, before deletion is
 * proposed; the thread and the day's summary say what is missing or too wide, and the issue's two
 * "Create the..." items are ticked once verified. AWS refusing the reads is said plainly instead.
 */
import { describe, expect, it } from "vitest";
import { CHECKLIST } from "../../src/adapters/github/incident-issue.js";
import { PermanentFailure, TransientFailure } from "../../src/domain/errors.js";
import { providerArn, trustPolicy } from "../../src/oidc-plan/trust-policy.js";
import { judgeTrust } from "../../src/oidc-plan/trust-verdict.js";
import { followThroughWorld, migratedWorkflow } from "../support/follow-through-world.js";

const ROLE = "gh-acme-api-branch-main";
const ISSUE = [
  "## Checklist",
  "",
  `- [ ] ${CHECKLIST.createProvider}`,
  `- [ ] ${CHECKLIST.createRoles}`,
  "- [ ] Prove a role on a test branch with the plan's smoke-test workflow",
  `- [ ] ${CHECKLIST.switchWorkflows}`,
  `- [ ] ${CHECKLIST.deleteSecrets}`,
].join("\n");

/** The trust the plan writes for the main branch of a repository (trust-policy.ts). */
function plannedTrust(account: string, sub = "repo:acme/api:ref:refs/heads/main"): string {
  return JSON.stringify(trustPolicy(account, [{ value: sub, match: "StringEquals" }]));
}

/**
 * A key contained 40 days ago in acme/api; the workflows are migrated and the key's secrets deleted,
 * so only the roles stand between the team and the deletion proposal.
 */
async function scenario(roles: string[] = [ROLE]) {
  const world = await followThroughWorld({
    issueBody: ISSUE,
    workflow: migratedWorkflow(ROLE),
    plan: { roles, keySecrets: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] },
    viaMemberRole: true,
  });
  world.repositories.secrets = { names: [] };
  const { account, iam, run, incidents } = world;
  return { account, iam, provider: providerArn(account), run, incidents };
}

describe("follow-through: the OIDC roles the plan names", () => {
  it("ticks the provider and the roles, and proposes deletion, once the role exists with the plan's pinned trust", async () => {
    const { account, iam, provider, run } = await scenario();
    iam.oidcProviders.set(provider, ["sts.amazonaws.com"]);
    iam.roles.set(ROLE, plannedTrust(account));
    const { result, check, reminder, issueBody } = await run();
    expect(result.failed).toEqual([]);
    expect(check).toMatchObject({
      oidcProvider: "created",
      oidcRoles: [{ name: ROLE, state: "created" }],
      proposal: "delete-key",
    });
    expect(reminder).toContain(`Role ${ROLE}: created, trusted only by acme/api's pinned workflows.`);
    expect(reminder).toContain(`OIDC provider: created in ${account}.`);
    expect(issueBody).toContain(`- [x] ${CHECKLIST.createProvider}`);
    expect(issueBody).toContain(`- [x] ${CHECKLIST.createRoles}`);
    expect(issueBody).toContain("- [ ] Prove a role on a test branch");
    // Reads only, and only what the plan names.
    expect(iam.calls.filter((call) => call.startsWith("Get") && call !== "GetAccessKeyLastUsed")).toEqual([
      "GetOpenIDConnectProvider",
      "GetRole",
    ]);
  });

  it("withholds the proposal while a role is not created, and says the next step", async () => {
    const { iam, provider, run } = await scenario();
    iam.oidcProviders.set(provider, ["sts.amazonaws.com"]);
    const { check, reminder, summary, issueBody } = await run();
    expect(check?.oidcRoles).toEqual([{ name: ROLE, state: "missing" }]);
    expect(check?.proposal).toBeUndefined();
    expect(reminder).toContain(`Role ${ROLE}: not created yet. Next: its create-role.sh from the plan`);
    expect(reminder).toContain("Deletion will be proposed once the OIDC roles are created as planned");
    expect(summary).toContain("1 still need their OIDC role(s) or GitHub's OIDC provider created.");
    expect(issueBody).toContain(`- [x] ${CHECKLIST.createProvider}`);
    expect(issueBody).toContain(`- [ ] ${CHECKLIST.createRoles}`);
  });

  it("withholds the proposal without GitHub's provider, even with the role created", async () => {
    const { account, iam, run } = await scenario();
    iam.roles.set(ROLE, plannedTrust(account));
    const { check, reminder, issueBody } = await run();
    expect(check?.oidcProvider).toBe("missing");
    expect(check?.proposal).toBeUndefined();
    expect(reminder).toContain(`OIDC provider: not created yet in ${account}`);
    expect(issueBody).toContain(`- [ ] ${CHECKLIST.createProvider}`);
  });

  it("says a provider without the sts.amazonaws.com audience lets no workflow in", async () => {
    const { account, iam, provider, run } = await scenario();
    iam.oidcProviders.set(provider, ["sigstore"]);
    iam.roles.set(ROLE, plannedTrust(account));
    const { check, reminder } = await run();
    expect(check?.oidcProvider).toBe("no-sts-audience");
    expect(check?.proposal).toBeUndefined();
    expect(reminder).toContain(
      "without the sts.amazonaws.com audience, so no workflow can assume a role yet",
    );
    expect(reminder).toContain("aws iam add-client-id-to-open-id-connect-provider");
  });

  it("warns when a role trusts every workflow of the repository (repo:acme/api:*), in the thread and the summary", async () => {
    const { account, iam, provider, run } = await scenario();
    iam.oidcProviders.set(provider, ["sts.amazonaws.com"]);
    const wide = trustPolicy(account, [
      { value: "repo:acme/api:ref:refs/heads/main", match: "StringEquals" },
    ]);
    const condition = wide.Statement[0]?.Condition;
    if (!condition) throw new Error("no condition");
    condition.StringEquals = { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" };
    condition.StringLike = { "token.actions.githubusercontent.com:sub": "repo:acme/api:*" };
    iam.roles.set(ROLE, JSON.stringify(wide));
    const { check, reminder, summary, issueBody } = await run();
    expect(check?.oidcRoles).toEqual([
      { name: ROLE, state: "too-wide", detail: "it trusts repo:acme/api:*" },
    ]);
    expect(check?.proposal).toBeUndefined();
    expect(reminder).toContain(`WARNING: role ${ROLE} trusts too much: it trusts repo:acme/api:*.`);
    expect(reminder).toContain("aws iam update-assume-role-policy");
    expect(summary).toContain("WARNING: gh__acme__api__7: an OIDC role's trust is not pinned");
    expect(issueBody).toContain(`- [ ] ${CHECKLIST.createRoles}`);
  });

  it("does not count a role of the same name trusted by another repository's workflows", async () => {
    const { account, iam, provider, run } = await scenario();
    iam.oidcProviders.set(provider, ["sts.amazonaws.com"]);
    iam.roles.set(ROLE, plannedTrust(account, "repo:acme/web:ref:refs/heads/main"));
    const { check, reminder } = await run();
    expect(check?.oidcRoles?.[0]).toMatchObject({ state: "not-this-repository" });
    expect(reminder).toContain("it trusts repo:acme/web:ref:refs/heads/main, not acme/api");
    expect(check?.proposal).toBeUndefined();
  });

  it("proposes deletion when AWS refuses to show the roles, and says plainly they were not checked", async () => {
    const { iam, run } = await scenario();
    iam.failRoleReads = new PermanentFailure(
      "iam:GetRole gh-acme-api-branch-main: AWS denied it (AccessDenied: not authorized)",
      "AccessDenied",
    );
    const { result, check, reminder } = await run();
    expect(result.failed).toEqual([]);
    expect(check?.oidcRoles).toBeUndefined();
    expect(check?.oidcUnknown).toContain("the investigator role needs iam:GetRole");
    expect(check?.proposal).toBe("delete-key");
    expect(reminder).toContain("OIDC roles: not checked (AWS refused to show the roles");
    expect(reminder).toContain(
      `Before you delete it: the OIDC roles were NOT checked. Make sure ${ROLE} exist and the workflows run with them.`,
    );
  });

  it("holds the proposal until tomorrow when IAM did not answer today, without failing the check", async () => {
    const { iam, run } = await scenario();
    iam.failRoleReads = new TransientFailure("iam:GetRole: Throttling: Rate exceeded", "Throttling");
    const { result, check } = await run();
    expect(result.failed).toEqual([]);
    expect(check?.oidcUnknown).toContain("could not be read today");
    expect(check?.proposal).toBeUndefined();
  });

  it("does not wait for a role planned in another partition (AWS China, GovCloud: another account)", async () => {
    const { account, iam, provider, run, incidents } = await scenario([ROLE, "gh-acme-api-branch-main-cn"]);
    const stored = await incidents.get("gh__acme__api__7");
    if (!stored?.incident.plan) throw new Error("no plan");
    await incidents.update(
      {
        ...stored.incident,
        plan: { ...stored.incident.plan, rolesElsewhere: ["gh-acme-api-branch-main-cn"] },
      },
      stored.etag,
    );
    iam.oidcProviders.set(provider, ["sts.amazonaws.com"]);
    iam.roles.set(ROLE, plannedTrust(account));
    const { check } = await run();
    expect(check?.oidcRoles).toEqual([{ name: ROLE, state: "created" }]);
    expect(check?.proposal).toBe("delete-key");
  });

  it("reads no role when the plan names none", async () => {
    const { iam, run } = await scenario([]);
    const { check } = await run();
    expect(check?.oidcRoles).toBeUndefined();
    expect(check?.proposal).toBe("delete-key");
    expect(iam.calls).not.toContain("GetRole");
    expect(iam.calls).not.toContain("GetOpenIDConnectProvider");
  });
});

describe("judgeTrust", () => {
  const account = "123456789012";
  const federated = `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com`;
  const statement = (condition: unknown, principal: unknown = { Federated: federated }) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: principal,
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: condition,
        },
      ],
    });
  const aud = { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" };

  it("accepts what the plan writes: exact subs, branch patterns, the ID form, any key case", () => {
    const patterns = trustPolicy(account, [
      { value: "repo:acme/api:environment:production", match: "StringEquals" },
      { value: "repo:acme/api:ref:refs/heads/release/*", match: "StringLike" },
    ]);
    expect(judgeTrust(JSON.stringify(patterns), "acme/api", account)).toEqual({ state: "created" });
    expect(
      judgeTrust(
        statement({
          StringEquals: {
            "Token.Actions.GitHubUserContent.com:Aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme@1001/API@2002:ref:refs/heads/main",
          },
        }),
        "acme/api",
        account,
      ),
    ).toEqual({ state: "created" });
  });

  it("calls too wide: no sub, an unpinned audience, a wildcard repository or context, any provider", () => {
    const verdict = (condition: unknown, principal?: unknown) =>
      judgeTrust(statement(condition, principal), "acme/api", account).state;
    expect(verdict({ StringEquals: aud })).toBe("too-wide");
    expect(
      verdict({
        StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/api:ref:refs/heads/main" },
      }),
    ).toBe("too-wide");
    expect(
      verdict({
        StringEquals: aud,
        StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/*" },
      }),
    ).toBe("too-wide");
    expect(
      verdict({
        StringEquals: aud,
        StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/api:environment:*" },
      }),
    ).toBe("too-wide");
    expect(
      verdict(
        { StringEquals: { ...aud, "token.actions.githubusercontent.com:sub": "repo:acme/api:pull_request" } },
        { Federated: "*" },
      ),
    ).toBe("too-wide");
  });

  it("says when the role does not trust GitHub here at all", () => {
    const pinned = {
      StringEquals: { ...aud, "token.actions.githubusercontent.com:sub": "repo:acme/api:pull_request" },
    };
    expect(
      judgeTrust(statement(undefined, { AWS: `arn:aws:iam::${account}:root` }), "acme/api", account),
    ).toEqual({
      state: "not-this-repository",
      detail: "it does not trust GitHub's OIDC provider",
    });
    expect(
      judgeTrust(
        statement(pinned, { Federated: federated.replace(account, "210987654321") }),
        "acme/api",
        account,
      ).state,
    ).toBe("not-this-repository");
    expect(judgeTrust("not json", "acme/api", account).state).toBe("not-this-repository");
  });
});
