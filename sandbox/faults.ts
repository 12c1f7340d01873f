/**
 * Fault and latency injection per service and operation: the sandbox can be slow, throttle, fail
 * with 5xx, deny access or hang, as the real services do on a bad night.
 */
export type FaultKind = "throttle" | "server-error" | "access-denied" | "timeout";

export interface FaultRule {
  /** "iam", "sts", "sqs", "s3", "cloudtrail", "account", "organizations", "github", "slack". */
  service: string;
  /** The operation name ("UpdateAccessKey", "getAlert", ...); all operations when absent. */
  operation?: string;
  kind: FaultKind;
  /** How many calls fail before the service behaves again; every call when absent. */
  times?: number;
}

interface ActiveRule extends FaultRule {
  remaining: number;
}

/** How long a "timeout" fault holds a request: far past any client's timeout (5 s by default). */
export const DEFAULT_HANG_MS = 30_000;

export class Faults {
  #rules: ActiveRule[] = [];
  #latency: Array<{ service?: string; operation?: string; ms: number }> = [];
  /**
   * A "timeout" fault holds the request this long, or until the client gives up, whichever is first;
   * then a 500 (if anyone still listens). Keep it several times the clients' timeout.
   */
  hangMs = DEFAULT_HANG_MS;

  inject(rule: FaultRule): void {
    this.#rules.push({ ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  /** Adds `ms` of latency to matching calls (every call when no service is given). */
  setLatency(ms: number, where: { service?: string; operation?: string } = {}): void {
    this.#latency = this.#latency.filter(
      (l) => l.service !== where.service || l.operation !== where.operation,
    );
    if (ms > 0) this.#latency.push({ ...where, ms });
  }

  clear(): void {
    this.#rules = [];
    this.#latency = [];
  }

  latencyFor(service: string, operation: string): number {
    let ms = 0;
    for (const l of this.#latency) {
      if (
        (l.service === undefined || l.service === service) &&
        (l.operation === undefined || l.operation === operation)
      ) {
        ms = Math.max(ms, l.ms);
      }
    }
    return ms;
  }

  /** The fault this call must suffer, if any; counts it against the rule. */
  take(service: string, operation: string): FaultKind | undefined {
    for (const rule of this.#rules) {
      if (rule.remaining <= 0) continue;
      if (rule.service !== service) continue;
      if (rule.operation !== undefined && rule.operation !== operation) continue;
      rule.remaining -= 1;
      return rule.kind;
    }
    return undefined;
  }
}
