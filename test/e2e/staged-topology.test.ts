/**
 * The deployed topology (issue 13) end to end on the sandbox: the intake queues a signed delivery to
 * the alert queue; the containment function's handler, fed by that queue as Lambda feeds it, contains
 * the key and hands over; the investigation function (FIFO, a group per account) and the notification
 * function (FIFO, one group for the channel) finish the story. Everything crosses real SQS queues
 * (the sandbox's, through the SDK), nothing is called in process between the stages.
 */
import { describe, expect, it } from "vitest";
import { incidentIdFor } from "../../src/domain/alert-job.js";
import type { Incident } from "../../src/domain/incident.js";
import {
  deliverDemoAlert,
  scheduleFollowThrough,
  stagedStackForFile,
  storedIncident,
} from "../support/staged-stack.js";

const staged = stagedStackForFile();

function lastWord(incident: Incident | undefined, step: string): string | undefined {
  return incident?.timeline.filter((e) => e.step === step).at(-1)?.outcome;
}

describe("the deployed stages, connected by their queues", () => {
  it("contains, investigates, tells and reports through three functions and two FIFO queues", async () => {
    const stack = staged();
    const { sandbox, world } = stack;
    const { answer, incidentId } = await deliverDemoAlert(stack);
    expect(answer.status).toBe(202);
    await stack.drained();

    const incident = storedIncident(stack, incidentId);
    expect(world.leaked.key.status).toBe("Inactive");
    expect(incident?.status).toMatch(/^contained/);
    for (const step of [
      "key-deactivated",
      "sessions-revoked",
      "alert-resolved",
      "notified",
      "snapshot-taken",
      "evidence-stored",
      "analyzed",
      "planned",
      "issue-opened",
      "followed-up",
      "report-written",
      "report-attached",
    ]) {
      expect({ step, outcome: lastWord(incident, step) }).toEqual({ step, outcome: "done" });
    }
    // Each stage did its part once: one deactivation, one first message, one follow-up in its thread.
    expect(sandbox.state.callsTo("iam", "UpdateAccessKey")).toHaveLength(1);
    const messages = sandbox.state.slackMessages;
    expect(messages.filter((m) => m.threadTs === undefined)).toHaveLength(1);
    expect(messages.some((m) => m.threadTs === incident?.notifications?.slack?.ts)).toBe(true);
    // The stages spoke to each other through the queues: the FIFO ones were used, nothing dead-lettered.
    const sends = sandbox.state.calls.filter((c) => c.service === "sqs" && c.operation === "SendMessage");
    expect(sends.length).toBeGreaterThanOrEqual(4);
    expect(stack.deadLettered()).toBe(0);
  }, 120_000);

  it("runs the daily follow-through from the schedule's task on the investigation queue", async () => {
    const stack = staged();
    const before = stack.sandbox.state.slackMessages.length;
    await scheduleFollowThrough(stack);
    await stack.drained();
    // The reminder in the incident's thread and the daily summary, posted by the notification stage.
    const after = stack.sandbox.state.slackMessages.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(1);
    const id = incidentIdFor(stack.world.repository, stack.world.leaked.alert.number);
    expect(storedIncident(stack, id)?.followThrough?.checkedAt).toBeDefined();
    expect(stack.deadLettered()).toBe(0);
  }, 120_000);
});
