import { describe, expect, it } from "vitest";
import { defaultRetryDelayMs, MemoryJobQueue } from "../../src/adapters/local/memory-queue.js";
import { type AlertJob, incidentIdFor } from "../../src/domain/alert-job.js";
import { MemoryLog } from "../../src/logger.js";

function job(alertNumber: number): AlertJob {
  return {
    version: 1,
    incidentId: incidentIdFor("octo-org/payments-api", alertNumber),
    deliveryId: `delivery-${alertNumber}`,
    repository: "octo-org/payments-api",
    alertNumber,
    action: "created",
    secretType: "aws_access_key_id",
    receivedAt: "2026-11-02T09:14:08.000Z",
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("MemoryJobQueue", () => {
  it("returns from send at once and hands the consumer its own copy of the job later", async () => {
    const queue = new MemoryJobQueue();
    const received: AlertJob[] = [];
    queue.consume(async (j) => {
      received.push(j);
    });
    const sent = job(1);
    const { messageId } = await queue.send(sent);
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(received).toHaveLength(0); // not run inside the sender's call
    await queue.drain();
    expect(received).toEqual([sent]);
    expect(received[0]).not.toBe(sent);
    expect(queue.counts).toMatchObject({ sent: 1, received: 1, succeeded: 1, failed: 0, deadLettered: 0 });
  });

  it("keeps jobs sent before a consumer exists and delivers them once one registers", async () => {
    const queue = new MemoryJobQueue();
    await queue.send(job(1));
    await queue.send(job(2));
    await queue.drain(); // no consumer: waiting jobs do not hold drain up
    expect(queue.counts.waiting).toBe(2);
    const received: number[] = [];
    queue.consume(async (j) => {
      received.push(j.alertNumber);
    });
    await queue.drain();
    expect(received).toEqual([1, 2]);
    expect(queue.counts.waiting).toBe(0);
  });

  it("redelivers a failed job with growing backoff until the consumer succeeds", async () => {
    const delays: number[] = [];
    const queue = new MemoryJobQueue({
      retryDelayMs: (receiveCount) => {
        delays.push(receiveCount);
        return 20 * receiveCount;
      },
    });
    const attempts: Array<{ receiveCount: number; at: number }> = [];
    queue.consume(async (_j, delivery) => {
      attempts.push({ receiveCount: delivery.receiveCount, at: performance.now() });
      if (delivery.receiveCount < 3) throw new Error("IAM throttled");
    });
    await queue.send(job(1));
    await queue.drain();

    expect(attempts.map((a) => a.receiveCount)).toEqual([1, 2, 3]);
    expect(delays).toEqual([1, 2]);
    const [first, second, third] = attempts.map((a) => a.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(18);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(38);
    expect(queue.counts).toMatchObject({
      received: 3,
      failed: 2,
      succeeded: 1,
      deadLettered: 0,
      retrying: 0,
    });
    expect(queue.deadLetters).toEqual([]);
  });

  it("dead-letters a job after 5 receives by default, with the last error, and logs it", async () => {
    const log = new MemoryLog();
    const queue = new MemoryJobQueue({ retryDelayMs: () => 1, log });
    let calls = 0;
    queue.consume(async () => {
      calls += 1;
      throw new Error(`still failing (${calls})`);
    });
    await queue.send(job(7));
    await queue.drain();

    expect(calls).toBe(5);
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deadLetters[0]).toMatchObject({ job: job(7), receiveCount: 5, error: "still failing (5)" });
    expect(queue.counts).toMatchObject({ sent: 1, received: 5, failed: 5, succeeded: 0, deadLettered: 1 });
    expect(log.lines.filter((l) => l.message === "job failed, will be redelivered")).toHaveLength(4);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: "ERROR", message: "job dead-lettered", deliveryId: "delivery-7" }),
    );
  });

  it("honours a custom maxReceiveCount and keeps other jobs flowing while one fails", async () => {
    const queue = new MemoryJobQueue({ maxReceiveCount: 2, retryDelayMs: () => 5 });
    const done: number[] = [];
    queue.consume(async (j) => {
      if (j.alertNumber === 13) throw new Error("bad job");
      done.push(j.alertNumber);
    });
    for (const n of [12, 13, 14]) await queue.send(job(n));
    await queue.drain();
    expect(done.sort()).toEqual([12, 14]);
    expect(queue.deadLetters.map((d) => [d.job.alertNumber, d.receiveCount])).toEqual([[13, 2]]);
  });

  it("drain waits for a slow consumer to settle", async () => {
    const queue = new MemoryJobQueue();
    let finished = false;
    queue.consume(async () => {
      await sleep(50);
      finished = true;
    });
    await queue.send(job(1));
    await queue.drain();
    expect(finished).toBe(true);
    expect(queue.counts.inFlight).toBe(0);
  });

  it("runs at most `concurrency` jobs at the same time", async () => {
    const queue = new MemoryJobQueue({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    queue.consume(async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(10);
      running -= 1;
    });
    for (let n = 1; n <= 6; n++) await queue.send(job(n));
    await queue.drain();
    expect(peak).toBe(2);
    expect(queue.counts.succeeded).toBe(6);
  });

  it("close cancels pending redeliveries and puts their jobs back to wait", async () => {
    const queue = new MemoryJobQueue({ retryDelayMs: () => 60_000 });
    queue.consume(async () => {
      throw new Error("down");
    });
    await queue.send(job(1));
    while (queue.counts.retrying === 0) await sleep(1);
    queue.close();
    await queue.drain(); // resolves although the retry was an hour away
    expect(queue.counts).toMatchObject({ retrying: 0, waiting: 1, deadLettered: 0 });
  });

  it("allows one consumer at a time", () => {
    const queue = new MemoryJobQueue();
    const stop = queue.consume(async () => {});
    expect(() => queue.consume(async () => {})).toThrow(/already registered/);
    stop();
    expect(() => queue.consume(async () => {})).not.toThrow();
  });

  it("backs off 100 ms doubling per failed receive, capped at 5 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(defaultRetryDelayMs)).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
  });
});
