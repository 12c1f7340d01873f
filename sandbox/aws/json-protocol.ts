import type { SandboxRequest } from "../service.js";

/**
 * The operation a JSON-protocol request names (CloudTrail, Organizations, SQS): the part of its
 * `X-Amz-Target` header after the service's prefix, or "unknown".
 */
export function targetOperation(request: SandboxRequest, prefix: string): string {
  const target = request.headers["x-amz-target"];
  return typeof target === "string" && target.startsWith(prefix) ? target.slice(prefix.length) : "unknown";
}
