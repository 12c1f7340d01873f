/**
 * facts.md: CloudTrail LookupEvents allows 2 requests per second per account per region. A pacer
 * hands out request slots per (account, region) key, at most `ratePerSecond` a second, shared by
 * every snapshot in the process so concurrent incidents in one account do not add up past the limit.
 */
export interface Pacer {
  /** Resolves when the caller may send one request for `key`. */
  acquire(key: string): Promise<void>;
  /** After a throttle: no slot for `key` is handed out before `ms` from now. */
  backOff(key: string, ms: number): void;
  /**
   * Resolves once every slot handed out is a full interval in the past: a process that lets go of
   * an account (the investigation queue's message group) waits for it, so the next one to take the
   * account may start at once and the pace holds across processes.
   */
  quiet?(): Promise<void>;
}

const WIDEN_STEP_MS = 25;
const MAX_WIDEN_MS = 200;

export class RegionPacer implements Pacer {
  readonly #intervalMs: number;
  readonly #next = new Map<string, number>();
  /** Per key: widened a little after each throttle (arrival jitter there is larger than the margin). */
  readonly #widened = new Map<string, number>();

  /**
   * `marginMs` widens each interval a little: requests leave on time but arrive with jitter, and a
   * server counting arrivals in a sliding second must never see a third one.
   */
  constructor(
    ratePerSecond = 2,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    marginMs = 0,
  ) {
    this.#intervalMs = 1000 / ratePerSecond + marginMs;
  }

  async acquire(key: string): Promise<void> {
    const now = this.now();
    const slot = Math.max(now, this.#next.get(key) ?? 0);
    // Reserve before waiting, so callers queue in order without a lock.
    this.#next.set(key, slot + this.#intervalMs + (this.#widened.get(key) ?? 0));
    if (slot > now) await this.sleep(slot - now);
  }

  async quiet(): Promise<void> {
    const last = Math.max(0, ...this.#next.values());
    const wait = last - this.now();
    if (wait > 0) await this.sleep(wait);
  }

  backOff(key: string, ms: number): void {
    this.#next.set(key, Math.max(this.#next.get(key) ?? 0, this.now() + ms));
    this.#widened.set(key, Math.min((this.#widened.get(key) ?? 0) + WIDEN_STEP_MS, MAX_WIDEN_MS));
  }
}

/**
 * The pacer for CloudTrail LookupEvents: 2 a second per account and region, each interval 30 ms
 * wider (measured on the sandbox's strict sliding window: 500 ms spacing drew throttles from
 * arrival jitter, 525 ms and more drew none).
 */
export function lookupEventsPacer(): RegionPacer {
  return new RegionPacer(2, Date.now, undefined, 30);
}
