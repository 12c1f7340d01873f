/**
 * The playbook when a dependency fails in the ways the fault matrix (test/e2e/fault-matrix.test.ts)
 * found: the incident store unreadable or refusing writes, a write whose answer was lost, Slack
 * refusing for good. Containment stands, nothing is done twice, and a person is always told.
 */
import { describe, expect, it } from "vitest";
import { ConflictError, PermanentFailure, TransientFailure } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import { incidentSaver } from "../../src/playbook/incident-saver.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import { FakeClock, MemoryIncidentStore } from "../support/fakes.js";
import { world } from "../support/respond-world.js";

const denied = (what: string) =>
  new PermanentFailure(`${what}: AWS denied it (AccessDenied)`, "AccessDenied");

/** A store whose next operations fail as told (then behave). */
class FaultyIncidentStore extends MemoryIncidentStore {
  failGet: Error[] = [];
  failCreate: Error[] = [];
  /** The next creates/updates are stored, then answer ConflictError: the answer lost, the SDK's retry refused. */
  loseAnswers = 0;
  override async get(id: string) {
    const failure = this.failGet.shift();
    if (failure) throw failure;
    return super.get(id);
  }
  override async create(incident: Incident) {
    const failure = this.failCreate.shift();
    if (failure) throw failure;
    const etag = await super.create(incident);
    return this.#lost(etag);
  }
  override async update(incident: Incident, etag: string) {
    return this.#lost(await super.update(incident, etag));
  }
  #lost(etag: string): string {
    if (this.loseAnswers <= 0) return etag;
    this.loseAnswers -= 1;
    throw new ConflictError("PreconditionFailed on the retry of a write that went through");
  }
}

function faultyWorld() {
  const w = world();
  const incidents = new FaultyIncidentStore();
  w.deps.incidents = incidents;
  return { ...w, incidents };
}

describe("the incident store failing", () => {
  it("an unreadable incident does not hold containment back: the key is deactivated and the incident recorded", async () => {
    const w = faultyWorld();
    w.incidents.failGet.push(denied("Reading incident"));
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
    expect(incident.status).toBe("contained");
    expect(w.incidents.only().status).toBe("contained");
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["contained"]);
    expect(w.log.text()).toContain("the incident could not be read");
  });

  it("an incident the bucket refuses to store: the key stays deactivated and the owners hear it loudly, once", async () => {
    const w = faultyWorld();
    w.incidents.failCreate.push(denied("Creating incident"));
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
    expect(incident.status).toBe("contained-with-warnings");
    expect(incident.warnings.join("\n")).toMatch(/could not be recorded/);
    expect(incident.timeline.find((e) => e.step === "incident-recorded")?.outcome).toBe("failed");
    // The loud message, and no resolution: the open alert is what finishes the response later.
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["partial"]);
    expect(w.alerts.resolved).toHaveLength(0);
    expect(w.incidents.records.size).toBe(0);
    expect(
      w.log.lines.some((l) => l.level === "ERROR" && l.message === "incident could not be recorded"),
    ).toBe(true);
  });

  it("a transient store failure is still retried by the queue (not given up on a first delivery)", async () => {
    const w = faultyWorld();
    w.incidents.failCreate.push(new TransientFailure("Creating incident: 503", "ServiceUnavailable"));
    await expect(respondToAlert(w.job(), w.deps)).rejects.toBeInstanceOf(TransientFailure);
    expect(w.notifier.sent).toHaveLength(0);
    await respondToAlert(w.job(), w.deps);
    expect(w.incidents.only().status).toBe("contained");
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["contained"]);
  });

  it("a create whose answer was lost (timeout, then the retry's If-None-Match refused) finishes the incident", async () => {
    const w = faultyWorld();
    w.incidents.loseAnswers = 1;
    const { incident, duplicate } = await respondToAlert(w.job(), w.deps);
    expect(duplicate).toBe(false);
    expect(incident.status).toBe("contained");
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["contained"]);
    expect(w.alerts.resolved).toHaveLength(1);
    expect(w.incidents.creates).toBe(1);
  });

  it("an update whose answer was lost is not applied twice", async () => {
    const store = new FaultyIncidentStore();
    const clock = new FakeClock();
    const first: Incident = {
      id: "gh__acme__api__7",
      version: 1,
      source: "github-alert",
      status: "contained",
      summary: "",
      deliveryIds: ["d-1"],
      mode: "enforce",
      warnings: [],
      timeline: [],
      createdAt: clock.now().toISOString(),
      updatedAt: clock.now().toISOString(),
    };
    let current = { incident: first, etag: await store.create(first) };
    const save = incidentSaver(
      { incidents: store, clock },
      () => current,
      (next) => {
        current = next;
      },
    );
    store.loseAnswers = 1;
    await save((t) => t.record("notified", "done", "Owners notified (contained)"));
    expect(store.only().timeline.map((e) => e.step)).toEqual(["notified"]);
    expect(current.incident.timeline).toHaveLength(1);
  });
});

describe("Slack refusing for good", () => {
  it("is recorded with a warning and an ERROR line, and not retried into the dead-letter queue", async () => {
    const w = world();
    const refusal = new PermanentFailure(
      "Slack refused the message (HTTP 403 action_prohibited)",
      "slack-403",
    );
    w.notifier.failures.push(refusal);
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("contained");
    expect(w.alerts.resolved).toHaveLength(1);
    const stored = w.incidents.only();
    expect(stored.timeline.find((e) => e.step === "notified")?.outcome).toBe("failed");
    expect(stored.warnings).toEqual([`The owners were NOT told in Slack: ${refusal.message}`]);
    expect(w.log.lines.some((l) => l.level === "ERROR" && l.message === "notification failed")).toBe(true);
  });

  it("a transient Slack failure on the last delivery is given up with a warning too", async () => {
    const w = world();
    w.notifier.failures.push(new TransientFailure("Slack did not accept the message: 500", "SlackFailed"));
    const { incident } = await respondToAlert(w.job(), w.deps, { finalAttempt: true });
    expect(incident.warnings.join("\n")).toMatch(/NOT told in Slack/);
  });
});
