/**
 * The respond Lambda gives the playbook a deadline from its own remaining time, so the snapshot stops
 * starting pages early enough to save its checkpoint and the incident before Lambda ends the run.
 */
import { describe, expect, it } from "vitest";
import { FINISH_MARGIN_MS, runDeadline } from "../../src/adapters/aws/lambda-context.js";

describe("the respond run's deadline", () => {
  it("ends the slow work a safety margin before the Lambda's time runs out", () => {
    const now = 1_000_000;
    expect(runDeadline({ getRemainingTimeInMillis: () => 300_000 }, now)).toBe(
      now + 300_000 - FINISH_MARGIN_MS,
    );
  });

  it("is now when less than the margin remains: the snapshot continues on the next delivery", () => {
    const now = 1_000_000;
    expect(runDeadline({ getRemainingTimeInMillis: () => FINISH_MARGIN_MS / 2 }, now)).toBe(now);
  });
});
