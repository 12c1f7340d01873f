/**
 * The daily follow-through in the deployed topology when it does not fit in one invocation: the
 * investigate function's handler, fed by the sandbox's FIFO investigation queue as Lambda feeds it,
 * with a timeout so short that its deadline has passed when it starts (FINISH_MARGIN_MS). Each run
 * checks one incident and hands the rest of the day to a fresh message in the `follow-through`
 * group; the last one posts the day's one summary, counting every incident.
 */
import { describe, expect, it } from "vitest";
import { FINISH_MARGIN_MS } from "../../src/adapters/aws/lambda-context.js";
import { loadRespondConfig } from "../../src/config.js";
import { MemoryLog } from "../../src/logger.js";
import { createPlaybookDeps } from "../../src/responder.js";
import { minimalIncident } from "../support/fakes.js";
import { scheduleFollowThrough, stagedStackForFile } from "../support/staged-stack.js";

const DAY_MS = 86_400_000;
const staged = stagedStackForFile({
  // The deadline (timeout less the finish margin) has passed when each run starts.
  functionTimeoutSeconds: { investigate: FINISH_MARGIN_MS / 1000 },
});

describe("the follow-through, cut into parts by the investigate function's deadline", () => {
  it("hands the rest of the day on through the follow-through group and posts one summary for every incident", async () => {
    const stack = staged();
    const { sandbox, world } = stack;
    // Three keys contained a week ago in the member account, each an open incident.
    const deps = createPlaybookDeps(loadRespondConfig(stack.env), new MemoryLog(), stack.env);
    const containedAt = new Date(Date.now() - 7 * DAY_MS).toISOString();
    const ids = ["gh__acme__alpha__1", "gh__acme__beta__1", "gh__acme__gamma__1"];
    for (const id of ids) {
      const key = sandbox.state.addAccessKey(world.memberAccountId, world.leaked.userName, {
        status: "Inactive",
      });
      await deps.incidents.create({
        ...minimalIncident(id, "contained"),
        accessKeyId: key.accessKeyId,
        location: { accountId: world.memberAccountId, viaMemberRole: true, userName: world.leaked.userName },
        containment: { containedAt, quarantinePolicies: [] },
      });
    }
    const before = sandbox.state.slackMessages.length;
    const sendsBefore = sandbox.state.callsTo("sqs", "SendMessage").length;
    await scheduleFollowThrough(stack);
    expect(await stack.drained()).toBe(0);

    const posted = sandbox.state.slackMessages.slice(before).map((m) => m.raw);
    // Every message sent: the schedule's, one per Slack message (notify posts each), and the two
    // hand-overs of a run that ran out of time after one incident. Nothing dead-lettered.
    const sends = sandbox.state.callsTo("sqs", "SendMessage").length - sendsBefore;
    expect(sends - 1 - posted.length).toBe(2);
    expect(stack.deadLettered()).toBe(0);
    const summaries = posted.filter((text) => text.includes("open incident(s) checked"));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toContain("Follow-through: 3 open incident(s) checked.");
    for (const id of ids) {
      const incident = await deps.incidents.get(id);
      expect(incident?.incident.followThrough?.keyStatus, id).toBe("Inactive");
    }
  }, 120_000);
});
