/**
 * What the Lambda functions read from their invocation context: the home account (the function's
 * own ARN names it: one STS call fewer on a cold start) and when to stop starting slow work.
 */
import type { Context } from "aws-lambda";

/** Kept after the deadline to store the snapshot's part and checkpoint, save the incident and hand over. */
export const FINISH_MARGIN_MS = 60_000;

/** When the run stops starting slow work (snapshot pages): Lambda's remaining time less the margin. */
export function runDeadline(context: Pick<Context, "getRemainingTimeInMillis">, now = Date.now()): number {
  return now + Math.max(0, context.getRemainingTimeInMillis() - FINISH_MARGIN_MS);
}

export function homeAccountOf(context: Pick<Context, "invokedFunctionArn">): { homeAccountId?: string } {
  const account = context.invokedFunctionArn.split(":")[4];
  return account && /^\d{12}$/.test(account) ? { homeAccountId: account } : {};
}

/** The queue's delivery count of a record (1 on the first delivery). */
export function receiveCountOf(record: { attributes: { ApproximateReceiveCount: string } }): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

/**
 * The function's start-up work (secrets from SSM, configuration, clients), done once per container
 * and shared by its invocations; a start-up that failed (SSM unreachable, say) is tried again by the
 * next invocation instead of failing every one after it.
 */
export function coldStart<A, T>(start: (arg: A) => Promise<T>): (arg: A) => Promise<T> {
  let ready: Promise<T> | undefined;
  return (arg) => {
    if (!ready) {
      const starting = start(arg);
      ready = starting;
      starting.catch(() => {
        if (ready === starting) ready = undefined;
      });
    }
    return ready;
  };
}

/**
 * For one invocation's batch: records run side by side, except records with the same key, which run
 * in the batch's order, and one that failed fails the ones after it with its key (they wait for its
 * retry: a FIFO queue's order is kept where it matters, within one incident).
 */
export function inOrderPerKey(): <T>(key: string, run: () => Promise<T>) => Promise<T> {
  const chains = new Map<string, Promise<unknown>>();
  return (key, run) => {
    const next = (chains.get(key) ?? Promise.resolve()).then(run);
    chains.set(key, next);
    return next;
  };
}
