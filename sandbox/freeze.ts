/**
 * Crash tests: the sandbox answers the n-th call that matches (service, operation), then holds every
 * later request, unanswered and unhandled, so that the test can kill the responder's process at that
 * exact point, between two of its calls. A request that was already being handled when the freeze
 * began takes effect but its answer is held too: a crash loses answers, not only requests.
 * `release()` drops whatever was held (its client is dead by then) and lets later requests through.
 */
import type { CallRecord } from "./state.js";

export interface FreezeMatch {
  service: string;
  /** Every operation of the service when absent. */
  operation?: string;
  /** 1 for the first matching call. */
  nth: number;
}

export class CallFreeze {
  readonly match: FreezeMatch;
  /** Resolves with the n-th matching call once it is answered. */
  readonly reached: Promise<CallRecord>;
  /** Resolves when the first request is held: the client read the answer and moved on. */
  readonly firstHeld: Promise<void>;
  #count = 0;
  #frozen = false;
  #released = false;
  #held = 0;
  #onReached: (call: CallRecord) => void = () => {};
  #onHeld: () => void = () => {};
  readonly #waiting: Array<() => void> = [];

  constructor(match: FreezeMatch) {
    this.match = match;
    this.reached = new Promise((resolve) => {
      this.#onReached = resolve;
    });
    this.firstHeld = new Promise((resolve) => {
      this.#onHeld = resolve;
    });
  }

  /** Matching calls answered so far. */
  get count(): number {
    return this.#count;
  }

  /** Requests held since the freeze began. */
  get held(): number {
    return this.#held;
  }

  /** Before a request is handled: false when it must be dropped unhandled. */
  admit(): Promise<boolean> | true {
    return this.#frozen && !this.#released ? this.#hold() : true;
  }

  /** A call is answered: false when its answer must be dropped (the freeze began meanwhile). */
  answer(call: CallRecord): Promise<boolean> | true {
    if (this.#frozen) return this.#released ? true : this.#hold();
    const { service, operation, nth } = this.match;
    if (call.service !== service || (operation !== undefined && call.operation !== operation)) return true;
    this.#count += 1;
    if (this.#count === nth) {
      this.#frozen = true;
      // After this answer is on its way: the test learns of it once the response is written.
      setImmediate(() => this.#onReached(call));
    }
    return true;
  }

  release(): void {
    this.#released = true;
    for (const wake of this.#waiting.splice(0)) wake();
  }

  #hold(): Promise<boolean> {
    this.#held += 1;
    this.#onHeld();
    return new Promise((resolve) => this.#waiting.push(() => resolve(false)));
  }
}
