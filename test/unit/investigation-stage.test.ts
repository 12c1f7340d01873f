/**
 * The investigation stage (issue 13): a contained incident's steps 5-7 taken off the account's FIFO
 * group. What a person notices: the follow-up is handed to Slack once the investigation is done, a
 * snapshot that ran out of time continues in a fresh message, a passing failure is retried a few
 * times and then given up (the follow-up still goes out), and every log line names its incident.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { TransientFailure, UnprocessableMessage } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import type { InvestigationTask } from "../../src/domain/stage-task.js";
import { MemoryLog } from "../../src/logger.js";
import { investigateAndPlan } from "../../src/playbook/after-containment.js";
import { type InvestigationOptions, runInvestigationTask } from "../../src/playbook/investigation-stage.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import type { ActivityLog } from "../../src/ports.js";
import { investigationDeps, world } from "../support/respond-world.js";
import { RecordingStageQueues } from "../support/stage-queues.js";

// The real steps 5-7 unless a test says otherwise (a snapshot continuing needs a checkpoint).
vi.mock("../../src/playbook/after-containment.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/playbook/after-containment.js")>();
  return { ...real, investigateAndPlan: vi.fn(real.investigateAndPlan) };
});

beforeEach(() => {
  vi.mocked(investigateAndPlan).mockClear();
});

/** A contained incident in the store (containment ran with stages: nothing after it ran yet). */
async function containedWorld(regions: ActivityLog["enabledRegions"] = async () => ["us-east-1"]) {
  const w = world();
  const stages = new RecordingStageQueues();
  const { incident } = await respondToAlert(w.job(), { ...w.deps, stages });
  w.directory.activity.set(w.owner, {
    accountId: w.owner,
    enabledRegions: regions,
    lookupByAccessKey: async () => ({ events: [], raw: [] }),
  });
  const deps = {
    ...w.deps,
    stages: new RecordingStageQueues(),
    investigation: investigationDeps("investigation-stage-"),
  };
  const task = (more: Partial<Extract<InvestigationTask, { kind: "investigate" }>> = {}) => ({
    kind: "investigate" as const,
    incidentId: incident.id,
    accountId: w.member,
    continuation: 0,
    attempt: 0,
    ...more,
  });
  const slept: number[] = [];
  const options = (more: Partial<InvestigationOptions> = {}): InvestigationOptions => ({
    deadline: Date.now() + 60_000,
    maxAttempts: 3,
    deleteProposalDays: 30,
    retryDelayMs: (attempt) => 1_000 * (attempt + 1),
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...more,
  });
  return { w, deps, incident, task, options, slept };
}

/** account:ListRegions failing for a passing reason: the snapshot cannot start. */
const throttled = async (): Promise<never> => {
  throw new TransientFailure("account:ListRegions throttled", "ThrottlingException");
};

describe("runInvestigationTask", () => {
  it("investigates a contained incident and hands the follow-up to the notification stage", async () => {
    const { w, deps, task, options, incident } = await containedWorld();
    await runInvestigationTask(task(), deps, options());

    expect(deps.stages.notified).toEqual([{ kind: "notice", incidentId: incident.id, notice: "follow-up" }]);
    expect(deps.stages.investigated).toEqual([]);
    const steps = w.incidents.only().timeline.map((e) => `${e.step}:${e.outcome}`);
    expect(steps).toContain("snapshot-taken:done");
  });

  it("a snapshot that ran out of time continues in a fresh message at once, not after a retry wait", async () => {
    const { deps, task, options, slept } = await containedWorld();
    vi.mocked(investigateAndPlan).mockImplementationOnce(async (stored) => ({
      stored,
      retryable: [new TransientFailure("continues", "SnapshotContinues")],
    }));
    await runInvestigationTask(task({ continuation: 4, attempt: 1 }), deps, options());

    expect(deps.stages.investigated).toEqual([task({ continuation: 5, attempt: 1 })]);
    expect(deps.stages.notified).toEqual([]);
    expect(slept).toEqual([]);
  });

  it("a snapshot continuing beside another failure is a retry (attempt counted), not a free continuation", async () => {
    const { deps, task, options, slept } = await containedWorld();
    vi.mocked(investigateAndPlan).mockImplementationOnce(async (stored) => ({
      stored,
      retryable: [
        new TransientFailure("continues", "SnapshotContinues"),
        new TransientFailure("GitHub 502", "BadGateway"),
      ],
    }));
    await runInvestigationTask(task(), deps, options());
    expect(deps.stages.investigated).toEqual([task({ attempt: 1 })]);
    expect(slept).toEqual([1_000]);
  });

  it("a passing failure (ListRegions throttled): waits, then hands the same incident back with the attempt counted", async () => {
    const { deps, task, options, slept } = await containedWorld(throttled);
    await runInvestigationTask(task({ attempt: 1 }), deps, options());

    expect(slept).toEqual([2_000]);
    expect(deps.stages.investigated).toEqual([task({ attempt: 2 })]);
    expect(deps.stages.notified).toEqual([]);
  });

  it("the wait before a retry never runs past the deadline (the hand-over must fit in the invocation)", async () => {
    const { deps, task, options, slept } = await containedWorld(throttled);
    await runInvestigationTask(
      task(),
      deps,
      options({ deadline: Date.now() + 200, retryDelayMs: () => 30_000 }),
    );
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeLessThanOrEqual(200);
    expect(deps.stages.investigated).toEqual([task({ attempt: 1 })]);
  });

  it("on the last attempt a failure is given up: said on the incident, and the follow-up still goes out", async () => {
    const { w, deps, task, options, incident } = await containedWorld(throttled);
    await runInvestigationTask(task({ attempt: 2 }), deps, options());

    expect(deps.stages.investigated).toEqual([]);
    expect(deps.stages.notified).toEqual([{ kind: "notice", incidentId: incident.id, notice: "follow-up" }]);
    expect(w.incidents.only().warnings.join("\n")).toContain("Forensics did not complete");
  });

  it("on the last continuation a passing failure is still retried: the runs are used up, not the attempts", async () => {
    const { w, deps, task, options } = await containedWorld(throttled);
    await runInvestigationTask(task({ continuation: 24 }), deps, options());

    expect(deps.stages.investigated).toEqual([task({ continuation: 24, attempt: 1 })]);
    expect(deps.stages.notified).toEqual([]);
    expect(w.incidents.only().warnings.join("\n")).not.toContain("Forensics did not complete");
  });

  it("an incident that is not contained is not investigated, and nothing is handed on", async () => {
    const { w, deps, task, options, incident } = await containedWorld();
    const stored = await w.incidents.get(incident.id);
    if (!stored) throw new Error("no incident");
    const failed: Incident = { ...stored.incident, status: "failed" };
    await w.incidents.update(failed, stored.etag);

    await runInvestigationTask(task(), deps, options());
    expect(deps.stages.investigated).toEqual([]);
    expect(deps.stages.notified).toEqual([]);
    expect(investigateAndPlan).not.toHaveBeenCalled();
  });

  it("a task for an incident that is not in the store fails for good (the dead-letter alarm)", async () => {
    const { deps, task, options } = await containedWorld();
    const error = await runInvestigationTask(
      task({ incidentId: "gh__acme__api__404" }),
      deps,
      options(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessableMessage);
    expect((error as UnprocessableMessage).code).toBe("IncidentMissing");
  });

  it("every line the stage logs names its incident; the base log gets no incident key of its own", async () => {
    const { deps, task, options, incident } = await containedWorld(throttled);
    // The function's own log: one per invocation, shared by the batch's records.
    const log = new MemoryLog();
    await runInvestigationTask(task(), { ...deps, log }, options());
    expect(log.lines.length).toBeGreaterThan(1);
    expect(log.lines.every((line) => line.incidentId === incident.id)).toBe(true);
    log.info("next record");
    expect(log.lines.at(-1)).not.toHaveProperty("incidentId");
  });

  it("the daily follow-through task runs the follow-through, not an investigation", async () => {
    const { w, deps, options } = await containedWorld();
    await runInvestigationTask({ kind: "follow-through" }, deps, options());
    expect(investigateAndPlan).not.toHaveBeenCalled();
    expect(w.log.lines.at(-1)).toMatchObject({ message: "follow-through done", checked: 1, failed: 0 });
  });
});
