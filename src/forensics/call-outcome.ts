/**
 * Did a call go through? CloudTrail records an `errorCode` on failure. Authorisation refusals
 * (AccessDenied and its per-service spellings) and rejected credentials (a deactivated key, an
 * expired session) are "denied": the account said no. A dry run (`Client.DryRunOperation`) did
 * nothing but proves the caller holds the permission: "permitted". Other errors ("NoSuchEntity",
 * "EntityAlreadyExists", throttling) are "failed": the call was allowed and went wrong.
 */
import type { CallOutcome } from "./findings.js";
import type { TrailEvent } from "./trail-event.js";

const DENIED_CODES = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "Client.UnauthorizedOperation",
  "UnauthorizedOperation",
  "UnauthorizedAccess",
  "Client.UnauthorizedAccess",
  "AuthorizationError",
  "AuthorizationErrorException",
  "Forbidden",
  "ForbiddenException",
  "NotAuthorized",
  "NotAuthorizedException",
  "Unauthorized",
  "UnauthorizedException",
  // Credentials rejected: after deactivation, a key's calls fail with these.
  "InvalidClientTokenId",
  "Client.InvalidClientTokenId",
  "AuthFailure",
  "Client.AuthFailure",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "UnrecognizedClientException",
]);

const DENIED_PATTERN = /AccessDenied|Unauthori[sz]ed|Forbidden/i;

/** EC2 answers a dry run that would have succeeded with this code (EC2 API reference, DryRun). */
const DRY_RUN_CODES = new Set(["DryRunOperation", "Client.DryRunOperation"]);

/** Some services log a status, not an error, in errorCode ("200", "OK"): the call went through. */
const NOT_AN_ERROR = /^(2\d\d|0|ok|success|noerror)$/i;

export function outcomeOf(
  event: Pick<TrailEvent, "errorCode"> & Partial<Pick<TrailEvent, "eventName" | "responseElements">>,
): CallOutcome {
  // A failed console sign-in has no errorCode: CloudTrail says "Failure" in responseElements
  // (CloudTrail User Guide, "AWS console sign-in events").
  if (event.eventName === "ConsoleLogin" && event.responseElements?.ConsoleLogin === "Failure") {
    return "denied";
  }
  const code = event.errorCode?.trim();
  if (code === undefined || code === "" || NOT_AN_ERROR.test(code)) return "succeeded";
  if (DRY_RUN_CODES.has(code)) return "permitted";
  return DENIED_CODES.has(code) || DENIED_PATTERN.test(code) ? "denied" : "failed";
}
