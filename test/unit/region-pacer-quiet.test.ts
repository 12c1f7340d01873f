/**
 * RegionPacer.quiet() (issue 13): the investigation function waits for it before letting go of an
 * account's message group, so the next process to take the account may call CloudTrail at once and
 * the 2-a-second limit (facts.md) holds across processes.
 */
import { describe, expect, it } from "vitest";
import { RegionPacer } from "../../src/forensics/region-pacer.js";

function pacedClock() {
  let now = 10_000;
  const slept: number[] = [];
  const pacer = new RegionPacer(
    2,
    () => now,
    async (ms) => {
      slept.push(ms);
      now += ms;
    },
  );
  return { pacer, slept, now: () => now };
}

describe("RegionPacer.quiet", () => {
  it("resolves once the last slot handed out is a full interval in the past, over every account and region", async () => {
    const { pacer, now } = pacedClock();
    const start = now();
    await pacer.acquire("111111111111/us-east-1");
    await pacer.acquire("111111111111/us-east-1");
    await pacer.acquire("222222222222/eu-west-1");
    await pacer.quiet();
    // us-east-1's second slot was at +500 ms: the next one there may go at +1000 ms.
    expect(now() - start).toBe(1_000);
    // Another process starting now at 2 a second stays within the limit in any sliding second.
  });

  it("a throttle's back-off is waited out too", async () => {
    const { pacer, now } = pacedClock();
    const start = now();
    await pacer.acquire("111111111111/us-east-1");
    pacer.backOff("111111111111/us-east-1", 3_000);
    await pacer.quiet();
    expect(now() - start).toBe(3_000);
  });

  it("a pacer that handed out nothing is quiet at once", async () => {
    const { pacer, slept } = pacedClock();
    await pacer.quiet();
    expect(slept).toEqual([]);
  });
});
