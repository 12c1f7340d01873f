/**
 * Simulated S3 (REST-XML): buckets and objects with the conditional writes the incident store relies
 * on (design.md, Storage: create with `If-None-Match: *`, update with `If-Match: <etag>`).
 *
 * Addressing: path style only (`/bucket/key`). The SDK's endpoint rules choose it by themselves
 * when the endpoint is an IP address, as the sandbox's 127.0.0.1 URL always is.
 * Streaming uploads arrive `aws-chunked` with a checksum trailer and are decoded here. Checksums the
 * SDK sends are not verified, and none are sent back, so the SDK has nothing to mis-validate.
 *
 * Object Lock retention (the evidence store's COMPLIANCE lock) is enforced per object as S3 does it:
 * the lock headers need a checksum on the same PutObject, GetObjectRetention reads the lock back, and a
 * version under retention cannot be deleted before its date. One simplification: the sandbox keeps
 * one version per key, so where S3 (Object Lock buckets are versioned) would stack a new version or a
 * delete marker on top of a locked one, the sandbox refuses the overwrite or the plain DELETE with
 * AccessDenied. Either way the locked bytes survive; the bucket's own Object Lock setting is not modelled.
 */
import { createHash, randomBytes } from "node:crypto";
import { fakeRequestId } from "../fake-ids.js";
import type { FaultKind } from "../faults.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "../service.js";
import type { SandboxState, StoredObject } from "../state.js";
import { accessDenied, authorize } from "./authorize.js";
import { escapeXml, type XmlObject, xmlDocument } from "./query-protocol.js";

const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const MAX_KEYS = 1000;
/** Object requests may carry these query parameters without naming another operation. */
const OBJECT_QUERY = /^(x-id|versionId|response-.+)$/;
/** S3's refusal of a change to a version under Object Lock retention. */
const LOCKED_MESSAGE = "Access Denied because object protected by object lock.";

/** An S3 error carries extra elements (Key, BucketName, Condition) beside Code and Message. */
class S3Error extends SandboxError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(status, code, message);
  }
}

interface Target {
  bucket?: string;
  key?: string;
}

/** The IAM action each operation is authorised as (and named in AccessDenied messages). */
const IAM_ACTIONS: Record<string, string> = {
  CreateBucket: "s3:CreateBucket",
  HeadBucket: "s3:ListBucket",
  ListObjectsV2: "s3:ListBucket",
  PutObject: "s3:PutObject",
  GetObject: "s3:GetObject",
  HeadObject: "s3:GetObject",
  GetObjectRetention: "s3:GetObjectRetention",
  DeleteObject: "s3:DeleteObject",
};

export const s3Service: SandboxService = {
  name: "s3",

  operation(request: SandboxRequest): string {
    const { bucket, key } = targetOf(request);
    const query = [...request.url.searchParams.keys()];
    if (!bucket) return request.method === "GET" ? "ListBuckets" : "NotImplemented";
    if (key === undefined) {
      if (request.method === "PUT" && query.length === 0) return "CreateBucket";
      if (request.method === "HEAD") return "HeadBucket";
      if (request.method === "GET" && request.url.searchParams.get("list-type") === "2")
        return "ListObjectsV2";
      return "NotImplemented";
    }
    if (query.includes("retention"))
      return request.method === "GET" ? "GetObjectRetention" : "NotImplemented";
    if (query.some((name) => !OBJECT_QUERY.test(name))) return "NotImplemented";
    if (request.method === "PUT")
      return request.headers["x-amz-copy-source"] ? "NotImplemented" : "PutObject";
    if (request.method === "GET") return "GetObject";
    if (request.method === "HEAD") return "HeadObject";
    if (request.method === "DELETE") return "DeleteObject";
    return "NotImplemented";
  },

  handle(request: SandboxRequest, operation: string, state: SandboxState): SandboxResponse {
    const action = IAM_ACTIONS[operation];
    const target = targetOf(request);
    // S3 authenticates before it looks at what was asked.
    authorize(request, state, {
      service: "s3",
      action: action ?? `s3:${operation}`,
      resource: resourceOf(target),
      dialect: "s3",
    });
    if (!action) {
      throw new S3Error(
        501,
        "NotImplemented",
        "A header or query you provided implies functionality that is not implemented.",
      );
    }
    const bucket = target.bucket ?? "";
    if (operation === "CreateBucket") return createBucket(state, bucket, request.region ?? "us-east-1");
    const objects = state.buckets.get(bucket);
    if (!objects)
      throw new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: bucket });
    const key = target.key ?? "";
    switch (operation) {
      case "HeadBucket":
        return ok(200, { "x-amz-bucket-region": request.region ?? "us-east-1" });
      case "ListObjectsV2":
        return listObjectsV2(bucket, objects, request.url.searchParams);
      case "PutObject":
        return putObject(request, objects, key);
      case "GetObject":
      case "HeadObject":
        return getObject(request, objects, key, operation === "GetObject");
      case "GetObjectRetention":
        return getObjectRetention(request, objects, key);
      default:
        return deleteObject(request, objects, key);
    }
  },

  faultError(kind: Exclude<FaultKind, "timeout">, operation: string, request?: SandboxRequest): SandboxError {
    if (kind === "throttle") return new S3Error(503, "SlowDown", "Please reduce your request rate.");
    if (kind === "server-error")
      return new S3Error(500, "InternalError", "We encountered an internal error. Please try again.");
    const action = IAM_ACTIONS[operation] ?? `s3:${operation}`;
    return accessDenied(request?.caller?.arn, action, request ? resourceOf(targetOf(request)) : "*");
  },

  render(error: SandboxError, operation: string): SandboxResponse {
    const requestId = fakeRequestId();
    const headers = { ...requestHeaders(requestId), "content-type": "application/xml" };
    // HEAD responses have no body: the SDK then names the error after the status (404 -> NotFound).
    if (operation === "HeadObject" || operation === "HeadBucket") return { status: error.status, headers };
    const fields = error instanceof S3Error ? error.fields : {};
    const extra = Object.entries(fields)
      .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
      .join("");
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(error.code)}</Code>` +
      `<Message>${escapeXml(error.message)}</Message>${extra}<RequestId>${requestId}</RequestId>` +
      `<HostId>${hostId()}</HostId></Error>`;
    return { status: error.status, headers, body };
  },
};

/** Path style: `/bucket/key`. No key means a bucket operation. */
function targetOf(request: SandboxRequest): Target {
  const match = /^\/([^/]+)(?:\/(.*))?$/.exec(request.url.pathname);
  if (!match) return {};
  const [, bucket = "", rest] = match;
  return rest ? { bucket: decode(bucket), key: decode(rest) } : { bucket: decode(bucket) };
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
}

/** S3 quotes the resource ARN in its AccessDenied messages. */
function resourceOf(target: Target): string {
  if (!target.bucket) return '"arn:aws:s3:::*"';
  return target.key === undefined
    ? `"arn:aws:s3:::${target.bucket}"`
    : `"arn:aws:s3:::${target.bucket}/${target.key}"`;
}

function createBucket(state: SandboxState, bucket: string, region: string): SandboxResponse {
  if (!BUCKET_NAME.test(bucket)) {
    throw new S3Error(400, "InvalidBucketName", "The specified bucket is not valid.", { BucketName: bucket });
  }
  // The sandbox does not track owners: every bucket is the caller's. us-east-1 answers a re-create
  // with 200 for historical reasons; every other region with 409.
  if (state.buckets.has(bucket) && region !== "us-east-1") {
    throw new S3Error(
      409,
      "BucketAlreadyOwnedByYou",
      "Your previous request to create the named bucket succeeded and you already own it.",
      { BucketName: bucket },
    );
  }
  if (!state.buckets.has(bucket)) state.buckets.set(bucket, new Map());
  return ok(200, { location: `/${bucket}` });
}

function putObject(
  request: SandboxRequest,
  objects: Map<string, StoredObject>,
  key: string,
): SandboxResponse {
  const body = uploadedBody(request);
  const retention = requestedRetention(request);
  const existing = objects.get(key);
  const ifNoneMatch = header(request, "if-none-match");
  const ifMatch = header(request, "if-match");
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== "*") {
      throw new S3Error(
        501,
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
        {
          Header: "If-None-Match",
        },
      );
    }
    if (existing) {
      throw new S3Error(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        {
          Condition: "If-None-Match",
        },
      );
    }
  }
  if (ifMatch !== undefined) {
    if (!existing) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key });
    if (!etagMatches(ifMatch, existing.etag)) {
      throw new S3Error(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        {
          Condition: "If-Match",
        },
      );
    }
  }
  if (existing && isLocked(existing)) throw new S3Error(403, "AccessDenied", LOCKED_MESSAGE);
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith("x-amz-meta-") && typeof value === "string")
      metadata[name.slice("x-amz-meta-".length)] = value;
  }
  const stored: StoredObject = {
    body,
    etag: `"${createHash("md5").update(body).digest("hex")}"`,
    contentType: header(request, "content-type") ?? "binary/octet-stream",
    lastModified: new Date(),
    metadata,
    versionId: randomBytes(24).toString("base64url"),
    ...(retention ? { retention } : {}),
  };
  objects.set(key, stored);
  return ok(200, {
    etag: stored.etag,
    "x-amz-server-side-encryption": "AES256",
    "x-amz-version-id": stored.versionId ?? "",
  });
}

/**
 * The Object Lock headers of a PutObject, validated as S3 does: both or neither, a known mode, a
 * date in the future, and a checksum of the body on the same request (Content-MD5 or any
 * x-amz-checksum-*, as a header or an aws-chunked trailer).
 */
function requestedRetention(request: SandboxRequest): StoredObject["retention"] {
  const mode = header(request, "x-amz-object-lock-mode");
  const until = header(request, "x-amz-object-lock-retain-until-date");
  if (mode === undefined && until === undefined) return undefined;
  if (mode === undefined || until === undefined) {
    throw new S3Error(
      400,
      "InvalidArgument",
      "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
    );
  }
  if (mode !== "GOVERNANCE" && mode !== "COMPLIANCE")
    throw new S3Error(400, "InvalidArgument", "Unknown wormMode directive.");
  const retainUntil = new Date(until);
  if (Number.isNaN(retainUntil.getTime()))
    throw new S3Error(400, "InvalidArgument", "The retain until date is not a valid date.");
  if (retainUntil.getTime() <= Date.now())
    throw new S3Error(400, "InvalidArgument", "The retain until date must be in the future!");
  const checksummed =
    header(request, "content-md5") !== undefined ||
    Object.keys(request.headers).some((name) => /^x-amz-checksum-(?!type$)/.test(name)) ||
    (header(request, "x-amz-trailer") ?? "").startsWith("x-amz-checksum-");
  if (!checksummed) {
    throw new S3Error(
      400,
      "InvalidRequest",
      "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    );
  }
  return { mode, retainUntil };
}

/** Neither mode can be lifted here: the sandbox has no x-amz-bypass-governance-retention. */
function isLocked(stored: StoredObject): boolean {
  return stored.retention !== undefined && stored.retention.retainUntil.getTime() > Date.now();
}

function deleteObject(
  request: SandboxRequest,
  objects: Map<string, StoredObject>,
  key: string,
): SandboxResponse {
  const stored = objects.get(key);
  const versionId = request.url.searchParams.get("versionId");
  if (stored && versionId !== null && versionId !== stored.versionId) {
    throw new S3Error(404, "NoSuchVersion", "The specified version does not exist.", {
      Key: key,
      VersionId: versionId,
    });
  }
  if (stored && isLocked(stored)) throw new S3Error(403, "AccessDenied", LOCKED_MESSAGE);
  objects.delete(key);
  return ok(204);
}

function getObjectRetention(
  request: SandboxRequest,
  objects: Map<string, StoredObject>,
  key: string,
): SandboxResponse {
  const stored = objects.get(key);
  if (!stored) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key });
  const versionId = request.url.searchParams.get("versionId");
  if (versionId !== null && versionId !== stored.versionId) {
    throw new S3Error(404, "NoSuchVersion", "The specified version does not exist.", {
      Key: key,
      VersionId: versionId,
    });
  }
  if (!stored.retention) {
    throw new S3Error(
      404,
      "NoSuchObjectLockConfiguration",
      "The specified object does not have a ObjectLock configuration",
    );
  }
  const body = xmlDocument("Retention", XMLNS, {
    Mode: stored.retention.mode,
    RetainUntilDate: stored.retention.retainUntil.toISOString(),
  });
  return {
    status: 200,
    headers: { ...requestHeaders(fakeRequestId()), "content-type": "application/xml" },
    body,
  };
}

/** The object's bytes: `aws-chunked` uploads (streams, checksum trailers) are de-chunked first. */
function uploadedBody(request: SandboxRequest): Buffer {
  const encoding = header(request, "content-encoding") ?? "";
  const payloadHash = header(request, "x-amz-content-sha256") ?? "";
  if (!encoding.includes("aws-chunked") && !payloadHash.startsWith("STREAMING-")) return request.body;
  const body = decodeAwsChunked(request.body);
  const declared = header(request, "x-amz-decoded-content-length");
  if (declared !== undefined && Number(declared) !== body.length) {
    throw new S3Error(
      400,
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length HTTP header",
    );
  }
  return body;
}

/** `<hex size>[;chunk-signature=..]\r\n<bytes>\r\n ... 0\r\n<trailers>\r\n\r\n` */
export function decodeAwsChunked(raw: Buffer): Buffer {
  const malformed = () => new S3Error(400, "IncompleteBody", "The aws-chunked request body is malformed.");
  const chunks: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", offset);
    if (lineEnd < 0) throw malformed();
    const sizeField = raw.subarray(offset, lineEnd).toString("latin1").split(";")[0] ?? "";
    const size = Number.parseInt(sizeField.trim(), 16);
    if (Number.isNaN(size)) throw malformed();
    offset = lineEnd + 2;
    if (size === 0) return Buffer.concat(chunks);
    if (offset + size > raw.length) throw malformed();
    chunks.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
}

function getObject(
  request: SandboxRequest,
  objects: Map<string, StoredObject>,
  key: string,
  withBody: boolean,
): SandboxResponse {
  const stored = objects.get(key);
  if (!stored) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key });
  const ifMatch = header(request, "if-match");
  if (ifMatch !== undefined && !etagMatches(ifMatch, stored.etag)) {
    throw new S3Error(
      412,
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold",
      {
        Condition: "If-Match",
      },
    );
  }
  const headers: Record<string, string> = {
    etag: stored.etag,
    "content-type": stored.contentType,
    "content-length": String(stored.body.length),
    "last-modified": stored.lastModified.toUTCString(),
    "accept-ranges": "bytes",
    "x-amz-server-side-encryption": "AES256",
  };
  if (stored.versionId) headers["x-amz-version-id"] = stored.versionId;
  if (stored.retention) {
    headers["x-amz-object-lock-mode"] = stored.retention.mode;
    headers["x-amz-object-lock-retain-until-date"] = stored.retention.retainUntil.toISOString();
  }
  for (const [name, value] of Object.entries(stored.metadata)) headers[`x-amz-meta-${name}`] = value;
  const ifNoneMatch = header(request, "if-none-match");
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, stored.etag)) {
    return { status: 304, headers: { ...requestHeaders(fakeRequestId()), etag: stored.etag } };
  }
  return {
    status: 200,
    headers: { ...requestHeaders(fakeRequestId()), ...headers },
    body: withBody ? stored.body : "",
  };
}

/** Keys in order; a delimiter folds keys into CommonPrefixes; the continuation token is the last entry. */
function listObjectsV2(
  bucket: string,
  objects: Map<string, StoredObject>,
  query: URLSearchParams,
): SandboxResponse {
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const startAfter = query.get("start-after") ?? "";
  const token = query.get("continuation-token");
  const maxKeysRaw = query.get("max-keys");
  const maxKeys = maxKeysRaw === null ? MAX_KEYS : Number(maxKeysRaw);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) {
    throw new S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range", {
      ArgumentName: "max-keys",
      ArgumentValue: maxKeysRaw ?? "",
    });
  }
  const resumeAfter = token === null ? startAfter : decodeToken(token);
  const urlEncode = query.get("encoding-type") === "url";
  const encode = (text: string) => (urlEncode ? encodeURIComponent(text) : text);

  const contents: XmlObject[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  let truncated = false;
  for (const key of [...objects.keys()].sort()) {
    if (!key.startsWith(prefix) || key <= resumeAfter) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const commonPrefix = cut >= 0 ? key.slice(0, cut + delimiter.length) : undefined;
    // Keys folded into a prefix already listed (on this page or an earlier one) are skipped.
    if (commonPrefix && (commonPrefixes.includes(commonPrefix) || resumeAfter.startsWith(commonPrefix)))
      continue;
    if (contents.length + commonPrefixes.length >= Math.min(maxKeys, MAX_KEYS)) {
      truncated = true;
      break;
    }
    if (commonPrefix) {
      commonPrefixes.push(commonPrefix);
      last = commonPrefix;
      continue;
    }
    const stored = objects.get(key);
    if (!stored) continue;
    contents.push({
      Key: encode(key),
      LastModified: stored.lastModified.toISOString(),
      ETag: stored.etag,
      Size: stored.body.length,
      StorageClass: "STANDARD",
    });
    last = key;
  }
  const body = xmlDocument("ListBucketResult", XMLNS, {
    Name: bucket,
    Prefix: encode(prefix),
    Delimiter: delimiter ? encode(delimiter) : undefined,
    MaxKeys: maxKeys,
    KeyCount: contents.length + commonPrefixes.length,
    IsTruncated: truncated,
    ContinuationToken: token ?? undefined,
    NextContinuationToken: truncated && last !== undefined ? encodeToken(last) : undefined,
    StartAfter: startAfter ? encode(startAfter) : undefined,
    EncodingType: urlEncode ? "url" : undefined,
    Contents: contents,
    CommonPrefixes: commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
  return {
    status: 200,
    headers: { ...requestHeaders(fakeRequestId()), "content-type": "application/xml" },
    body,
  };
}

function encodeToken(lastKey: string): string {
  return Buffer.from(lastKey, "utf8").toString("base64url");
}

function decodeToken(token: string): string {
  const decoded = Buffer.from(token, "base64url").toString("utf8");
  if (encodeToken(decoded) !== token) {
    throw new S3Error(400, "InvalidArgument", "The continuation token provided is incorrect", {
      ArgumentName: "continuation-token",
    });
  }
  return decoded;
}

/** `If-Match`/`If-None-Match` lists: quoted, possibly weak, or `*` for any current object. */
function etagMatches(condition: string, etag: string): boolean {
  const bare = etag.replace(/"/g, "");
  return condition
    .split(",")
    .map((part) => part.trim().replace(/^W\//, "").replace(/"/g, ""))
    .some((part) => part === "*" || part === bare);
}

function header(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function ok(status: number, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { ...requestHeaders(fakeRequestId()), ...headers } };
}

function requestHeaders(requestId: string): Record<string, string> {
  return {
    "x-amz-request-id": requestId.replace(/-/g, "").slice(0, 16).toUpperCase(),
    "x-amz-id-2": hostId(),
  };
}

function hostId(): string {
  return Buffer.from(fakeRequestId()).toString("base64");
}
