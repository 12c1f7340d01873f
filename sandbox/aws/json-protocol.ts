import { fakeRequestId } from "../fake-ids.js";
import { SandboxError, type SandboxRequest, type SandboxResponse } from "../service.js";

/** A JSON request or response body. */
export type Json = Record<string, unknown>;

/**
 * The operation a JSON-protocol request names (CloudTrail, Organizations, SQS): the part of its
 * `X-Amz-Target` header after the service's prefix, or "unknown".
 */
export function targetOperation(request: SandboxRequest, prefix: string): string {
  const target = request.headers["x-amz-target"];
  return typeof target === "string" && target.startsWith(prefix) ? target.slice(prefix.length) : "unknown";
}

/**
 * The request body as the JSON object these services take (an empty body is `{}`); anything else is
 * the SerializationException the service answers, in its own words.
 */
export function parseJsonObject(body: Buffer, serializationMessage: string): Json {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new SandboxError(400, "SerializationException", serializationMessage);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SandboxError(400, "SerializationException", serializationMessage);
  }
  return parsed as Json;
}

/** An answer in the service's JSON dialect (`contentType`: application/x-amz-json-1.0, 1.1, or plain JSON). */
export function jsonResponse(contentType: string, status: number, body: Json): SandboxResponse {
  return {
    status,
    headers: { "content-type": contentType, "x-amzn-requestid": fakeRequestId() },
    body: JSON.stringify(body),
  };
}
