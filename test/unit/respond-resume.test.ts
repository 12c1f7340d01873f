/**
 * Resuming an incident after a run died between a side effect and recording it: the first message
 * and the alert resolution are not repeated (src/playbook/notice-once.ts, respond.ts), and a failed
 * incident that a later delivery contains is news the owners get. With real processes killed on
 * the sandbox: test/e2e/crash-resume.test.ts.
 */
import { describe, expect, it } from "vitest";
import { PermanentFailure } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import type {
  AlertDetails,
  NoticeKind,
  NoticeOptions,
  NotificationKind,
  NotificationReceipt,
} from "../../src/ports.js";
import { FakeAlertSource, MemoryIncidentStore, RecordingNotifier } from "../support/fakes.js";
import { world } from "../support/respond-world.js";

/** The process "dies" at the n-th incident update: nothing after it runs, nothing of it is stored. */
class DyingStore extends MemoryIncidentStore {
  dieAtUpdate: number | undefined;
  #updates = 0;
  override async update(incident: Incident, etag: string): Promise<string> {
    this.#updates += 1;
    if (this.#updates === this.dieAtUpdate) throw new Error("the process died");
    return super.update(incident, etag);
  }
}

/** A notifier that remembers what it sent and can be read back, like Slack with a bot token. */
class ReadBackNotifier extends RecordingNotifier {
  readonly options: NoticeOptions[] = [];
  readBack = true;
  override async notify(
    incident: Incident,
    kind: NotificationKind,
    options: NoticeOptions = {},
  ): Promise<NotificationReceipt | undefined> {
    this.options.push(options);
    return super.notify(incident, kind);
  }
  async findSent(incident: Incident, kind: NoticeKind): Promise<NotificationReceipt | undefined> {
    if (!this.readBack) throw new Error("missing_scope");
    const index = this.sent.findIndex((s) => s.incident.id === incident.id && s.kind === kind);
    return index < 0 ? undefined : { channel: "C-TEST", ts: `${index + 1}.000100` };
  }
}

/** GitHub shows the alert resolved once a PATCH resolved it. */
class StatefulAlerts extends FakeAlertSource {
  override async getAlert(): Promise<AlertDetails> {
    const alert = await super.getAlert();
    return this.resolved.length > 0 ? { ...alert, state: "resolved", resolution: "revoked" } : alert;
  }
}

function resumable() {
  const w = world();
  const incidents = new DyingStore();
  const notifier = new ReadBackNotifier();
  const alerts = new StatefulAlerts({
    number: 7,
    state: "open",
    secretType: "aws_access_key_id",
    secret: `${w.accessKeyId}:${w.secret}`,
  });
  return { ...w, incidents, notifier, alerts, deps: { ...w.deps, incidents, notifier, alerts } };
}

describe("a redelivery after a run died between a side effect and recording it", () => {
  it("finds the first message already sent and the alert already resolved: neither is repeated", async () => {
    const w = resumable();
    // The first update records the message and the resolution: the run dies writing it.
    w.incidents.dieAtUpdate = 1;
    await expect(respondToAlert(w.job(), w.deps)).rejects.toThrow("the process died");
    expect(w.notifier.sent).toHaveLength(1);
    expect(w.alerts.resolved).toHaveLength(1);

    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(w.notifier.sent).toHaveLength(1);
    expect(w.alerts.resolved).toHaveLength(1);
    const done = (step: string) => incident.timeline.filter((e) => e.step === step && e.outcome === "done");
    expect(done("notified").map((e) => e.detail)).toEqual([expect.stringContaining("already in Slack")]);
    expect(done("alert-resolved").map((e) => e.detail)).toEqual([
      expect.stringContaining("found already resolved (revoked)"),
    ]);
    expect(incident.notifications?.slack?.ts).toBe("1.000100");
  });

  it("when the channel cannot be read back, sends the message again marked as a possible repeat", async () => {
    const w = resumable();
    w.incidents.dieAtUpdate = 1;
    await expect(respondToAlert(w.job(), w.deps)).rejects.toThrow("the process died");
    w.notifier.readBack = false;
    await respondToAlert(w.job(), w.deps);
    expect(w.notifier.sent.map((s) => s.kind)).toEqual(["contained", "contained"]);
    expect(w.notifier.options).toEqual([{}, { possibleRepeat: true }]);
    expect(w.log.lines.some((l) => l.message.includes("cannot tell whether an earlier run sent"))).toBe(true);
  });

  it("a delivery that records everything itself never asks: nothing could have been sent before it", async () => {
    const w = resumable();
    await respondToAlert(w.job(), w.deps);
    expect(w.notifier.options).toEqual([{}]);
  });

  it("a failed incident that a later delivery contains tells the owners it is contained now", async () => {
    const w = world();
    w.iam.failDeactivate.push(new PermanentFailure("denied", "AccessDenied"));
    await respondToAlert(w.job("d-1"), w.deps);
    const { incident } = await respondToAlert(w.job("d-2", "reopened"), w.deps);
    expect(incident.status).toBe("contained");
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["failed", "contained"]);
  });
});
