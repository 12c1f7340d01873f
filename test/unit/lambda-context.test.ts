/**
 * The invocation context helpers of the stage functions (issue 13): a failed start-up is tried again,
 * one incident's records keep their order within a batch without holding back other incidents, and
 * slow work stops early enough to hand over.
 */
import { describe, expect, it } from "vitest";
import {
  coldStart,
  FINISH_MARGIN_MS,
  homeAccountOf,
  inOrderPerKey,
  receiveCountOf,
  runDeadline,
} from "../../src/adapters/aws/lambda-context.js";
import { MemoryLog, withKeys } from "../../src/logger.js";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe("coldStart", () => {
  it("starts once for every invocation of a container", async () => {
    let starts = 0;
    const ready = coldStart(async (_: string) => {
      starts += 1;
      return { client: starts };
    });
    const [a, b] = await Promise.all([ready("e1"), ready("e2")]);
    expect(await ready("e3")).toBe(a);
    expect(b).toBe(a);
    expect(starts).toBe(1);
  });

  it("a start-up that failed (SSM unreachable) is tried again by the next invocation, not failed forever", async () => {
    let starts = 0;
    const ready = coldStart(async () => {
      starts += 1;
      if (starts === 1) throw new Error("SSM unreachable");
      return "configured";
    });
    await expect(ready(undefined)).rejects.toThrow("SSM unreachable");
    await expect(ready(undefined)).resolves.toBe("configured");
    await expect(ready(undefined)).resolves.toBe("configured");
    expect(starts).toBe(2);
  });
});

describe("inOrderPerKey", () => {
  it("runs one incident's records in the batch's order, other incidents side by side", async () => {
    const run = inOrderPerKey();
    const order: string[] = [];
    let releaseFirst: () => void = () => {};
    const first = run("incident-a", async () => {
      await new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      order.push("a1");
    });
    const second = run("incident-a", async () => {
      order.push("a2");
    });
    const other = run("incident-b", async () => {
      order.push("b1");
    });
    await other;
    await tick();
    // b did not wait for a; a2 waits for a1.
    expect(order).toEqual(["b1"]);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(["b1", "a1", "a2"]);
  });

  it("a failed record fails the later records of its incident (they wait for its retry), not other incidents", async () => {
    const run = inOrderPerKey();
    const ran: string[] = [];
    const failed = run("incident-a", async () => {
      throw new Error("throttled");
    });
    const after = run("incident-a", async () => {
      ran.push("a2");
    });
    const other = run("incident-b", async () => {
      ran.push("b1");
    });
    const settled = await Promise.allSettled([failed, after, other]);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect(ran).toEqual(["b1"]);
  });
});

describe("runDeadline, homeAccountOf, receiveCountOf", () => {
  it("stops slow work a margin before Lambda's time runs out, never before now", () => {
    expect(runDeadline({ getRemainingTimeInMillis: () => 900_000 }, 1_000)).toBe(
      1_000 + 900_000 - FINISH_MARGIN_MS,
    );
    expect(runDeadline({ getRemainingTimeInMillis: () => 10_000 }, 1_000)).toBe(1_000);
  });

  it("reads the home account from the function's ARN, and nothing from a malformed one", () => {
    expect(
      homeAccountOf({ invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:contain" }),
    ).toEqual({
      homeAccountId: "123456789012",
    });
    expect(homeAccountOf({ invokedFunctionArn: "arn:aws:lambda:us-east-1:local:function:contain" })).toEqual(
      {},
    );
  });

  it("counts deliveries from the record, a missing count as the first", () => {
    expect(receiveCountOf({ attributes: { ApproximateReceiveCount: "3" } })).toBe(3);
    expect(receiveCountOf({ attributes: { ApproximateReceiveCount: "" } })).toBe(1);
  });
});

describe("withKeys", () => {
  it("puts the keys on every line of its own without touching the base log's keys", () => {
    const base = new MemoryLog();
    base.appendKeys({ deliveryId: "d-1" });
    const a = withKeys(base, { incidentId: "incident-a" });
    const b = withKeys(base, { incidentId: "incident-b" });
    a.info("snapshot page");
    b.warn("throttled", { region: "eu-west-1" });
    a.appendKeys({ accountId: "210987654321" });
    a.error("gave up");
    b.info("done");
    base.info("batch done");
    expect(base.lines.map((l) => [l.message, l.incidentId, l.deliveryId, l.accountId])).toEqual([
      ["snapshot page", "incident-a", "d-1", undefined],
      ["throttled", "incident-b", "d-1", undefined],
      ["gave up", "incident-a", "d-1", "210987654321"],
      ["done", "incident-b", "d-1", undefined],
      ["batch done", undefined, "d-1", undefined],
    ]);
  });
});
