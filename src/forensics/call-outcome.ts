/**
 * Did a call go through? CloudTrail records an `errorCode` on failure. Authorisation refusals
 * (AccessDenied and its per-service spellings) and rejected credentials (a deactivated key, an
 * expired session) are "denied": the account said no. Other errors ("NoSuchEntity",
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

export function outcomeOf(event: Pick<TrailEvent, "errorCode">): CallOutcome {
  const code = event.errorCode;
  if (code === undefined || code === "") return "succeeded";
  return DENIED_CODES.has(code) || DENIED_PATTERN.test(code) ? "denied" : "failed";
}
