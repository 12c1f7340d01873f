/**
 * Issue 13, follow-through: the repository secrets that held the key must be gone before deletion is
 * proposed (an App that may not read secrets gets the proposal with a plain warning instead), the
 * reminder names the secrets left, and the incident's issue checklist is ticked for what was verified,
 * in the issue's own words and nothing else.
 */
import { describe, expect, it } from "vitest";
import { CHECKLIST } from "../../src/adapters/github/incident-issue.js";
import { tickChecklist } from "../../src/adapters/github/issue-tracker.js";
import { SECRETS_UNREADABLE } from "../../src/adapters/github/repository-source.js";
import { TransientFailure } from "../../src/domain/errors.js";
import { planMigration } from "../../src/oidc-plan/plan.js";
import { plannedEnvironments } from "../../src/playbook/prevent.js";
import { followThroughWorld, migratedWorkflow } from "../support/follow-through-world.js";

const STATIC = `name: Deploy
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.PROD_AWS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: \${{ secrets.PROD_AWS_SECRET }}
    steps:
      - run: aws s3 sync site s3://example-site
`;
const ISSUE = [
  "## Checklist",
  "",
  "- [ ] Create the role(s) from the plan beside the existing user",
  `- [ ] ${CHECKLIST.switchWorkflows}`,
  `- [ ] ${CHECKLIST.deleteSecrets}`,
  "- [ ] After a week green: deactivate the user's remaining keys (ci-deploy)",
].join("\n");

/** A key contained 40 days ago in acme/api, with the plan's record of which secrets held it. */
async function scenario(visibility: "private" | "public" = "private", environments?: string[]) {
  return followThroughWorld({
    issueBody: ISSUE,
    workflow: migratedWorkflow("deploy"),
    plan: {
      roles: [],
      keySecrets: ["PROD_AWS_KEY_ID", "PROD_AWS_SECRET"],
      ...(environments ? { environments } : {}),
    },
    viaMemberRole: false,
    visibility,
  });
}

describe("follow-through: the repository secrets that held the key", () => {
  it("withholds the deletion proposal while a key secret is still set, and says which one, from the plan's record", async () => {
    const { repositories, run } = await scenario();
    // The workflows are migrated: they no longer name the secrets. The plan remembered them.
    repositories.secrets = { names: ["PROD_AWS_SECRET", "CODECOV_TOKEN"] };
    const { result, check, reminder } = await run();
    expect(result.failed).toEqual([]);
    expect(check).toMatchObject({ staticUsesLeft: 0, secretsLeft: ["PROD_AWS_SECRET"] });
    expect(check?.proposal).toBeUndefined();
    expect(reminder).toContain("PROD_AWS_SECRET still set in acme/api");
    expect(reminder).toContain("gh secret delete PROD_AWS_SECRET --repo acme/api");
    expect(reminder).not.toContain("CODECOV_TOKEN");
    expect(reminder).toContain("Environment and organisation secrets of the same names were not checked");
    expect(reminder).toContain("Deletion will be proposed once the secrets are deleted");
  });

  it("proposes deletion once the key secrets are gone", async () => {
    const { repositories, run } = await scenario();
    repositories.secrets = { names: ["CODECOV_TOKEN"] };
    const { check, reminder } = await run();
    expect(check).toMatchObject({ secretsLeft: [], proposal: "delete-key" });
    expect(reminder).toContain("PROD_AWS_KEY_ID, PROD_AWS_SECRET no longer set in acme/api");
    expect(reminder).toContain("aws iam delete-access-key");
    expect(reminder).not.toContain("NOT checked");
  });

  it("cannot tell without Secrets: read: not a failure, and the proposal says plainly to check the secrets", async () => {
    const { repositories, run } = await scenario();
    repositories.secrets = { unknown: SECRETS_UNREADABLE };
    const { result, check, reminder } = await run();
    expect(result.failed).toEqual([]);
    expect(check).toMatchObject({ secretsUnknown: SECRETS_UNREADABLE, proposal: "delete-key" });
    expect(check?.secretsLeft).toBeUndefined();
    expect(reminder).toContain("the GitHub App needs Secrets: read");
    expect(reminder).toContain(
      "the repository secrets were NOT checked (cannot tell (the GitHub App needs Secrets: read)). Make sure PROD_AWS_KEY_ID, PROD_AWS_SECRET are deleted",
    );
  });

  it("a read that failed today holds the proposal until tomorrow, without failing the check", async () => {
    const { repositories, run } = await scenario();
    repositories.secrets = new TransientFailure("GitHub did not answer properly (502)", "github-502");
    const { result, check } = await run();
    expect(result.failed).toEqual([]);
    expect(check?.secretsUnknown).toContain("502");
    expect(check?.proposal).toBeUndefined();
  });

  it("takes the names from the workflows while they still read them, and remembers them", async () => {
    const { repositories, run } = await scenario();
    repositories.files.set(".github/workflows/deploy.yml", STATIC.replaceAll("PROD_", "LEGACY_"));
    repositories.secrets = { names: ["LEGACY_AWS_KEY_ID"] };
    const { check } = await run();
    expect(check?.secretsLeft).toEqual(["LEGACY_AWS_KEY_ID"]);
    expect(check?.keySecrets).toEqual(
      expect.arrayContaining(["PROD_AWS_KEY_ID", "LEGACY_AWS_KEY_ID", "LEGACY_AWS_SECRET"]),
    );
  });
});

describe("follow-through: the key's secrets in the environments its jobs run in", () => {
  it("withholds the proposal while an environment still holds a key secret, and says how to delete it", async () => {
    const { repositories, run } = await scenario("private", ["production"]);
    repositories.secrets = { names: [] };
    repositories.environmentSecrets.set("production", { names: ["PROD_AWS_SECRET", "DEPLOY_TOKEN"] });
    const { check, reminder } = await run();
    expect(check?.environmentSecretsLeft).toEqual([
      { environment: "production", names: ["PROD_AWS_SECRET"] },
    ]);
    expect(check?.proposal).toBeUndefined();
    expect(reminder).toContain("Environment secrets: PROD_AWS_SECRET still set in environment production.");
    expect(reminder).toContain("gh secret delete PROD_AWS_SECRET --env production --repo acme/api");
    expect(reminder).not.toContain("DEPLOY_TOKEN");
    expect(reminder).toContain("Deletion will be proposed once the secrets are deleted");
  });

  it("proposes deletion once the environments hold none of them, and says only organisation secrets were not checked", async () => {
    const { repositories, run } = await scenario("private", ["production"]);
    repositories.secrets = { names: [] };
    repositories.environmentSecrets.set("production", { names: ["DEPLOY_TOKEN"] });
    const { check, reminder } = await run();
    expect(check).toMatchObject({
      environments: ["production"],
      environmentSecretsLeft: [],
      proposal: "delete-key",
    });
    expect(reminder).toContain("Environment secrets: none of them set in production.");
    expect(reminder).toContain("Organisation secrets of the same names were not checked.");
    expect(reminder).not.toContain("Environment and organisation secrets");
  });

  it("the plan records the environments its roles serve, for the checks after the workflows are migrated", async () => {
    const plan = await planMigration({
      repository: { owner: "acme", name: "api", defaultBranch: "main", environments: ["production"] },
      workflows: [
        {
          path: ".github/workflows/deploy.yml",
          content: STATIC.replace(
            "    runs-on: ubuntu-latest\n",
            "    runs-on: ubuntu-latest\n    environment: production\n",
          ),
        },
      ],
      accountId: "123456789012",
    });
    expect(plannedEnvironments(plan)).toEqual({ environments: ["production"] });
  });

  it("checks the environments today's workflows still deploy to, too", async () => {
    const { repositories, run } = await scenario();
    repositories.files.set(
      ".github/workflows/deploy.yml",
      STATIC.replace(
        "    runs-on: ubuntu-latest\n",
        "    runs-on: ubuntu-latest\n    environment: staging\n",
      ),
    );
    repositories.secrets = { names: [] };
    repositories.environmentSecrets.set("staging", { names: ["PROD_AWS_KEY_ID"] });
    const { check } = await run();
    expect(repositories.environmentsAsked).toEqual(["staging"]);
    expect(check?.environmentSecretsLeft).toEqual([{ environment: "staging", names: ["PROD_AWS_KEY_ID"] }]);
  });

  it("a read that failed today holds the proposal; an App without Secrets: read gets it with a plain warning", async () => {
    const failing = await scenario("private", ["production"]);
    failing.repositories.secrets = { names: [] };
    failing.repositories.environmentSecrets.set(
      "production",
      new TransientFailure("GitHub 502", "github-502"),
    );
    const failed = await failing.run();
    expect(failed.result.failed).toEqual([]);
    expect(failed.check?.environmentSecretsUnknown).toContain("502");
    expect(failed.check?.proposal).toBeUndefined();

    const locked = await scenario("private", ["production"]);
    locked.repositories.secrets = { names: [] };
    locked.repositories.environmentSecrets.set("production", { unknown: SECRETS_UNREADABLE });
    const told = await locked.run();
    expect(told.check?.proposal).toBe("delete-key");
    expect(told.reminder).toContain(
      "Before you delete it: the secrets of environment(s) production were NOT all checked. Make sure PROD_AWS_KEY_ID, PROD_AWS_SECRET are deleted from them too.",
    );
  });
});

describe("follow-through: the issue checklist", () => {
  it("ticks the workflow switch and the secrets once verified, and leaves what it cannot verify", async () => {
    const { repositories, tracker, issue, run } = await scenario();
    repositories.secrets = { names: [] };
    const { check, reminder } = await run();
    expect(check?.checklist).toEqual({ ticked: [CHECKLIST.switchWorkflows, CHECKLIST.deleteSecrets] });
    const body = tracker.bodies.get(issue.number) ?? "";
    expect(body).toContain(`- [x] ${CHECKLIST.switchWorkflows}`);
    expect(body).toContain(`- [x] ${CHECKLIST.deleteSecrets}`);
    expect(body).toContain("- [ ] After a week green: deactivate the user's remaining keys");
    expect(body).toContain("- [ ] Create the role(s) from the plan");
    expect(reminder).toContain("Issue checklist: ticked");
  });

  it("ticks only the workflow switch while the secrets are still set", async () => {
    const { repositories, tracker, issue, run } = await scenario();
    repositories.secrets = { names: ["PROD_AWS_KEY_ID"] };
    await run();
    const body = tracker.bodies.get(issue.number) ?? "";
    expect(body).toContain(`- [x] ${CHECKLIST.switchWorkflows}`);
    expect(body).toContain(`- [ ] ${CHECKLIST.deleteSecrets}`);
  });

  it("leaves a public repository's issue alone: it has no checklist to tick", async () => {
    const { repositories, tracker, issue, run } = await scenario("public");
    repositories.secrets = { names: [] };
    const { check } = await run();
    expect(check?.checklist).toBeUndefined();
    expect(tracker.bodies.get(issue.number)).not.toContain("- [x]");
  });

  it("records issues disabled on the check instead of failing the follow-through", async () => {
    const { repositories, tracker, run } = await scenario();
    repositories.secrets = { names: [] };
    tracker.unavailable = "GitHub answered Gone (issues are disabled on this repository) (HTTP 410)";
    const { result, check } = await run();
    expect(result.failed).toEqual([]);
    expect(check?.checklist).toEqual({ problem: expect.stringContaining("410") });
    expect(check?.proposal).toBe("delete-key");
  });
});

describe("tickChecklist", () => {
  it("ticks exact item text only, in any bullet style, and keeps everything else byte for byte", () => {
    const body = [
      `- [ ] ${CHECKLIST.switchWorkflows}`,
      `  * [ ] ${CHECKLIST.deleteSecrets}`,
      `- [ ] ${CHECKLIST.switchWorkflows} (mostly)`,
      `- [x] ${CHECKLIST.deleteSecrets}`,
      `Text mentioning - [ ] ${CHECKLIST.switchWorkflows}`,
    ].join("\r\n");
    const next = tickChecklist(body, [CHECKLIST.switchWorkflows, CHECKLIST.deleteSecrets]);
    expect(next.body.split("\r\n")).toEqual([
      `- [x] ${CHECKLIST.switchWorkflows}`,
      `  * [x] ${CHECKLIST.deleteSecrets}`,
      `- [ ] ${CHECKLIST.switchWorkflows} (mostly)`,
      `- [x] ${CHECKLIST.deleteSecrets}`,
      `Text mentioning - [ ] ${CHECKLIST.switchWorkflows}`,
    ]);
    expect(next.ticked).toEqual([CHECKLIST.switchWorkflows, CHECKLIST.deleteSecrets]);
    expect(tickChecklist(next.body, [CHECKLIST.switchWorkflows])).toEqual({ body: next.body, ticked: [] });
  });
});
