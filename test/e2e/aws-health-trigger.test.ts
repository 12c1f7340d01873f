/**
 * The second trigger end to end on the sandbox: an AWS Health AWS_RISK_CREDENTIALS_EXPOSED event,
 * as EventBridge puts it on the alert queue, through the deployed stages (containment, investigation,
 * notification: their Lambda handlers fed by the sandbox's queues) and the real SDK clients: the key is contained, the incident says where it came from, the report lands in
 * the Slack thread, a redelivery of the same event repeats nothing, and an event of another type is
 * refused.
 */
import { randomUUID } from "node:crypto";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler } from "../../functions/contain.js";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { type StagedStack, startStagedStack } from "../../src/cli/staged-stack.js";
import { MemoryLog } from "../../src/logger.js";
import { slackBotSeed } from "../support/slack-bot.js";
import { lambdaContext, sqsEvent } from "../support/sqs-event.js";
import { storedIncident } from "../support/staged-stack.js";

/** The event as AWS Health's EventBridge schema reference gives it (organizational view). */
function exposureEvent(
  accessKeyId: string,
  account: string,
  options: { eventTypeCode?: string; repository?: string } = {},
) {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "AWS Health Event",
    source: "aws.health",
    account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: "us-east-1",
    resources: [],
    detail: {
      eventArn: `arn:aws:health:global::event/RISK/AWS_RISK_CREDENTIALS_EXPOSED/AWS_RISK_CREDENTIALS_EXPOSED_${randomUUID()}`,
      service: "RISK",
      eventTypeCode: options.eventTypeCode ?? "AWS_RISK_CREDENTIALS_EXPOSED",
      eventTypeCategory: "issue",
      startTime: new Date(Date.now() - 60_000).toUTCString(),
      affectedAccount: account,
      eventDescription: [
        {
          language: "en_US",
          latestDescription: `We have become aware that the AWS Access Key ${accessKeyId} is publicly available online at https://github.com/${options.repository ?? "example-org/tools"}/blob/main/deploy.sh.`,
        },
      ],
      affectedEntities: [{ entityValue: accessKeyId }],
    },
  };
}

let stack: StagedStack;
let context: Context;

/** What the EventBridge rule's SQS target does with the event. */
async function putOnAlertQueue(event: unknown): Promise<void> {
  const sqs = new SQSClient({ region: "us-east-1" });
  try {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queues.alert, MessageBody: JSON.stringify(event) }),
    );
  } finally {
    sqs.destroy();
  }
}

beforeAll(async () => {
  stack = await startStagedStack({
    log: new MemoryLog(),
    workers: 0,
    // A Slack bot (threads, files) rather than the demo's incoming webhook.
    seed: slackBotSeed,
  });
  context = lambdaContext(stack.world.homeAccountId);
});

afterAll(async () => {
  await stack?.close();
});

describe("AWS Health AWS_RISK_CREDENTIALS_EXPOSED through the deployed stages", () => {
  it("contains the key it names, records where the notice came from, and a redelivery repeats nothing", async () => {
    const { world, sandbox } = stack;
    const event = exposureEvent(world.leaked.key.accessKeyId, world.leaked.accountId, {
      repository: world.repository,
    });

    await putOnAlertQueue(event);
    await stack.drained();
    expect(stack.deadLettered()).toBe(0);
    expect(world.leaked.key.status).toBe("Inactive");
    const incident = storedIncident(stack, `key__${world.leaked.key.accessKeyId}`);
    expect(incident?.source).toBe("aws-health");
    expect(incident?.status).toMatch(/^contained/);
    expect(incident?.repository).toBe(world.repository);
    expect(incident?.timeline[0]?.detail).toContain(event.detail.eventArn);
    expect(sandbox.state.slackMessages.length).toBeGreaterThan(0);
    // AWS's notice says when it found the key, not when it leaked: every call in the window counts,
    // so the attacker's calls before the notice still make it compromised.
    expect(incident?.leakedAt).toBeUndefined();
    expect(incident?.forensics?.verdict).toBe("compromised");
    // The audit report is shared in the incident's Slack thread, not only named by its S3 key.
    expect(incident?.timeline.find((e) => e.step === "report-attached")?.outcome).toBe("done");
    const shared = [...sandbox.state.slackFiles.values()].find((f) => f.title?.includes(incident?.id ?? "?"));
    expect(shared?.threadTs).toBe(incident?.notifications?.slack?.ts);
    expect(shared?.bytes?.toString("utf8")).toContain("<html");
    // The repository AWS named has the GitHub App installed: its OIDC plan is written too.
    expect(incident?.timeline.find((e) => e.step === "planned")?.outcome).toBe("done");

    // EventBridge delivers at least once: the same event again is noted, nothing is repeated.
    const deactivations = sandbox.state.callsTo("iam", "UpdateAccessKey").length;
    await putOnAlertQueue(event);
    await stack.drained();
    expect(stack.deadLettered()).toBe(0);
    expect(sandbox.state.callsTo("iam", "UpdateAccessKey")).toHaveLength(deactivations);
    expect(storedIncident(stack, `key__${world.leaked.key.accessKeyId}`)?.deliveryIds).toEqual([
      `aws-health-${event.id}`,
    ]);
  });

  it("refuses a Health event of another type and one that names no key, into the dead-letter path", async () => {
    const { world } = stack;
    const otherType = exposureEvent(fakeAccessKeyId(), world.leaked.accountId, {
      eventTypeCode: "AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED",
    });
    const noKey = exposureEvent("not-a-key", world.leaked.accountId);
    for (const body of [otherType, noKey]) {
      // The containment function's handler as Lambda calls it: a batch whose only record fails fails
      // the invocation, so SQS delivers it again, then dead-letters it.
      await expect(handler(sqsEvent(body), context)).rejects.toThrow(/All records failed/);
    }
  });
});
