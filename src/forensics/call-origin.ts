/**
 * Where a call came from: a GitHub Actions runner, a network the caller declared, an AWS service
 * acting for the principal, or elsewhere. Without the runner ranges an address is "unknown", never
 * "elsewhere": the analysis must not pretend an address is not GitHub's when it could not check.
 */
import { type ActionsRanges, parseAddress } from "./actions-ranges.js";
import type { Origin } from "./findings.js";
import type { TrailEvent } from "./trail-event.js";

export interface OriginClassifier {
  originOf(event: Pick<TrailEvent, "sourceIPAddress" | "userIdentity">): Origin;
  /** For an address: true/false when the ranges are known, "unknown" when they are not. */
  githubActions(address: string): boolean | "unknown";
  /** A note a person needs about the address (a private address, a VPC endpoint), if any. */
  noteFor(address: string, vpcEndpointId?: string): string | undefined;
}

/** "cloudformation.amazonaws.com", "AWS Internal": the service, not a person, made the call. */
function isAwsServiceSource(source: string): boolean {
  return source === "AWS Internal" || /^[a-z0-9.-]+\.amazonaws\.com$/.test(source);
}

export function createOriginClassifier(
  ranges: ActionsRanges | undefined,
  expectedNetworks: ActionsRanges | undefined,
): OriginClassifier {
  const cache = new Map<string, Origin>();
  // Each address is parsed once: a hostile history may hold tens of thousands of them.
  const parsedAddresses = new Map<string, ReturnType<typeof parseAddress>>();
  const parseAddressOnce = (address: string) => {
    if (!parsedAddresses.has(address)) parsedAddresses.set(address, parseAddress(address));
    return parsedAddresses.get(address);
  };
  const classify = (address: string): Origin => {
    if (isAwsServiceSource(address)) return "aws-service";
    if (!parseAddressOnce(address)) return "elsewhere";
    if (expectedNetworks?.includes(address)) return "expected-network";
    if (!ranges) return "unknown";
    return ranges.includes(address) ? "github-actions" : "elsewhere";
  };
  return {
    originOf(event) {
      const address = event.sourceIPAddress;
      if (!address) return event.userIdentity.invokedBy ? "aws-service" : "unknown";
      let origin = cache.get(address);
      if (origin === undefined) {
        origin = classify(address);
        cache.set(address, origin);
      }
      return origin;
    },
    githubActions(address) {
      if (!parseAddressOnce(address)) return false;
      if (!ranges) return "unknown";
      return ranges.includes(address) === true;
    },
    noteFor(address, vpcEndpointId) {
      if (vpcEndpointId) return `through VPC endpoint ${vpcEndpointId}: a private address, not a runner's`;
      const parsed = parseAddressOnce(address);
      if (!parsed) {
        return isAwsServiceSource(address) ? "an AWS service acting for the key" : "not an IP address";
      }
      const range = parsed.range();
      if (range === "private" || range === "uniqueLocal" || range === "carrierGradeNat") {
        return "a private address: a VPC endpoint or a self-hosted runner, never a GitHub-hosted one";
      }
      return undefined;
    },
  };
}
