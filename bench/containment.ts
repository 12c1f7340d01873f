/**
 * Containment latency (issue: "ratio close to 1"): the sandbox answers every call after a fixed
 * latency L, and the figure is the time from webhook receipt to key deactivated, divided by
 * (sequential calls on the critical path x L). Warm (installation token and member role cached):
 * GitHub alert fetch, sts:GetAccessKeyInfo, iam:GetAccessKeyLastUsed, iam:UpdateAccessKey = 4.
 * Cold adds the installation token and sts:AssumeRole = 6. Everything else (incident read, quarantine
 * check, revocation) must run beside these, not after them.
 */
import { randomBytes } from "node:crypto";
import { alertPayload, deliverWebhook } from "../sandbox/github-webhook.js";
import { startLocalStack } from "../src/cli/local-stack.js";
import { MemoryLog } from "../src/logger.js";
import { timeToContainMs } from "../src/playbook/timeline.js";

const LATENCY_MS = 100;
const WARM_RUNS = 5;

export async function benchContainment(): Promise<Record<string, number>> {
  const stack = await startLocalStack({ log: new MemoryLog() });
  try {
    const { sandbox, world } = stack;
    const repo = sandbox.state.repo(world.repository);
    if (!repo) throw new Error("no repository");
    for (const service of ["github", "sts", "iam", "s3", "slack"])
      sandbox.faults.setLatency(LATENCY_MS, { service });

    const contain = async (alertNumber: number): Promise<number> => {
      await deliverWebhook(
        stack.server.webhookUrl,
        world.webhookSecret,
        "secret_scanning_alert",
        alertPayload(repo, alertNumber),
      );
      await stack.server.queue.drain();
      const incident = stack.results.at(-1)?.incident;
      const ms = incident ? timeToContainMs(incident) : undefined;
      if (incident?.status !== "contained" || ms === undefined) {
        throw new Error(
          `bench: alert ${alertNumber} was not contained (${incident?.status ?? "no incident"})`,
        );
      }
      return ms;
    };
    const newLeak = (): number => {
      const userName = `ci-${randomBytes(3).toString("hex")}`;
      sandbox.state.addUser(world.leaked.accountId, userName);
      const key = sandbox.state.addAccessKey(world.leaked.accountId, userName);
      return sandbox.state.addAlert(world.repository, {
        secretType: "aws_access_key_id",
        secret: key.accessKeyId,
      }).number;
    };

    const cold = await contain(world.leaked.alert.number);
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) warm.push(await contain(newLeak()));
    warm.sort((a, b) => a - b);
    const median = warm[Math.floor(warm.length / 2)] ?? Number.NaN;
    return {
      containment_latency_per_call_ms: LATENCY_MS,
      containment_cold_ms: cold,
      containment_cold_sequential_calls: 6,
      containment_cold_ratio: round(cold / (6 * LATENCY_MS)),
      containment_warm_median_ms: median,
      containment_warm_sequential_calls: 4,
      containment_warm_ratio: round(median / (4 * LATENCY_MS)),
    };
  } finally {
    await stack.close();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
