import { PermanentFailure, TransientFailure } from "../../domain/errors.js";
import { unreachable, unreachableWords } from "../network-errors.js";

const DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "InvalidClientTokenId",
  "ExpiredToken",
  "SignatureDoesNotMatch",
]);
const NOT_FOUND = new Set(["NoSuchEntity", "NoSuchEntityException", "NoSuchKey", "NoSuchBucket", "NotFound"]);
const INVALID = new Set([
  "ValidationError",
  "InvalidInput",
  "InvalidParameterValue",
  "MalformedPolicyDocument",
]);

export function awsErrorName(error: unknown): string {
  if (typeof error === "object" && error !== null && "name" in error && typeof error.name === "string") {
    return error.name;
  }
  return "Unknown";
}

export function isNotFound(error: unknown): boolean {
  return NOT_FOUND.has(awsErrorName(error));
}

/**
 * What is kept of an SDK error as `cause`: its name, status and request id. The raw error holds
 * the signed request (with the responder's session token), so it never travels further.
 */
export function sdkErrorSummary(error: unknown): {
  name: string;
  httpStatusCode?: number;
  requestId?: string;
} {
  const metadata =
    typeof error === "object" && error !== null && "$metadata" in error
      ? (error.$metadata as { httpStatusCode?: number; requestId?: string })
      : {};
  return {
    name: awsErrorName(error),
    ...(metadata.httpStatusCode === undefined ? {} : { httpStatusCode: metadata.httpStatusCode }),
    ...(metadata.requestId === undefined ? {} : { requestId: metadata.requestId }),
  };
}

/**
 * An AWS SDK error in the playbook's terms. The SDK has already retried throttling and 5xx with
 * backoff; what is left is either permanent (a person must act) or transient (SQS retries).
 */
export function toResponderError(error: unknown, what: string): Error {
  const name = awsErrorName(error);
  const detail = error instanceof Error ? error.message : String(error);
  const cause = sdkErrorSummary(error);
  if (DENIED.has(name)) {
    return new PermanentFailure(`${what}: AWS denied it (${name}: ${detail})`, name, { cause });
  }
  if (NOT_FOUND.has(name) || INVALID.has(name)) {
    return new PermanentFailure(`${what}: ${name}: ${detail}`, name, { cause });
  }
  // The SDK has retried it already; a VPN, proxy or endpoint URL is what a person checks next.
  const away = unreachable(error, "the AWS endpoint");
  if (away)
    return new TransientFailure(`${what}: ${unreachableWords(away)}`, "network-unreachable", { cause });
  return new TransientFailure(`${what}: ${name}: ${detail}`, name, { cause });
}
