/**
 * A snapshot that cannot be completed (the stage's last continuation, or a last attempt that fails)
 * is analysed from the parts already stored, never thrown away, and never read as "nothing
 * happened": the findings, the verdict and the incident say PARTIAL and name what was not read.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TransientFailure } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import type { InvestigationTask } from "../../src/domain/stage-task.js";
import { createActionsRanges } from "../../src/forensics/actions-ranges.js";
import type { Findings } from "../../src/forensics/findings.js";
import type { TrailEvent } from "../../src/forensics/trail-event.js";
import { afterContainment } from "../../src/playbook/after-containment.js";
import { type InvestigationOptions, runInvestigationTask } from "../../src/playbook/investigation-stage.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import type { TrailPage } from "../../src/ports.js";
import { investigationDeps, world } from "../support/respond-world.js";
import { RecordingStageQueues } from "../support/stage-queues.js";

const REGIONS = ["ap-south-1", "eu-west-1", "us-east-1"];
const ATTACKER = "203.0.113.9";
/**
 * How long a test's run may read before its deadline: long enough for the quick regions on a cold,
 * loaded machine (a slow page always outlasts the deadline, whatever it is).
 */
const RUN_MS = 500;

function trailEvent(accessKeyId: string, region: string, at: Date, name: string, id: string): TrailEvent {
  return {
    eventId: id,
    eventTime: at.toISOString(),
    eventName: name,
    eventSource: name === "CreateUser" ? "iam.amazonaws.com" : "s3.amazonaws.com",
    awsRegion: region,
    sourceIPAddress: ATTACKER,
    userAgent: "aws-cli/2.15.0",
    userIdentity: { type: "IAMUser", accessKeyId, userName: "ci-deploy" },
  };
}

/**
 * A contained incident whose history in eu-west-1 is longer than one run: the first run reads its
 * newest page and runs out of time there (a checkpoint). `pages` says what each region answers.
 */
async function cutShortWorld(pages: (ctx: { key: string; before: Date }) => Record<string, TrailPage[]>) {
  const w = world();
  let deadline = 0;
  const stages = new RecordingStageQueues();
  const { incident } = await respondToAlert(w.job(), { ...w.deps, stages });
  const containedAt = new Date(incident.containment?.containedAt ?? "");
  const byRegion = pages({ key: w.accessKeyId, before: containedAt });
  w.directory.activity.set(w.owner, {
    accountId: w.owner,
    enabledRegions: async () => REGIONS,
    lookupByAccessKey: async ({ region, nextToken }) => {
      const list = byRegion[region] ?? [];
      const page = list[Number(nextToken ?? 0)] ?? { events: [], raw: [] };
      // A slow page: the run's deadline passes while it is read, so the next is left for a fresh run.
      if (page.nextToken !== undefined)
        await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 20));
      return page;
    },
  });
  const deps = {
    ...w.deps,
    stages: new RecordingStageQueues(),
    // The attacker's address is outside the runner ranges: "not GitHub Actions".
    investigation: investigationDeps("partial-snapshot-", async () => ({
      ranges: createActionsRanges(["192.0.2.0/24"]),
    })),
  };
  const { evidence } = deps.investigation;
  const task = (more: Partial<Extract<InvestigationTask, { kind: "investigate" }>> = {}) => ({
    kind: "investigate" as const,
    incidentId: incident.id,
    accountId: w.owner,
    continuation: 0,
    attempt: 0,
    ...more,
  });
  const options = (): InvestigationOptions => {
    deadline = Date.now() + RUN_MS;
    return {
      deadline,
      maxAttempts: 3,
      deleteProposalDays: 30,
      retryDelayMs: () => 0,
      sleep: async () => {},
    };
  };
  const stored = async (): Promise<Incident> => {
    const found = await w.incidents.get(incident.id);
    if (!found) throw new Error("no incident");
    return found.incident;
  };
  const findings = async (): Promise<Findings> => {
    const body = await evidence.get(incident.id, "findings.json");
    if (!body) throw new Error("no findings stored");
    return JSON.parse(body.toString("utf8")) as Findings;
  };
  return { w, deps, task, options, stored, findings, evidence, containedAt, incident };
}

function page(events: TrailEvent[], nextToken?: string): TrailPage {
  return {
    events,
    raw: events.map((e) => JSON.stringify(e)),
    ...(nextToken === undefined ? {} : { nextToken }),
  };
}

const minutesBefore = (at: Date, minutes: number) => new Date(at.getTime() - minutes * 60_000);

describe("a snapshot given up at the continuation limit", () => {
  it("is analysed from the parts stored: findings and verdict, flagged PARTIAL, the unread region and range named", async () => {
    const { deps, task, options, stored, findings, evidence, incident } = await cutShortWorld(
      ({ key, before }) => ({
        "us-east-1": [page([trailEvent(key, "us-east-1", minutesBefore(before, 30), "CreateUser", "e-1")])],
        // Newest first (LookupEvents): the run reads back to 20 minutes before containment, no further.
        "eu-west-1": [
          page([trailEvent(key, "eu-west-1", minutesBefore(before, 20), "ListBuckets", "e-2")], "1"),
          page([trailEvent(key, "eu-west-1", minutesBefore(before, 50), "ListBuckets", "e-3")], "2"),
          page([trailEvent(key, "eu-west-1", minutesBefore(before, 80), "ListBuckets", "e-4")]),
        ],
      }),
    );
    await runInvestigationTask(task(), deps, options());
    expect(deps.stages.investigated).toEqual([task({ continuation: 1 })]);

    // The run past the limit: no more reading; what is stored is judged.
    await runInvestigationTask(task({ continuation: 24 }), deps, options());

    expect(deps.stages.notified).toEqual([{ kind: "notice", incidentId: incident.id, notice: "follow-up" }]);
    const found = await findings();
    expect(found.verdict).toBe("compromised");
    expect(found.headline).toMatch(/^Based on PARTIAL evidence: /);
    expect(found.signals.persistence.map((s) => s.action)).toContain("iam:CreateUser");
    expect(found.partial?.missing).toEqual([
      {
        accessKeyId: incident.accessKeyId,
        region: "eu-west-1",
        from: expect.any(String),
        until: minutesBefore(new Date(incident.containment?.containedAt ?? ""), 20).toISOString(),
      },
    ]);
    expect(found.reasons.join("\n")).toMatch(/not read in 1 region \(eu-west-1\)/);

    const after = await stored();
    expect(after.forensics?.partial?.missing.map((m) => m.region)).toEqual(["eu-west-1"]);
    expect(after.forensics?.incompleteRegions).toEqual(["eu-west-1"]);
    expect(after.forensics?.checkpoint).toBeUndefined();
    const snapshotSteps = after.timeline.filter((e) => e.step === "snapshot-taken");
    expect(snapshotSteps.at(-1)).toMatchObject({ outcome: "partial", at: expect.any(String) });
    expect(snapshotSteps.at(-1)?.detail).toMatch(/PARTIAL.*eu-west-1/);
    expect(after.timeline.map((e) => `${e.step}:${e.outcome}`)).toContain("analyzed:done");
    expect(after.warnings.join("\n")).toMatch(/PARTIAL snapshot.*eu-west-1/);
    expect(after.warnings.join("\n")).not.toContain("Forensics did not complete");

    // The manifest vouches for exactly the part stored, and says it is partial.
    const manifest = JSON.parse((await evidence.get(incident.id, "manifest.json"))?.toString("utf8") ?? "{}");
    const part = await evidence.get(incident.id, "cloudtrail-events-part-001.jsonl.gz");
    expect(manifest.files).toEqual([
      {
        name: "cloudtrail-events-part-001.jsonl.gz",
        sha256: createHash("sha256")
          .update(part ?? "")
          .digest("hex"),
        bytes: part?.length,
      },
    ]);
    expect(manifest.complete).toBe(false);
    expect(manifest.partial.missing.map((m: { region: string }) => m.region)).toEqual(["eu-west-1"]);
  });

  it("a passing failure while the stored parts are judged is retried, not given up: the parts are analysed next time", async () => {
    const { deps, task, options, stored, findings, evidence } = await cutShortWorld(({ key, before }) => ({
      "us-east-1": [page([trailEvent(key, "us-east-1", minutesBefore(before, 30), "CreateUser", "e-1")])],
      "eu-west-1": [
        page([trailEvent(key, "eu-west-1", minutesBefore(before, 20), "ListBuckets", "e-2")], "1"),
        page([]),
      ],
    }));
    await runInvestigationTask(task(), deps, options());
    // S3 slows down once, as the parts are read back at the limit.
    const get = evidence.get.bind(evidence);
    let slowDowns = 1;
    evidence.get = async (id, name) => {
      if (name.startsWith("cloudtrail-events-part-") && slowDowns-- > 0)
        throw new TransientFailure("s3:GetObject: SlowDown", "SlowDown");
      return get(id, name);
    };

    await runInvestigationTask(task({ continuation: 24 }), deps, options());
    expect(deps.stages.investigated.at(-1)).toEqual(task({ continuation: 24, attempt: 1 }));
    expect((await stored()).warnings.join("\n")).not.toContain("Forensics did not complete");

    await runInvestigationTask(task({ continuation: 24, attempt: 1 }), deps, options());
    const found = await findings();
    expect(found.verdict).toBe("compromised");
    expect(found.partial?.missing.map((m) => m.region)).toEqual(["eu-west-1"]);
    const after = await stored();
    expect(after.timeline.filter((e) => e.step === "snapshot-taken").at(-1)?.outcome).toBe("partial");
  });

  it("with no signal in what was read, the verdict is never reassurance: suspicious, naming the unread regions", async () => {
    const { deps, task, options, findings } = await cutShortWorld(() => ({
      "eu-west-1": [page([], "1"), page([], "2")],
      "ap-south-1": [page([], "1"), page([], "2")],
    }));
    await runInvestigationTask(task(), deps, options());
    await runInvestigationTask(task({ continuation: 24 }), deps, options());

    const found = await findings();
    expect(found.verdict).toBe("suspicious");
    expect(found.headline).toMatch(/^Based on PARTIAL evidence: /);
    expect(found.headline).not.toMatch(/not used|nothing unusual/i);
    expect(found.reasons.join("\n")).toMatch(/ap-south-1 and eu-west-1/);
    // Nothing was read in either region: the whole window is missing there.
    expect(found.partial?.missing.map((m) => m.region)).toEqual(["ap-south-1", "eu-west-1"]);
  });

  it("a last attempt with runs left reads on until its deadline first, then analyses what it has as partial", async () => {
    const { deps, task, options, findings, incident } = await cutShortWorld(({ key, before }) => ({
      "eu-west-1": [
        page([trailEvent(key, "eu-west-1", minutesBefore(before, 20), "ListBuckets", "e-2")], "1"),
        page([trailEvent(key, "eu-west-1", minutesBefore(before, 50), "ListBuckets", "e-3")], "2"),
        page([trailEvent(key, "eu-west-1", minutesBefore(before, 80), "ListBuckets", "e-4")]),
      ],
    }));
    await runInvestigationTask(task(), deps, options());
    // Its retries used up (maxAttempts 3), not its runs: this run still reads a page.
    await runInvestigationTask(task({ continuation: 1, attempt: 2 }), deps, options());

    const found = await findings();
    expect(found.totals.events).toBe(2);
    expect(found.partial?.reason).toMatch(/last attempt ran out of time after 2 runs of reading/);
    expect(found.partial?.missing.map((m) => m.until)).toEqual([
      minutesBefore(new Date(incident.containment?.containedAt ?? ""), 50).toISOString(),
    ]);
    expect(deps.stages.notified).toHaveLength(1);
  });

  it("a snapshot that fails for good keeps the parts earlier runs stored, and analyses them as partial", async () => {
    const { w, deps, task, options, stored, findings } = await cutShortWorld(({ key, before }) => ({
      "us-east-1": [page([trailEvent(key, "us-east-1", minutesBefore(before, 30), "CreateUser", "e-1")])],
      "eu-west-1": [page([], "1")],
    }));
    await runInvestigationTask(task(), deps, options());
    // The member role can no longer be assumed: the snapshot cannot go on, for good.
    w.directory.activity.delete(w.owner);
    await runInvestigationTask(task({ continuation: 1 }), deps, options());

    const found = await findings();
    expect(found.verdict).toBe("compromised");
    expect(found.partial?.reason).toMatch(/failed in a way no retry fixes/);
    const after = await stored();
    expect(after.timeline.filter((e) => e.step === "snapshot-taken").at(-1)?.outcome).toBe("partial");
    expect(deps.stages.investigated).toEqual([task({ continuation: 1 })]);
  });
});

describe("the single-process path (CLI demo, in-process stack)", () => {
  it("a last delivery cut short by its deadline analyses what it stored, as partial", async () => {
    const w = world();
    w.directory.activity.set(w.owner, {
      accountId: w.owner,
      enabledRegions: async () => REGIONS,
      lookupByAccessKey: async () => page([]),
    });
    const deps = { ...w.deps, afterContainment, investigation: investigationDeps("partial-snapshot-") };
    // The deadline has passed before the first page: nothing is read, and no delivery follows.
    const { incident } = await respondToAlert(w.job(), deps, {
      finalAttempt: true,
      deadline: Date.now() - 1,
    });

    expect(incident.forensics?.partial?.missing.map((m) => m.region)).toEqual(REGIONS);
    expect(incident.forensics?.verdict).toBe("suspicious");
    const followUp = w.notifier.followUps.at(-1);
    expect(followUp?.findings?.headline).toMatch(/^Based on PARTIAL evidence: /);
    expect(followUp?.findings?.partial?.missing).toHaveLength(REGIONS.length);
  });
});
