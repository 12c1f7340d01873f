/**
 * An endpoint that cannot be reached (refused, no such host, timed out, connection dropped), said
 * as such. Each client wraps the socket error its own way: the AWS SDK passes Node's error on,
 * Octokit makes it a RequestError with status 500 around fetch's "fetch failed" around it, Slack's
 * clients wrap axios's error in `original`. Without this a person reads "500" or "Error: connect
 * ECONNREFUSED" and looks for a bug in the responder instead of a VPN, a proxy or a typo in a URL.
 */

/** Node's and undici's socket error codes, in words. */
const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "no such host (DNS lookup failed)",
  EAI_AGAIN: "DNS lookup failed (try again)",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection dropped (socket hang up)",
  EPIPE: "connection dropped",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection dropped",
  UND_ERR_HEADERS_TIMEOUT: "no answer in time",
  UND_ERR_BODY_TIMEOUT: "no answer in time",
};

interface Unreachable {
  /** `host` or `host:port` as the client was told it (never a path: a Slack webhook URL is a secret). */
  host: string;
  /** "connection refused", "no such host (DNS lookup failed)"... */
  reason: string;
}

type Bag = Record<string, unknown>;

function isBag(value: unknown): value is Bag {
  return typeof value === "object" && value !== null;
}

/** The error and what it wraps: `cause` (fetch, Octokit, Node) and `original` (Slack's clients). */
function chain(error: unknown): Bag[] {
  const links: Bag[] = [];
  let current: unknown = error;
  while (isBag(current) && links.length < 6 && !links.includes(current)) {
    links.push(current);
    current = current.cause ?? current.original;
  }
  return links;
}

/** The host part of a URL a client was given: Octokit's `request.url`, axios's `config.url`. */
function urlHost(link: Bag): string | undefined {
  const holder = isBag(link.request) ? link.request : isBag(link.config) ? link.config : undefined;
  const url = holder?.url;
  if (typeof url !== "string") return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/** The peer the socket error names: `hostname` for a DNS failure, `address:port` for a refusal. */
function socketPeer(link: Bag): string | undefined {
  if (typeof link.hostname === "string" && link.hostname) return link.hostname;
  if (typeof link.address === "string" && link.address) {
    return typeof link.port === "number" ? `${link.address}:${link.port}` : link.address;
  }
  return undefined;
}

function reasonOf(link: Bag): string | undefined {
  if (typeof link.code === "string" && REASONS[link.code]) return REASONS[link.code];
  // The SDK's connection and request timeouts, and fetch's AbortSignal.timeout.
  if (link.name === "TimeoutError") return "no answer in time";
  if (typeof link.message === "string" && /^socket hang up$/i.test(link.message)) return REASONS.ECONNRESET;
  return undefined;
}

/**
 * Whether `error` is an endpoint that could not be reached, and which. `fallbackHost` names it when
 * the error does not (the AWS SDK's timeouts and dropped connections carry no address).
 */
export function unreachable(error: unknown, fallbackHost: string): Unreachable | undefined {
  const links = chain(error);
  let reason: string | undefined;
  let peer: string | undefined;
  for (const link of links) {
    reason ??= reasonOf(link);
    peer ??= socketPeer(link);
  }
  if (!reason) return undefined;
  const configured = links.map(urlHost).find((host) => host !== undefined);
  return { host: configured ?? peer ?? fallbackHost, reason };
}

/** "could not reach api.github.com: connection refused" */
export function unreachableWords(found: Unreachable): string {
  return `could not reach ${found.host}: ${found.reason}`;
}
