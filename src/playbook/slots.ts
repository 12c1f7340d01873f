/**
 * A fixed number of slots for one kind of work in a process, granted first come, first served.
 * In a storm the steps after containment (snapshots paced at 2 TPS, plans, reports) would otherwise
 * take the CPU and sockets that the next alert's containment needs: with them held to a few slots,
 * a key that leaks at minute 1 is dead within seconds however many incidents are still being studied.
 */
export class Slots {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError("Slots: size must be a whole number >= 1");
    this.#size = size;
  }

  /** Runs `work` once a slot is free; the slot is given back however `work` ends. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy += 1;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next in line, so #busy stays counted for it.
      if (next) next();
      else this.#busy -= 1;
    }
  }

  /** Work waiting for a slot (for logs and tests). */
  get waiting(): number {
    return this.#waiting.length;
  }
}
