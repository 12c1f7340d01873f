/**
 * JobQueue for local runs (`leak-responder serve`, the demo, tests): behaves like the SQS queue with a
 * redrive policy that the deployed system uses (design.md: Queue). `send` returns at once; the
 * registered consumer receives each job asynchronously; a consumer that throws gets the job again after
 * a backoff, up to `maxReceiveCount` receives, after which the job lands in the dead-letter list.
 */
import { randomUUID } from "node:crypto";
import type { AlertJob } from "../../domain/alert-job.js";
import { errorMessage } from "../../domain/errors.js";
import type { Log } from "../../logger.js";
import type { JobQueue } from "../../ports.js";

export interface DeliveredJob {
  messageId: string;
  /** 1 on the first delivery, like SQS's ApproximateReceiveCount. */
  receiveCount: number;
}

export type JobHandler = (job: AlertJob, delivery: DeliveredJob) => Promise<void>;

export interface DeadLetter {
  messageId: string;
  job: AlertJob;
  receiveCount: number;
  /** The last failure's message (errors carry no secrets). */
  error: string;
  deadLetteredAt: Date;
}

export interface MemoryQueueCounts {
  sent: number;
  /** Handler invocations, retries included. */
  received: number;
  succeeded: number;
  /** Failed handler invocations, each one. */
  failed: number;
  deadLettered: number;
  /** Waiting for a consumer or a free slot. */
  waiting: number;
  /** Handed to the handler and not settled yet. */
  inFlight: number;
  /** Failed and waiting out their backoff. */
  retrying: number;
}

export interface MemoryQueueOptions {
  /** Receives per job before it is dead-lettered, as an SQS redrive policy. Default 5. */
  maxReceiveCount?: number;
  /** Wait before the next delivery after `receiveCount` failed ones. Default 100 ms doubling, at most 5 s. */
  retryDelayMs?: (receiveCount: number) => number;
  /** Jobs handled at the same time (SQS + Lambda handle several). Default 4. */
  concurrency?: number;
  log?: Log;
}

interface Message {
  messageId: string;
  /** Kept serialised, as on SQS: the consumer gets its own copy on every delivery. */
  body: string;
  receiveCount: number;
}

export function defaultRetryDelayMs(receiveCount: number): number {
  return Math.min(100 * 2 ** Math.max(0, receiveCount - 1), 5_000);
}

export class MemoryJobQueue implements JobQueue {
  readonly #maxReceiveCount: number;
  readonly #retryDelayMs: (receiveCount: number) => number;
  readonly #concurrency: number;
  readonly #log: Log | undefined;
  readonly #waiting: Message[] = [];
  /** Failed messages waiting out their backoff, by timer. */
  readonly #timers = new Map<NodeJS.Timeout, Message>();
  readonly #deadLetters: DeadLetter[] = [];
  readonly #idle: Array<() => void> = [];
  #handler: JobHandler | undefined;
  #inFlight = 0;
  #scheduled = false;
  #counts = { sent: 0, received: 0, succeeded: 0, failed: 0 };

  constructor(options: MemoryQueueOptions = {}) {
    this.#maxReceiveCount = options.maxReceiveCount ?? 5;
    this.#retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
    this.#concurrency = options.concurrency ?? 4;
    this.#log = options.log;
    if (!Number.isInteger(this.#maxReceiveCount) || this.#maxReceiveCount < 1) {
      throw new RangeError("MemoryJobQueue: maxReceiveCount must be a whole number >= 1");
    }
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new RangeError("MemoryJobQueue: concurrency must be a whole number >= 1");
    }
  }

  async send(job: AlertJob): Promise<{ messageId: string }> {
    const message: Message = { messageId: randomUUID(), body: JSON.stringify(job), receiveCount: 0 };
    this.#counts.sent += 1;
    this.#waiting.push(message);
    this.#schedule();
    return { messageId: message.messageId };
  }

  /**
   * Registers the one consumer; jobs already waiting are delivered to it. Returns a function that
   * unregisters it (jobs in flight finish; later ones wait for the next consumer).
   */
  consume(handler: JobHandler): () => void {
    if (this.#handler) throw new Error("MemoryJobQueue: a consumer is already registered");
    this.#handler = handler;
    this.#schedule();
    return () => {
      if (this.#handler === handler) this.#handler = undefined;
      this.#settleIfIdle();
    };
  }

  /**
   * Resolves when nothing is in flight, no retry is pending and, while a consumer is registered, nothing
   * is waiting. Without a consumer, waiting jobs stay waiting and do not hold `drain` up.
   */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Cancels pending retries (their jobs go back to waiting) and unregisters the consumer. */
  close(): void {
    this.#handler = undefined;
    for (const [timer, message] of this.#timers) {
      clearTimeout(timer);
      this.#waiting.push(message);
    }
    this.#timers.clear();
    this.#settleIfIdle();
  }

  get deadLetters(): readonly DeadLetter[] {
    return this.#deadLetters;
  }

  get counts(): MemoryQueueCounts {
    return {
      ...this.#counts,
      deadLettered: this.#deadLetters.length,
      waiting: this.#waiting.length,
      inFlight: this.#inFlight,
      retrying: this.#timers.size,
    };
  }

  #isIdle(): boolean {
    return (
      this.#inFlight === 0 &&
      this.#timers.size === 0 &&
      (this.#handler === undefined || this.#waiting.length === 0)
    );
  }

  #settleIfIdle(): void {
    if (!this.#isIdle()) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Deliveries start on a later tick: `send` never runs the consumer inside the sender's call. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#handler && this.#inFlight < this.#concurrency) {
      const message = this.#waiting.shift();
      if (!message) break;
      void this.#deliver(this.#handler, message);
    }
    this.#settleIfIdle();
  }

  async #deliver(handler: JobHandler, message: Message): Promise<void> {
    this.#inFlight += 1;
    message.receiveCount += 1;
    this.#counts.received += 1;
    const job = JSON.parse(message.body) as AlertJob;
    try {
      await handler(job, { messageId: message.messageId, receiveCount: message.receiveCount });
      this.#counts.succeeded += 1;
    } catch (error: unknown) {
      this.#counts.failed += 1;
      this.#failed(message, job, errorMessage(error));
    } finally {
      this.#inFlight -= 1;
    }
    this.#pump();
  }

  #failed(message: Message, job: AlertJob, error: string): void {
    const keys = { messageId: message.messageId, incidentId: job.incidentId, deliveryId: job.deliveryId };
    if (message.receiveCount >= this.#maxReceiveCount) {
      this.#deadLetters.push({
        messageId: message.messageId,
        job,
        receiveCount: message.receiveCount,
        error,
        deadLetteredAt: new Date(),
      });
      this.#log?.error("job dead-lettered", { ...keys, receiveCount: message.receiveCount, error });
      return;
    }
    const delayMs = Math.max(0, this.#retryDelayMs(message.receiveCount));
    this.#log?.warn("job failed, will be redelivered", {
      ...keys,
      receiveCount: message.receiveCount,
      delayMs,
      error,
    });
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#waiting.push(message);
      this.#pump();
    }, delayMs);
    this.#timers.set(timer, message);
  }
}
