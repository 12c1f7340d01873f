/**
 * The notification stage (issue 13): the one consumer of the channel's queue. What a person sees in
 * Slack: the first message once (also when the task comes twice), a redelivery that cannot tell
 * whether Slack has it says so, Slack refusing for good is said on the incident instead of retried
 * into the dead-letter queue, and the follow-up and report only for a contained incident.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileEvidenceStore } from "../../src/adapters/local/file-evidence-store.js";
import { PermanentFailure, TransientFailure, UnprocessableMessage } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import type { NotificationTask } from "../../src/domain/stage-task.js";
import { NOT_TOLD } from "../../src/playbook/failure-policy.js";
import { runNotificationTask } from "../../src/playbook/notification-stage.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import type { NoticeOptions, NotificationKind, Notifier } from "../../src/ports.js";
import { minimalIncident } from "../support/fakes.js";
import { world } from "../support/respond-world.js";
import { RecordingStageQueues } from "../support/stage-queues.js";

/** Containment ran with stages: the incident is recorded, its first message handed over, not sent. */
async function handedOver(options: { failed?: boolean } = {}) {
  const w = world();
  if (options.failed) w.iam.failDeactivate.push(new PermanentFailure("AccessDenied", "AccessDenied"));
  const stages = new RecordingStageQueues();
  const { incident } = await respondToAlert(w.job(), { ...w.deps, stages }, { finalAttempt: true });
  const notices: Array<{ kind: NotificationKind; options: NoticeOptions }> = [];
  const notify = w.notifier.notify.bind(w.notifier);
  w.notifier.notify = async (i: Incident, kind: NotificationKind, notice: NoticeOptions = {}) => {
    notices.push({ kind, options: notice });
    return notify(i, kind);
  };
  const deps = {
    ...w.deps,
    evidence: new FileEvidenceStore(mkdtempSync(join(tmpdir(), "notification-stage-"))),
  };
  const first: NotificationTask = { kind: "notice", incidentId: incident.id, notice: "first" };
  const followUp: NotificationTask = { kind: "notice", incidentId: incident.id, notice: "follow-up" };
  return { w, deps, incident, notices, first, followUp };
}

const once = { redelivered: false, finalAttempt: false };
const steps = (incident: Incident, step: string) =>
  incident.timeline.filter((e) => e.step === step).map((e) => e.outcome);

describe("the first message", () => {
  it("is posted once and recorded with where it is in Slack; the same task again posts nothing", async () => {
    const { w, deps, first, notices } = await handedOver();
    expect(w.notifier.sent).toEqual([]);
    await runNotificationTask(first, deps, once);
    await runNotificationTask(first, deps, once);

    expect(notices).toEqual([{ kind: "contained", options: {} }]);
    const incident = w.incidents.only();
    expect(steps(incident, "notified")).toEqual(["done"]);
    expect(incident.notifications?.slack).toEqual({ channel: "C-TEST", ts: "1.000100" });
  });

  it("says what the incident is now: a failed containment gets the loud failure message", async () => {
    const { deps, first, notices } = await handedOver({ failed: true });
    await runNotificationTask(first, deps, once);
    expect(notices.map((n) => n.kind)).toEqual(["failed"]);
  });

  it("redelivered, and Slack already has it (read back): not posted again, recorded as already there", async () => {
    const { w, deps, first, notices } = await handedOver();
    const notifier: Notifier = w.notifier;
    notifier.findSent = async () => ({ channel: "C-TEST", ts: "9.000900" });
    await runNotificationTask(first, deps, { redelivered: true, finalAttempt: false });

    expect(notices).toEqual([]);
    const incident = w.incidents.only();
    expect(incident.timeline.find((e) => e.step === "notified")?.detail).toContain("already in Slack");
    expect(incident.notifications?.slack?.ts).toBe("9.000900");
  });

  it("redelivered, and the notifier cannot read back (webhook): posted again, marked as a possible repeat", async () => {
    const { deps, first, notices } = await handedOver();
    await runNotificationTask(first, deps, { redelivered: true, finalAttempt: false });
    expect(notices).toEqual([{ kind: "contained", options: { possibleRepeat: true } }]);
  });

  it("Slack refusing for good (revoked webhook): recorded with a warning a person reads, not retried", async () => {
    const { w, deps, first } = await handedOver();
    w.notifier.failures.push(new PermanentFailure("invalid_token", "SlackRefused"));
    await expect(runNotificationTask(first, deps, once)).resolves.toBeUndefined();
    const incident = w.incidents.only();
    expect(steps(incident, "notified")).toEqual(["failed"]);
    expect(incident.warnings.join("\n")).toContain(NOT_TOLD);
  });

  it("Slack's passing trouble: recorded and thrown for the queue to retry, with no standing warning", async () => {
    const { w, deps, first } = await handedOver();
    w.notifier.failures.push(new TransientFailure("Slack 503", "SlackUnavailable"));
    await expect(runNotificationTask(first, deps, once)).rejects.toBeInstanceOf(TransientFailure);
    const incident = w.incidents.only();
    expect(steps(incident, "notified")).toEqual(["failed"]);
    expect(incident.warnings.join("\n")).not.toContain(NOT_TOLD);
    // The retry posts it.
    await runNotificationTask(first, deps, once);
    expect(steps(w.incidents.only(), "notified")).toEqual(["failed", "done"]);
  });

  it("Slack's passing trouble on the last delivery: given up with the warning, not thrown", async () => {
    const { w, deps, first } = await handedOver();
    w.notifier.failures.push(new TransientFailure("Slack 503", "SlackUnavailable"));
    await expect(
      runNotificationTask(first, deps, { redelivered: true, finalAttempt: true }),
    ).resolves.toBeUndefined();
    expect(w.incidents.only().warnings.join("\n")).toContain(NOT_TOLD);
  });
});

describe("the follow-up", () => {
  it("a contained incident gets the follow-up in Slack and its audit report written", async () => {
    const { w, deps, followUp } = await handedOver();
    await runNotificationTask(followUp, deps, once);
    await runNotificationTask(followUp, deps, once);

    expect(w.notifier.followUps).toHaveLength(1);
    const incident = w.incidents.only();
    expect(steps(incident, "followed-up")).toEqual(["done"]);
    expect(steps(incident, "report-written")).toEqual(["done"]);
  });

  it("an incident that is not contained gets no follow-up", async () => {
    const { w, deps, followUp } = await handedOver({ failed: true });
    await runNotificationTask(followUp, deps, once);
    expect(w.notifier.followUps).toEqual([]);
    expect(steps(w.incidents.only(), "followed-up")).toEqual([]);
  });

  it("the follow-up failing for a passing reason is thrown for the queue to retry", async () => {
    const { w, deps, followUp } = await handedOver();
    w.notifier.followUp = async () => {
      throw new TransientFailure("Slack 503", "SlackUnavailable");
    };
    await expect(runNotificationTask(followUp, deps, once)).rejects.toBeInstanceOf(TransientFailure);
    expect(steps(w.incidents.only(), "followed-up")).toEqual(["failed"]);
  });
});

describe("messages that are not the incident's own notices", () => {
  it("an unrecorded incident (dry run) is posted from the message itself; a redelivery says it may repeat", async () => {
    const { deps, notices } = await handedOver();
    const dry = { ...minimalIncident("dry__1", "dry run"), status: "dry-run" as const };
    await runNotificationTask({ kind: "unrecorded", incident: dry, notice: "dry-run" }, deps, once);
    await runNotificationTask({ kind: "unrecorded", incident: dry, notice: "dry-run" }, deps, {
      redelivered: true,
      finalAttempt: false,
    });
    expect(notices).toEqual([
      { kind: "dry-run", options: {} },
      { kind: "dry-run", options: { possibleRepeat: true } },
    ]);
  });

  it("a reminder names the incident read from the store; an announcement posts its lines", async () => {
    const { w, deps, incident } = await handedOver();
    const reminded: Array<{ id: string; lines: readonly string[] }> = [];
    const announced: Array<readonly string[]> = [];
    const notifier: Notifier = w.notifier;
    notifier.remind = async (i, lines) => {
      reminded.push({ id: i.id, lines });
    };
    notifier.announce = async (lines) => {
      announced.push(lines);
    };
    await runNotificationTask({ kind: "remind", incidentId: incident.id, lines: ["rotate it"] }, deps, once);
    await runNotificationTask({ kind: "announce", lines: ["2 open"] }, deps, once);
    expect(reminded).toEqual([{ id: incident.id, lines: ["rotate it"] }]);
    expect(announced).toEqual([["2 open"]]);
  });

  it("a task for an incident that is not in the store fails for good", async () => {
    const { deps } = await handedOver();
    const error = await runNotificationTask(
      { kind: "notice", incidentId: "nope", notice: "first" },
      deps,
      once,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessableMessage);
    expect((error as PermanentFailure).code).toBe("IncidentMissing");
  });
});
