/**
 * Enumeration looks like a burst of denied calls from one address: tools such as enumerate-iam and
 * Pacu try action after action to learn what a key may do (facts.md, AWS: CloudTrail: many
 * AccessDenied errors in a burst = enumeration).
 */

/** At least this many denied calls... */
export const DENIED_BURST_MIN_CALLS = 10;
/** ...within this window, from one address, make a burst. */
export const DENIED_BURST_WINDOW_MS = 60_000;

export interface DeniedCall {
  address: string;
  timeMs: number;
  action: string;
  accessKeyId?: string | undefined;
}

export interface RawBurst {
  address: string;
  calls: DeniedCall[];
}

/**
 * Maximal runs of denied calls per address in which every call lies in some window of `windowMs`
 * holding at least `minCalls` calls; overlapping windows merge into one burst.
 */
export function findDeniedBursts(
  calls: readonly DeniedCall[],
  minCalls = DENIED_BURST_MIN_CALLS,
  windowMs = DENIED_BURST_WINDOW_MS,
): RawBurst[] {
  const byAddress = new Map<string, DeniedCall[]>();
  for (const call of calls) {
    const list = byAddress.get(call.address) ?? [];
    list.push(call);
    byAddress.set(call.address, list);
  }
  const bursts: RawBurst[] = [];
  for (const [address, list] of [...byAddress.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    list.sort((a, b) => a.timeMs - b.timeMs);
    let windowStart = 0;
    let burstStart = -1;
    let burstEnd = -1;
    for (let end = 0; end < list.length; end++) {
      const endCall = list[end];
      if (!endCall) continue;
      while (windowStart < end && endCall.timeMs - (list[windowStart]?.timeMs ?? endCall.timeMs) > windowMs) {
        windowStart++;
      }
      if (end - windowStart + 1 < minCalls) continue;
      if (burstStart >= 0 && windowStart <= burstEnd) burstEnd = end;
      else {
        if (burstStart >= 0) bursts.push({ address, calls: list.slice(burstStart, burstEnd + 1) });
        burstStart = windowStart;
        burstEnd = end;
      }
    }
    if (burstStart >= 0) bursts.push({ address, calls: list.slice(burstStart, burstEnd + 1) });
  }
  return bursts.sort((a, b) => (a.calls[0]?.timeMs ?? 0) - (b.calls[0]?.timeMs ?? 0));
}
