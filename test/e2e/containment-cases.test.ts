/**
 * Containment's cases end to end on the sandbox over real HTTP (intake -> queue -> playbook -> the
 * real SDK clients): home account, a key from an account nobody here manages, a protected user,
 * dry-run, and redeliveries plus a forced retry.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { revokedByPolicy } from "../../sandbox/aws/authorize.js";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { type DemoOptions, runDemo } from "../../src/cli/demo.js";
import type { LocalStack } from "../../src/cli/local-stack.js";

async function run(options: DemoOptions = {}) {
  let stack: LocalStack | undefined;
  const summary = await runDemo({
    reportDir: mkdtempSync(join(tmpdir(), "cases-")),
    ...options,
    beforeDelivery: async (running) => {
      stack = running;
      await options.beforeDelivery?.(running);
    },
  });
  if (!stack) throw new Error("no stack");
  const { sandbox, world } = stack;
  const incidentObjects = [...(sandbox.state.buckets.get(world.bucket)?.keys() ?? [])].filter((k) =>
    k.endsWith("/incident.json"),
  );
  const incident = incidentObjects[0]
    ? JSON.parse(
        sandbox.state.buckets.get(world.bucket)?.get(incidentObjects[0])?.body.toString("utf8") ?? "{}",
      )
    : undefined;
  return { summary, sandbox, world, incidentObjects, incident };
}

describe("containment cases on the sandbox", () => {
  it("a key in the home account is deactivated with the responder's own role, no AssumeRole for it", async () => {
    const { summary, sandbox, world } = await run({ world: { keyInHomeAccount: true } });
    expect(summary.status).toBe("contained");
    expect(summary.account).toBe(world.homeAccountId);
    expect(world.leaked.key.status).toBe("Inactive");
    const update = sandbox.state.callsTo("iam", "UpdateAccessKey")[0];
    expect(update?.callerArn).toContain("leak-responder-respond");
  });

  it("a key from an account nobody here manages is reported as not-ours, and nothing is changed", async () => {
    const stranger = fakeAccessKeyId();
    const { summary, sandbox, world } = await run({ world: { alertSecret: () => stranger } });
    expect(summary.status).toBe("not-ours");
    expect(sandbox.state.callsTo("iam", "UpdateAccessKey")).toHaveLength(0);
    expect(world.leaked.alert.state).toBe("open");
    expect(sandbox.state.slackMessages[0]?.raw).toContain("we do not manage");
  });

  it("a leaked temporary (ASIA) key: the sessions of the role that minted it are revoked and the key stops working", async () => {
    const { summary, sandbox, world, incident } = await run({
      beforeDelivery: async (running) => {
        running.world.leaked.alert.secret = running.world.history.roleSession.accessKeyId;
      },
    });
    const roleSession = world.history.roleSession;
    expect(summary.status).toBe("contained");
    expect(incident.accessKeyId).toBe(roleSession.accessKeyId);
    expect(incident.summary).toContain(`minted by role ${world.history.assumedRoleName}`);
    const role = sandbox.state.account(world.leaked.accountId).roles.get(world.history.assumedRoleName);
    expect([...(role?.inlinePolicies.keys() ?? [])]).toEqual(["AWSRevokeOlderSessions"]);
    // The long-term key that started it all is another alert's business: untouched here.
    expect(world.leaked.key.status).toBe("Active");
    expect(sandbox.state.callsTo("iam", "UpdateAccessKey")).toHaveLength(0);
    // The sandbox's authoriser, as IAM would, now refuses the leaked session (its token predates the cut-off).
    const caller = sandbox.state.credentials.get(roleSession.accessKeyId)?.caller;
    expect(caller && revokedByPolicy(sandbox.state, caller)).toBe(true);
  });

  it("a protected user's key is escalated loudly and stays active", async () => {
    const { summary, sandbox, world } = await run({ env: { PROTECTED_USERS: "ci-deploy" } });
    expect(summary.status).toBe("escalated");
    expect(world.leaked.key.status).toBe("Active");
    expect(sandbox.state.callsTo("iam", "UpdateAccessKey")).toHaveLength(0);
    expect(sandbox.state.slackMessages[0]?.raw).toContain("ACTION NEEDED");
    expect(world.leaked.alert.state).toBe("open");
  });

  it("dry-run changes nothing in AWS, GitHub or the incident store, and says what it would do", async () => {
    const { summary, sandbox, world, incidentObjects } = await run({ env: { RESPONDER_MODE: "dry-run" } });
    expect(summary.status).toBe("dry-run");
    expect(world.leaked.key.status).toBe("Active");
    expect(sandbox.state.user(world.leaked.accountId, "ci-deploy").inlinePolicies.size).toBe(0);
    expect(world.leaked.alert.state).toBe("open");
    expect(incidentObjects).toEqual([]);
    expect(sandbox.state.callsTo("iam", "UpdateAccessKey")).toHaveLength(0);
    expect(sandbox.state.callsTo("iam", "PutUserPolicy")).toHaveLength(0);
    expect(summary.timeline.filter((e) => e.outcome === "would-do").map((e) => e.step)).toEqual([
      "key-deactivated",
      "sessions-revoked",
      "alert-resolved",
    ]);
    expect(sandbox.state.slackMessages[0]?.raw).toContain("Dry run");
  });

  it("three redeliveries and a forced retry give one incident, one deactivation, one resolution, one first message", async () => {
    const { summary, sandbox, world, incidentObjects, incident } = await run({
      redeliveries: 3,
      // Slack refuses the first message past its client's retries: the job fails and is redelivered.
      beforeDelivery: (stack) =>
        stack.sandbox.faults.inject({ service: "slack", kind: "server-error", times: 4 }),
    });
    expect(summary.status).toBe("contained");
    expect(incidentObjects).toHaveLength(1);
    expect(world.leaked.alert.resolveCount).toBe(1);
    expect(
      sandbox.state.callsTo("iam", "UpdateAccessKey").filter((c) => c.status === 200).length,
    ).toBeGreaterThanOrEqual(1);
    const steps = (incident?.timeline ?? []) as Array<{ step: string; outcome: string }>;
    expect(steps.filter((e) => e.step === "key-deactivated" && e.outcome === "done")).toHaveLength(1);
    expect(steps.filter((e) => e.step === "notified" && e.outcome === "done")).toHaveLength(1);
    expect(new Set(incident?.deliveryIds).size).toBe(4);
    const firstMessages = sandbox.state.slackMessages.filter((m) =>
      m.raw.includes("Leaked AWS key contained"),
    );
    expect(firstMessages).toHaveLength(1);
  });
});
