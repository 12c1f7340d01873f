/**
 * The AWS query protocol as STS and IAM speak it: a form-encoded POST (`Action=...&Version=...`)
 * answered with namespaced XML, and errors as `<ErrorResponse>`. The SDK's AwsQueryProtocol reads
 * `<XResponse><XResult>` for output and `ErrorResponse/Error/Code` for the error name, then maps
 * the code to a modeled exception through its awsQueryError trait (NoSuchEntity -> NoSuchEntityException).
 */
import { fakeRequestId } from "../fake-ids.js";
import { SandboxError, type SandboxRequest, type SandboxResponse } from "../service.js";

export type XmlValue = string | number | boolean | Date | undefined | XmlValue[] | XmlObject;
export interface XmlObject {
  [name: string]: XmlValue;
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/** ISO 8601 without milliseconds, as IAM and STS print their dates. */
export function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * One element. Arrays repeat the element (S3's flattened lists); `undefined` omits it, so optional
 * output members simply disappear. Dates print as ISO 8601 seconds.
 */
export function xmlElement(name: string, value: XmlValue): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.map((item) => xmlElement(name, item)).join("");
  if (value instanceof Date) return `<${name}>${isoSeconds(value)}</${name}>`;
  if (typeof value === "object") {
    const children = Object.entries(value)
      .map(([child, childValue]) => xmlElement(child, childValue))
      .join("");
    return `<${name}>${children}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A query-protocol list: `<Name><member>..</member>...</Name>`. */
export function members(items: XmlValue[]): XmlObject {
  return { member: items };
}

export function xmlDocument(root: string, xmlns: string, content: XmlObject): string {
  const inner = Object.entries(content)
    .map(([name, value]) => xmlElement(name, value))
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${xmlns}">${inner}</${root}>`;
}

/** The form body as the SDK's QueryShapeSerializer writes it (RFC 3986 escapes, so no `+` ambiguity). */
export function parseForm(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString("utf8"));
}

export function queryAction(request: SandboxRequest): string {
  return parseForm(request.body).get("Action") ?? "unknown";
}

/** A required parameter, with the validation error the real services return when it is missing. */
export function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === "") {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    throw new SandboxError(
      400,
      "ValidationError",
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export function optionalInt(form: URLSearchParams, name: string): number | undefined {
  const raw = form.get(name);
  if (raw === null || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) {
    throw new SandboxError(
      400,
      "ValidationError",
      `Value '${raw}' at '${name}' failed to satisfy constraint: Member must be an integer`,
    );
  }
  return value;
}

export function requestIdHeaders(requestId: string): Record<string, string> {
  return { "content-type": "text/xml", "x-amzn-requestid": requestId };
}

/** `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>...`; no Result for void actions. */
export function queryResponse(action: string, xmlns: string, result?: XmlObject): SandboxResponse {
  const requestId = fakeRequestId();
  const body = xmlDocument(`${action}Response`, xmlns, {
    ...(result ? { [`${action}Result`]: result } : {}),
    ResponseMetadata: { RequestId: requestId },
  });
  return { status: 200, headers: requestIdHeaders(requestId), body };
}

export function queryErrorResponse(error: SandboxError, xmlns: string): SandboxResponse {
  const requestId = fakeRequestId();
  const body = xmlDocument("ErrorResponse", xmlns, {
    Error: { Type: error.senderFault ? "Sender" : "Receiver", Code: error.code, Message: error.message },
    RequestId: requestId,
  });
  return { status: error.status, headers: requestIdHeaders(requestId), body };
}

export function invalidAction(action: string, version: string): SandboxError {
  return new SandboxError(400, "InvalidAction", `Could not find operation ${action} for version ${version}`);
}
