/**
 * The deployed topology on the sandbox for an e2e file: the stages' pollers in this process and a
 * Slack bot, started before the file's tests and closed after them; what starts a story (GitHub's
 * webhook, the daily schedule), and what the responder left in the evidence bucket.
 */
import { randomUUID } from "node:crypto";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll } from "vitest";
import { alertPayload, deliverWebhook } from "../../sandbox/github-webhook.js";
import { type StagedStack, type StagedStackOptions, startStagedStack } from "../../src/cli/staged-stack.js";
import { incidentIdFor } from "../../src/domain/alert-job.js";
import type { Incident } from "../../src/domain/incident.js";
import { FOLLOW_THROUGH_GROUP, FOLLOW_THROUGH_TASK } from "../../src/domain/stage-task.js";
import { MemoryLog } from "../../src/logger.js";
import { slackBotSeed } from "./slack-bot.js";

/** Starts the stack for this file's tests; call the answer inside a test (or a hook after this one). */
export function stagedStackForFile(
  options: Pick<StagedStackOptions, "functionTimeoutSeconds"> = {},
): () => StagedStack {
  let stack: StagedStack | undefined;
  beforeAll(async () => {
    stack = await startStagedStack({ log: new MemoryLog(), workers: 0, seed: slackBotSeed, ...options });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });
  return () => {
    if (!stack) throw new Error("the staged stack has not started");
    return stack;
  };
}

/** GitHub reports the demo's leaked key: the signed secret_scanning_alert webhook, to the intake. */
export async function deliverDemoAlert(stack: StagedStack) {
  const { sandbox, world, server } = stack;
  const repo = sandbox.state.repo(world.repository);
  if (!repo) throw new Error("no demo repository");
  const alertNumber = world.leaked.alert.number;
  const answer = await deliverWebhook(
    server.webhookUrl,
    world.webhookSecret,
    "secret_scanning_alert",
    alertPayload(repo, alertNumber),
  );
  return { answer, repo, incidentId: incidentIdFor(world.repository, alertNumber) };
}

/** The daily schedule's task on the investigation queue, in its own message group, as EventBridge puts it. */
export async function scheduleFollowThrough(stack: StagedStack): Promise<void> {
  const sqs = new SQSClient({
    region: "us-east-1",
    endpoint: stack.env.AWS_ENDPOINT_URL_SQS ?? stack.sandbox.url,
  });
  try {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.investigation,
        MessageBody: JSON.stringify(FOLLOW_THROUGH_TASK),
        MessageGroupId: FOLLOW_THROUGH_GROUP,
        MessageDeduplicationId: randomUUID(),
      }),
    );
  } finally {
    sqs.destroy();
  }
}

/** An object the responder stored in the evidence bucket. */
export function storedObject(stack: Pick<StagedStack, "sandbox" | "world">, key: string): Buffer | undefined {
  return stack.sandbox.state.buckets.get(stack.world.bucket)?.get(key)?.body;
}

/** The incident as the responder last stored it. */
export function storedIncident(
  stack: Pick<StagedStack, "sandbox" | "world">,
  id: string,
): Incident | undefined {
  const body = storedObject(stack, `incidents/${id}/incident.json`);
  return body ? (JSON.parse(body.toString("utf8")) as Incident) : undefined;
}
