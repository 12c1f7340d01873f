/**
 * Follow-through end to end on the sandbox, with a simulated clock: a key contained today is
 * checked the next day (still inactive, the workflows still hold static keys: a reminder in the
 * incident's thread), said loudly when someone reactivates it, checked again once the repository is
 * migrated, its key secrets deleted and a month has passed: deletion is held while the planned OIDC
 * role trusts every workflow of the repository, and proposed (never performed) once its trust is
 * pinned; the issue's checklist is ticked for what was verified; never twice on one day.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECKLIST, incidentIssue } from "../../src/adapters/github/incident-issue.js";
import { type LocalStack, startLocalStack } from "../../src/cli/local-stack.js";
import { loadRespondConfig } from "../../src/config.js";
import type { Incident } from "../../src/domain/incident.js";
import { MemoryLog } from "../../src/logger.js";
import { OIDC_PROVIDER_URL, trustPolicy } from "../../src/oidc-plan/trust-policy.js";
import { followThrough } from "../../src/playbook/follow-through.js";
import { respondToKey } from "../../src/playbook/respond.js";
import { createPlaybookDeps } from "../../src/responder.js";
import { migratedWorkflow } from "../support/follow-through-world.js";
import { slackBotSeed } from "../support/slack-bot.js";
import { storedIncident } from "../support/staged-stack.js";

const DAY_MS = 86_400_000;
const ROLE = "gh-demo-deploy-branch-main";

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ log: new MemoryLog(), seed: slackBotSeed });
});

afterAll(async () => {
  await stack?.close();
});

/** The responder as it runs on a given day. */
function depsAt(day: number, start: number) {
  const clock = { now: () => new Date(start + day * DAY_MS) };
  return createPlaybookDeps(loadRespondConfig(process.env), new MemoryLog(), process.env, { clock });
}

const stored = (id: string) => storedIncident(stack, id);

describe("the daily follow-through", () => {
  it("reminds in the thread while the workflows hold static keys, proposes deletion once migrated and unused, deletes nothing", async () => {
    const { world, sandbox } = stack;
    const start = Date.now();
    const contained = await respondToKey(world.leaked.key.accessKeyId, depsAt(0, start));
    const id = contained.incident.id;
    // A manual response names no repository: say which one the key served, as a person would.
    const incident = stored(id);
    expect(incident?.status).toMatch(/^contained/);
    const first = depsAt(0, start);
    const current = await first.incidents.get(id);
    if (!current) throw new Error("no incident");
    // ...and the issue the responder opens in a private repository, with its checklist.
    const named: Incident = {
      ...current.incident,
      repository: world.repository,
      repositoryVisibility: "private",
      // ...and the plan's role, as step 7 records it.
      plan: {
        summary: "",
        files: [],
        roles: [ROLE],
        nothingToMigrate: false,
        location: `incidents/${id}/evidence/plan/`,
      },
    };
    const issue = await first.issues?.tracker.openIssue(
      { repository: world.repository, alertNumber: 0, installationId: world.installationId },
      incidentIssue({ incident: named, diffs: [], hideIps: false }),
    );
    if (!issue) throw new Error("no issue tracker");
    await first.incidents.update({ ...named, githubIssue: issue }, current.etag);
    const thread = stored(id)?.notifications?.slack?.ts;
    expect(thread).toBeDefined();
    const issueBody = () =>
      sandbox.state.repo(world.repository)?.issues.find((i) => i.number === issue.number)?.body;
    expect(issueBody()).toContain(`- [ ] ${CHECKLIST.switchWorkflows}`);

    // Day 1: inactive, unused, but the demo's workflows still use static keys.
    const day1 = await followThrough(depsAt(1, start), { deleteProposalDays: 30 });
    expect(day1.failed).toEqual([]);
    const check1 = day1.checked.find((c) => c.id === id)?.check;
    expect(check1).toMatchObject({ keyStatus: "Inactive", daysSinceContainment: 1 });
    expect(check1?.staticUsesLeft).toBeGreaterThan(0);
    expect(check1?.proposal).toBeUndefined();
    const [reminder, summary] = sandbox.state.slackMessages.slice(-2);
    expect(reminder?.threadTs).toBe(thread);
    expect(reminder?.raw).toContain("still use static AWS keys");
    // The key's repository secrets are still set (the other secret is none of its business).
    expect(check1?.secretsLeft).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    expect(reminder?.raw).toContain("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY still set in");
    expect(reminder?.raw).not.toContain("CODECOV_TOKEN");
    // Nothing of the OIDC side exists yet in the key's account, read through the member role.
    expect(check1).toMatchObject({ oidcProvider: "missing", oidcRoles: [{ name: ROLE, state: "missing" }] });
    expect(reminder?.raw).toContain(`Role ${ROLE}: not created yet`);
    expect(sandbox.state.callsTo("iam", "GetRole").at(-1)?.accountId).toBe(world.memberAccountId);
    expect(issueBody()).not.toContain("- [x]");
    // The day's summary goes to the channel itself.
    expect(summary?.threadTs).toBeUndefined();
    expect(summary?.raw).toContain("1 open incident(s) checked");

    // The same day again (the queue delivers at least once): nothing is checked or said twice.
    const messages = sandbox.state.slackMessages.length;
    const again = await followThrough(depsAt(1, start), { deleteProposalDays: 30 });
    expect(again.checked.find((c) => c.id === id)).toBeUndefined();
    expect(sandbox.state.slackMessages).toHaveLength(messages);

    // Day 2: someone reactivated the key. Said loudly, and no deletion can be proposed on it.
    world.leaked.key.status = "Active";
    const day2 = await followThrough(depsAt(2, start), { deleteProposalDays: 1 });
    expect(day2.checked.find((c) => c.id === id)?.check).toMatchObject({ keyStatus: "Active" });
    expect(day2.checked.find((c) => c.id === id)?.check.proposal).toBeUndefined();
    expect(sandbox.state.slackMessages.at(-2)?.raw).toContain("ACTIVE again");
    expect(sandbox.state.slackMessages.at(-1)?.raw).toContain("ALERT");
    expect(stored(id)?.timeline.at(-1)).toMatchObject({ step: "followed-through", outcome: "failed" });
    world.leaked.key.status = "Inactive";

    // The team migrates and deletes the key's secrets; a month later deletion is proposed, and only
    // proposed, and the issue's checklist shows what was verified.
    const repo = sandbox.state.repo(world.repository);
    if (!repo) throw new Error("no repository");
    repo.files = new Map([[".github/workflows/deploy.yml", migratedWorkflow("github-deploy")]]);
    repo.actionsSecrets = ["CODECOV_TOKEN"];
    // ...and creates the provider and the role, first with a trust that lets in every workflow.
    const account = world.memberAccountId;
    sandbox.state.addOidcProvider(account, OIDC_PROVIDER_URL, ["sts.amazonaws.com"]);
    const pinned = trustPolicy(account, [
      { value: `repo:${world.repository}:ref:refs/heads/main`, match: "StringEquals" },
    ]);
    const role = sandbox.state.addRole(account, ROLE, []);
    role.trustPolicy = JSON.stringify(pinned).replace(
      `"token.actions.githubusercontent.com:sub":["repo:${world.repository}:ref:refs/heads/main"]`,
      `"token.actions.githubusercontent.com:sub":["repo:${world.repository}:*"]`,
    );
    const day30 = await followThrough(depsAt(30, start), { deleteProposalDays: 30 });
    const check30 = day30.checked.find((c) => c.id === id)?.check;
    expect(check30?.oidcRoles?.[0]?.state).toBe("too-wide");
    expect(check30?.proposal).toBeUndefined();
    expect(sandbox.state.slackMessages.at(-2)?.raw).toContain(`WARNING: role ${ROLE} trusts too much`);
    expect(sandbox.state.slackMessages.at(-1)?.raw).toContain("an OIDC role's trust is not pinned");
    expect(issueBody()).toContain(`- [x] ${CHECKLIST.createProvider}`);
    expect(issueBody()).toContain(`- [ ] ${CHECKLIST.createRoles}`);

    // The next day the trust is pinned to the branch, as the plan wrote it.
    role.trustPolicy = JSON.stringify(pinned);
    const day31 = await followThrough(depsAt(31, start), { deleteProposalDays: 30 });
    const check31 = day31.checked.find((c) => c.id === id)?.check;
    expect(check31).toMatchObject({
      keyStatus: "Inactive",
      staticUsesLeft: 0,
      secretsLeft: [],
      proposal: "delete-key",
    });
    expect(sandbox.state.slackMessages.at(-2)?.raw).toContain(
      "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY no longer set in",
    );
    expect(check31?.oidcRoles).toEqual([{ name: ROLE, state: "created" }]);
    expect(issueBody()).toContain(`- [x] ${CHECKLIST.createRoles}`);
    expect(issueBody()).toContain(`- [x] ${CHECKLIST.switchWorkflows}`);
    expect(issueBody()).toContain(`- [x] ${CHECKLIST.deleteSecrets}`);
    expect(issueBody()).toContain("- [ ] After a week green: deactivate the user's remaining keys");
    expect(sandbox.state.slackMessages.at(-2)?.raw).toContain("aws iam delete-access-key");
    expect(sandbox.state.slackMessages.at(-1)?.raw).toContain("1 key(s) ready to delete");
    expect(world.leaked.key.status).toBe("Inactive");
    expect(sandbox.state.callsTo("iam", "DeleteAccessKey")).toHaveLength(0);
    expect(stored(id)?.followThrough?.proposal).toBe("delete-key");
  });
});
