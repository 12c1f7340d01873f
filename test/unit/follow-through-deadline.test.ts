/**
 * Issue 13, follow-through at scale: with many open incidents the daily run does not fit in one
 * invocation. Past its deadline it stops, hands the rest of the day to a fresh run on the
 * investigation queue (a cursor and the day's counts), and the last part posts ONE summary that
 * counts every incident of the day. Nothing is checked twice, and a part whose hand-over failed is
 * retried without losing what its first attempt counted.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeAccessKeyId, fakeAccountId } from "../../sandbox/fake-ids.js";
import { TransientFailure } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import {
  FOLLOW_THROUGH_TASK,
  type InvestigationTask,
  parseInvestigationTask,
} from "../../src/domain/stage-task.js";
import { type InvestigationStageDeps, runInvestigationTask } from "../../src/playbook/investigation-stage.js";
import {
  FakeAlertSource,
  FakeClock,
  FakeKeyDirectory,
  MemoryIncidentStore,
  MemoryLog,
  minimalIncident,
  RecordingNotifier,
  settings,
} from "../support/fakes.js";
import { RecordingStageQueues } from "../support/stage-queues.js";

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Each incident's check takes this long, in the function's own clock (Date.now). */
const CHECK_MS = MINUTE_MS;

class ThreadNotifier extends RecordingNotifier {
  readonly reminded: string[] = [];
  readonly summaries: string[][] = [];
  async remind(incident: Incident): Promise<void> {
    this.reminded.push(incident.id);
    // The time a check takes: GitHub and IAM round trips.
    vi.setSystemTime(Date.now() + CHECK_MS);
  }
  async announce(lines: readonly string[]): Promise<void> {
    this.summaries.push([...lines]);
  }
}

/** `count` contained incidents, listed by the store in no particular order; the third key was reactivated. */
async function manyIncidents(count: number) {
  const account = fakeAccountId();
  const directory = new FakeKeyDirectory(account);
  const incidents = new MemoryIncidentStore();
  const containedAt = new Date("2026-10-01T02:00:00.000Z");
  const ids = Array.from({ length: count }, (_, i) => `gh__acme__svc${String(i + 1).padStart(2, "0")}__1`);
  for (const [i, id] of [...ids].reverse().entries()) {
    const accessKeyId = fakeAccessKeyId();
    const status = id === ids[2] ? "Active" : "Inactive";
    directory.account(account).keys.set(accessKeyId, { userName: `ci-${i}`, status });
    await incidents.create({
      ...minimalIncident(id, "contained"),
      accessKeyId,
      location: { accountId: account, viaMemberRole: false, userName: `ci-${i}` },
      containment: { containedAt: containedAt.toISOString(), quarantinePolicies: [] },
    });
  }
  const notifier = new ThreadNotifier();
  const stages = new RecordingStageQueues();
  const deps: InvestigationStageDeps = {
    alerts: new FakeAlertSource({
      number: 1,
      state: "resolved",
      secretType: "aws_access_key_id",
      secret: "",
    }),
    directory,
    incidents,
    notifier,
    log: new MemoryLog(),
    clock: new FakeClock(new Date(containedAt.getTime() + 3 * DAY_MS)),
    settings: settings(),
    stages,
  };
  /**
   * One invocation with `budget` ms before its deadline, given the message as the queue delivers it:
   * the schedule's, or a hand-over.
   */
  const invoke = (task: InvestigationTask | typeof FOLLOW_THROUGH_TASK, budget: number) =>
    runInvestigationTask(parseInvestigationTask(JSON.stringify(task)), deps, {
      deadline: Date.now() + budget,
      maxAttempts: 3,
      deleteProposalDays: 30,
    });
  return { ids, notifier, stages, invoke, incidents };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-12-05T02:00:00.000Z"));
});

afterEach(() => {
  vi.useRealTimers();
});

describe("the follow-through against its deadline", () => {
  it("stops at the deadline, hands the rest to a fresh run with a cursor, and the last part posts one summary for all", async () => {
    const { ids, notifier, stages, invoke } = await manyIncidents(7);
    // Room for three checks (the deadline passes during the third), then the rest of the day.
    await invoke(FOLLOW_THROUGH_TASK, 2.5 * CHECK_MS);
    expect(notifier.reminded).toEqual(ids.slice(0, 3));
    expect(notifier.summaries).toEqual([]);
    expect(stages.followThroughs).toEqual([
      {
        kind: "follow-through",
        resume: expect.objectContaining({
          after: ids[2],
          part: 1,
          tally: expect.objectContaining({ checked: 3, alerts: [ids[2]] }),
        }),
      },
    ]);

    const [second] = stages.followThroughs;
    if (!second) throw new Error("no hand-over");
    await invoke(second, 2.5 * CHECK_MS);
    expect(notifier.reminded).toEqual(ids.slice(0, 6));
    expect(notifier.summaries).toEqual([]);
    const third = stages.followThroughs[1];
    expect(third?.resume).toMatchObject({ after: ids[5], part: 2 });
    // Every hand-over differs from the one before: the queue drops a body it saw in the last 5 minutes.
    expect(JSON.stringify(third)).not.toBe(JSON.stringify(second));

    if (!third) throw new Error("no second hand-over");
    await invoke(third, 2.5 * CHECK_MS);
    expect(notifier.reminded).toEqual(ids);
    expect(stages.followThroughs).toHaveLength(2);
    expect(notifier.summaries).toHaveLength(1);
    expect(notifier.summaries[0]?.[0]).toBe("Follow-through: 7 open incident(s) checked.");
    expect(notifier.summaries[0]).toContain(`ALERT: ${ids[2]}: key reactivated or used after containment.`);
  });

  it("always checks one incident per part, so a run that starts late still moves on", async () => {
    const { ids, notifier, stages, invoke } = await manyIncidents(3);
    await invoke(FOLLOW_THROUGH_TASK, -MINUTE_MS);
    expect(notifier.reminded).toEqual(ids.slice(0, 1));
    expect(stages.followThroughs[0]?.resume?.after).toBe(ids[0]);
  });

  it("a part whose hand-over failed is retried: nothing is checked twice and the summary still counts every incident", async () => {
    const { ids, notifier, stages, invoke } = await manyIncidents(6);
    await invoke(FOLLOW_THROUGH_TASK, 1.5 * CHECK_MS);
    const [second] = stages.followThroughs;
    if (!second) throw new Error("no hand-over");
    expect(second.resume?.after).toBe(ids[1]);
    // The second part checks two incidents, then SQS refuses the hand-over: the queue retries the part.
    stages.failInvestigate.push(
      new TransientFailure("sqs:SendMessage: ServiceUnavailable", "ServiceUnavailable"),
    );
    await expect(invoke(second, 1.5 * CHECK_MS)).rejects.toThrow("ServiceUnavailable");
    expect(notifier.reminded).toEqual(ids.slice(0, 4));
    // The retry skips the two its first attempt checked (counting them) and finishes the day.
    await invoke(second, 1.5 * CHECK_MS);
    expect(stages.followThroughs).toHaveLength(1);
    expect(notifier.reminded).toEqual(ids);
    expect(notifier.summaries).toHaveLength(1);
    expect(notifier.summaries[0]?.[0]).toBe("Follow-through: 6 open incident(s) checked.");
  });

  it("a bad day's hundreds of failures are counted in the summary, and only the first few named", async () => {
    const { ids, notifier, invoke, incidents } = await manyIncidents(25);
    incidents.get = async () => {
      throw new TransientFailure("s3:GetObject: SlowDown", "SlowDown");
    };
    await invoke(FOLLOW_THROUGH_TASK, 100 * CHECK_MS);
    expect(notifier.summaries[0]).toEqual([
      "Follow-through: 0 open incident(s) checked.",
      `25 could not be checked: ${ids.slice(0, 20).join(", ")} and 5 more.`,
    ]);
  });

  it("the schedule delivered twice the same day checks nothing twice and posts no second summary", async () => {
    const { notifier, invoke } = await manyIncidents(2);
    await invoke(FOLLOW_THROUGH_TASK, 10 * CHECK_MS);
    await invoke(FOLLOW_THROUGH_TASK, 10 * CHECK_MS);
    expect(notifier.reminded).toHaveLength(2);
    expect(notifier.summaries).toHaveLength(1);
  });
});
