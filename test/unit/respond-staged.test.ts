/**
 * Containment in AWS (issue 13): respond.ts finish() with the stage queues. The first message is
 * handed to the notification stage (which records it once it is in Slack), the contained incident
 * to its account's investigation group, and a hand-over SQS refused is retried by the alert queue.
 */
import { describe, expect, it } from "vitest";
import { PermanentFailure, TransientFailure } from "../../src/domain/errors.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import { world } from "../support/respond-world.js";
import { RecordingStageQueues } from "../support/stage-queues.js";

function staged() {
  const w = world();
  const stages = new RecordingStageQueues();
  return { w, stages, deps: { ...w.deps, stages } };
}

describe("finish() with the stage queues", () => {
  it("hands the first message over instead of posting it, records nothing as notified, and hands the incident to its account", async () => {
    const { w, stages, deps } = staged();
    const { incident } = await respondToAlert(w.job(), deps);

    expect(incident.status).toBe("contained");
    expect(w.notifier.sent).toEqual([]);
    expect(stages.notified).toEqual([
      { kind: "notice", incidentId: incident.id, notice: "first", status: "contained" },
    ]);
    expect(stages.investigated).toEqual([
      { kind: "investigate", incidentId: incident.id, accountId: w.member, continuation: 0, attempt: 0 },
    ]);
    const stored = w.incidents.only();
    expect(stored.timeline.filter((e) => e.step === "notified")).toEqual([]);
    expect(stored.timeline.some((e) => e.step === "alert-resolved" && e.outcome === "done")).toBe(true);
    expect(stored.lease).toBeUndefined();
  });

  it("a failed containment hands over the loud failure notice and nothing to investigate", async () => {
    const { w, stages, deps } = staged();
    w.iam.failDeactivate.push(new PermanentFailure("AccessDenied", "AccessDenied"));
    const { incident } = await respondToAlert(w.job(), deps);

    expect(incident.status).toBe("failed");
    expect(stages.notified).toEqual([
      { kind: "notice", incidentId: incident.id, notice: "first", status: "failed" },
    ]);
    expect(stages.investigated).toEqual([]);
  });

  it("SQS refusing the investigation hand-over makes the delivery retryable; the redelivery hands it over", async () => {
    const { w, stages, deps } = staged();
    stages.failInvestigate.push(new TransientFailure("SQS unavailable", "ServiceUnavailable"));
    const error = await respondToAlert(w.job(), deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientFailure);
    expect((error as TransientFailure).code).toBe("StepsPending");
    expect(stages.investigated).toEqual([]);

    await respondToAlert(w.job(), deps);
    expect(stages.investigated).toHaveLength(1);
    // The first message is handed over again, byte for byte: SQS's deduplication takes it in once,
    // and the notification stage posts only what the incident does not record as sent.
    expect(stages.notified).toHaveLength(2);
    expect(JSON.stringify(stages.notified[1])).toBe(JSON.stringify(stages.notified[0]));
  });

  it("SQS refusing the first message's hand-over: retried, and the investigation waits (the follow-up must not overtake it)", async () => {
    const { w, stages, deps } = staged();
    stages.failNotify.push(new TransientFailure("SQS unavailable", "ServiceUnavailable"));
    const error = await respondToAlert(w.job(), deps).catch((e: unknown) => e);
    expect((error as TransientFailure).code).toBe("StepsPending");
    expect(stages.investigated).toEqual([]);
    expect(
      w.incidents
        .only()
        .timeline.filter((e) => e.step === "notified")
        .map((e) => e.outcome),
    ).toEqual(["failed"]);
  });

  it("on the last delivery a refused hand-over says on the incident that the investigation never started, and fails into the dead-letter queue (its alarm) for a redrive", async () => {
    const { w, stages, deps } = staged();
    stages.failInvestigate.push(new TransientFailure("SQS unavailable", "ServiceUnavailable"));
    const error = await respondToAlert(w.job(), deps, { finalAttempt: true }).catch((e: unknown) => e);
    expect((error as PermanentFailure).code).toBe("HandOffFailed");
    expect(w.incidents.only().status).toBe("contained");
    expect(w.incidents.only().lease).toBeUndefined();
    // Nobody will hand it over again: the incident says what is missing, where people read it.
    expect(w.incidents.only().warnings.join("\n")).toMatch(/investigation was NOT started/);
    expect(w.incidents.only().timeline.find((e) => e.step === "snapshot-taken")?.outcome).toBe("failed");
  });

  it("on the last delivery a refused first message is on the incident as NOT told, and the redrive hands it over", async () => {
    const { w, stages, deps } = staged();
    stages.failNotify.push(new TransientFailure("SQS unavailable", "ServiceUnavailable"));
    const error = await respondToAlert(w.job(), deps, { finalAttempt: true }).catch((e: unknown) => e);
    expect((error as PermanentFailure).code).toBe("HandOffFailed");
    expect(w.incidents.only().warnings.join("\n")).toMatch(/NOT told/);
    // The redrive, once SQS takes messages again: the first message is handed over.
    await respondToAlert(w.job(), deps);
    expect(stages.notified.filter((t) => t.kind === "notice" && t.notice === "first")).toHaveLength(1);
  });

  it("a key in the home account is handed to the home account's group", async () => {
    const w = world({ member: false });
    const stages = new RecordingStageQueues();
    await respondToAlert(w.job(), { ...w.deps, stages });
    expect(stages.investigated.map((t) => t.accountId)).toEqual([w.home]);
  });
});
