/**
 * GitHub Actions runner address ranges: the `actions` field of `GET /meta` (facts.md, AWS:
 * CloudTrail), used to tell "the expected CI used the key" from "someone else did".
 *
 * The list holds thousands of IPv4 and IPv6 CIDRs, so they are merged into sorted numeric intervals
 * once and each address is a binary search. When the ranges cannot be had, the loader says so and
 * returns none: the analysis then reports "unknown" for every address, never "not GitHub".
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import ipaddr from "ipaddr.js";
import { errorMessage } from "../domain/errors.js";
import { isJsonObject, parseBoundedJson } from "./bounded-json.js";

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
/** GitHub changes the list a few times a year; an hour keeps a warm Lambda from asking on every alert. */
export const DEFAULT_RANGES_MAX_AGE_MS = 60 * 60 * 1000;
export const DEFAULT_RANGES_TIMEOUT_MS = 5_000;
/** /meta is a few hundred kilobytes; anything far bigger is not /meta. */
const MAX_META_BYTES = 16 * 1024 * 1024;

export interface RangesProvenance {
  /** Where the list came from: GitHub's API, an offline copy on disk, or the caller. */
  source: "github-meta" | "offline-copy" | "given";
  /** When GitHub served it, if known (ISO 8601). */
  fetchedAt?: string;
  /** The URL or file it came from. */
  location?: string;
}

export interface ActionsRanges {
  /** True or false for an IP address (IPv4, IPv6, IPv4-mapped IPv6); undefined when `address` is not one. */
  includes(address: string): boolean | undefined;
  /** Number of valid CIDRs in the list. */
  readonly size: number;
  /** Entries that were not valid CIDRs or addresses, ignored. */
  readonly invalid: number;
  readonly provenance: RangesProvenance;
}

interface Interval<T> {
  start: T;
  end: T;
}

/** A matcher over `cidrs` (bare addresses count as /32 or /128); invalid entries are counted and ignored. */
export function createActionsRanges(
  cidrs: readonly string[],
  provenance: RangesProvenance = { source: "given" },
): ActionsRanges {
  const v4: Interval<number>[] = [];
  const v6: Interval<bigint>[] = [];
  let size = 0;
  let invalid = 0;
  for (const entry of cidrs) {
    const parsed = parseCidr(entry);
    if (!parsed) {
      invalid++;
      continue;
    }
    size++;
    const [address, prefix] = parsed;
    if (address.kind() === "ipv4") {
      const value = ipv4Number(address as ipaddr.IPv4);
      const hostBits = 32 - prefix;
      const blockSize = 2 ** hostBits;
      const start = Math.floor(value / blockSize) * blockSize;
      v4.push({ start, end: start + blockSize - 1 });
    } else {
      const value = ipv6BigInt(address as ipaddr.IPv6);
      const hostMask = (1n << BigInt(128 - prefix)) - 1n;
      const start = value & ~hostMask;
      v6.push({ start, end: start | hostMask });
    }
  }
  const merged4 = mergeIntervals(
    v4,
    (a, b) => a - b,
    (end) => end + 1,
  );
  const merged6 = mergeIntervals(
    v6,
    (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    (end) => end + 1n,
  );
  return {
    size,
    invalid,
    provenance,
    includes(address: string): boolean | undefined {
      const parsed = parseAddress(address);
      if (!parsed) return undefined;
      if (parsed.kind() === "ipv4") return within(merged4, ipv4Number(parsed as ipaddr.IPv4));
      return within(merged6, ipv6BigInt(parsed as ipaddr.IPv6));
    },
  };
}

/** The address, with IPv4-mapped IPv6 (`::ffff:192.0.2.1`) turned into IPv4; undefined if not an address. */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const trimmed = text.trim();
  // Dotted-quad IPv4 or IPv6 only: ipaddr.js would also take "0x7f.1"-style forms CloudTrail never logs.
  if (trimmed.length === 0 || trimmed.length > 64 || !ADDRESS_SHAPE.test(trimmed)) return undefined;
  try {
    return ipaddr.process(trimmed);
  } catch {
    return undefined;
  }
}

const ADDRESS_SHAPE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(%[\w.-]+)?)$/;

function parseCidr(entry: unknown): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  if (typeof entry !== "string" || entry.length > 64) return undefined;
  const text = entry.trim();
  try {
    if (!text.includes("/")) {
      const address = parseAddress(text);
      return address ? [address, address.kind() === "ipv4" ? 32 : 128] : undefined;
    }
    if (!ipaddr.isValidCIDR(text)) return undefined;
    const [address, prefix] = ipaddr.parseCIDR(text);
    if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
      return [(address as ipaddr.IPv6).toIPv4Address(), prefix - 96];
    }
    return [address, prefix];
  } catch {
    return undefined;
  }
}

function ipv4Number(address: ipaddr.IPv4): number {
  const [a = 0, b = 0, c = 0, d = 0] = address.octets;
  return ((a * 256 + b) * 256 + c) * 256 + d;
}

function ipv6BigInt(address: ipaddr.IPv6): bigint {
  let value = 0n;
  for (const part of address.parts) value = (value << 16n) | BigInt(part);
  return value;
}

function mergeIntervals<T>(
  intervals: Interval<T>[],
  compare: (a: T, b: T) => number,
  next: (end: T) => T,
): Interval<T>[] {
  const sorted = [...intervals].sort((a, b) => compare(a.start, b.start));
  const merged: Interval<T>[] = [];
  for (const interval of sorted) {
    const last = merged[merged.length - 1];
    if (last && compare(interval.start, next(last.end)) <= 0) {
      if (compare(interval.end, last.end) > 0) last.end = interval.end;
    } else merged.push({ ...interval });
  }
  return merged;
}

function within<T extends number | bigint>(intervals: Interval<T>[], value: T): boolean {
  let low = 0;
  let high = intervals.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const interval = intervals[middle];
    if (!interval) return false;
    if (value < interval.start) high = middle - 1;
    else if (value > interval.end) low = middle + 1;
    else return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Loading the list
// ---------------------------------------------------------------------------------------------

/** The part of `fetch` the loader uses, so tests and the sandbox can pass their own. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface ActionsRangesSource {
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** GitHub's REST API base URL (GITHUB_API_URL; the sandbox serves its own). */
  apiUrl?: string;
  /** Optional token: /meta works without one, at 60 requests an hour per address. */
  token?: string;
  /**
   * An offline copy: written after each successful fetch, read when GitHub cannot be reached. Also
   * accepts the raw body of `GET /meta`, so `curl https://api.github.com/meta > FILE` makes one.
   */
  cacheFile?: string;
  maxAgeMs?: number;
  timeoutMs?: number;
  now?: () => Date;
}

export type LoadedActionsRanges =
  | { available: true; ranges: ActionsRanges; note: string }
  | { available: false; ranges?: undefined; problem: string };

interface MemoEntry {
  ranges: ActionsRanges;
  loadedAtMs: number;
}

/** Per-process memo (a warm Lambda keeps it between alerts), keyed by the /meta URL. */
const memo = new Map<string, MemoEntry>();

/** Forget the memoised lists (tests; or to force a refresh). */
export function forgetActionsRanges(): void {
  memo.clear();
}

/**
 * The runner ranges: from memory when fresh, else from GitHub (and saved to the cache file), else
 * from the cache file with a note saying so, else unavailable with the reason.
 */
export async function loadActionsRanges(source: ActionsRangesSource = {}): Promise<LoadedActionsRanges> {
  const url = `${(source.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, "")}/meta`;
  const nowMs = (source.now ?? (() => new Date()))().getTime();
  const maxAge = source.maxAgeMs ?? DEFAULT_RANGES_MAX_AGE_MS;
  const remembered = memo.get(url);
  if (remembered && nowMs - remembered.loadedAtMs < maxAge) {
    return { available: true, ranges: remembered.ranges, note: describeProvenance(remembered.ranges) };
  }

  let fetchProblem: string;
  try {
    const cidrs = await fetchActionsCidrs(url, source);
    const fetchedAt = new Date(nowMs).toISOString();
    const ranges = createActionsRanges(cidrs, { source: "github-meta", fetchedAt, location: url });
    memo.set(url, { ranges, loadedAtMs: nowMs });
    let note = describeProvenance(ranges);
    if (source.cacheFile) {
      try {
        await writeCacheFile(source.cacheFile, { fetchedAt, source: url, actions: cidrs });
      } catch (error: unknown) {
        note += ` (could not save the offline copy: ${errorMessage(error)})`;
      }
    }
    return { available: true, ranges, note };
  } catch (error: unknown) {
    fetchProblem = `GitHub's ${url} could not be read: ${errorMessage(error)}`;
  }

  if (source.cacheFile) {
    const offline = await readActionsRangesFile(source.cacheFile);
    if (offline.available) {
      return { available: true, ranges: offline.ranges, note: `${fetchProblem}; ${offline.note}` };
    }
    return { available: false, problem: `${fetchProblem}; ${offline.problem}` };
  }
  return { available: false, problem: fetchProblem };
}

/** An offline copy (the cache file's shape, or the raw body of `GET /meta`). */
export async function readActionsRangesFile(path: string): Promise<LoadedActionsRanges> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error: unknown) {
    return { available: false, problem: `no offline copy of the ranges at ${path} (${errorMessage(error)})` };
  }
  if (text.length > MAX_META_BYTES) {
    return { available: false, problem: `the offline copy at ${path} is too large to be GitHub's /meta` };
  }
  const parsed = parseBoundedJson(text, 8);
  const cidrs = parsed.ok ? actionsField(parsed.value) : undefined;
  if (!parsed.ok || !cidrs) {
    return { available: false, problem: `the offline copy at ${path} has no "actions" list of CIDRs` };
  }
  const fetchedAt = isJsonObject(parsed.value) ? parsed.value.fetchedAt : undefined;
  const provenance: RangesProvenance = { source: "offline-copy", location: path };
  if (typeof fetchedAt === "string" && Number.isFinite(Date.parse(fetchedAt)))
    provenance.fetchedAt = fetchedAt;
  const ranges = createActionsRanges(cidrs, provenance);
  if (ranges.size === 0) {
    return { available: false, problem: `the offline copy at ${path} has no valid CIDR in "actions"` };
  }
  return { available: true, ranges, note: describeProvenance(ranges) };
}

/** One line for the findings: where the ranges came from and how old they are. */
export function describeProvenance(ranges: ActionsRanges): string {
  const { source, fetchedAt, location } = ranges.provenance;
  const when = fetchedAt ? ` fetched ${fetchedAt}` : "";
  if (source === "github-meta")
    return `GitHub Actions ranges: ${ranges.size} CIDRs from ${location ?? "GitHub"}${when}`;
  if (source === "offline-copy") {
    return `GitHub Actions ranges: ${ranges.size} CIDRs from the offline copy${location ? ` ${location}` : ""}${when}`;
  }
  return `GitHub Actions ranges: ${ranges.size} CIDRs given by the caller`;
}

async function fetchActionsCidrs(url: string, source: ActionsRangesSource): Promise<string[]> {
  const fetchImpl: FetchLike = source.fetch ?? ((input, init) => fetch(input, init));
  const headers: Record<string, string> = {
    accept: "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    "user-agent": "leak-responder",
  };
  if (source.token) headers.authorization = `Bearer ${source.token}`;
  const response = await fetchImpl(url, {
    headers,
    signal: AbortSignal.timeout(source.timeoutMs ?? DEFAULT_RANGES_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_META_BYTES) throw new Error("the answer is too large to be /meta");
  const parsed = parseBoundedJson(text, 8);
  const cidrs = parsed.ok ? actionsField(parsed.value) : undefined;
  if (!cidrs) throw new Error('the answer has no "actions" list');
  if (cidrs.length === 0) throw new Error('the "actions" list is empty');
  return cidrs;
}

function actionsField(value: unknown): string[] | undefined {
  if (!isJsonObject(value) || !Array.isArray(value.actions)) return undefined;
  return value.actions.filter((item): item is string => typeof item === "string");
}

async function writeCacheFile(
  path: string,
  content: { fetchedAt: string; source: string; actions: string[] },
) {
  await mkdir(dirname(path), { recursive: true });
  // Write then rename, so a reader never sees half a file.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(content)}\n`, "utf8");
  await rename(temporary, path);
}
