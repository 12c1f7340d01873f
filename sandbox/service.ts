/**
 * The contract between the sandbox's HTTP server and each simulated service (sandbox/aws/*.ts,
 * sandbox/github.ts, sandbox/slack.ts). A service names the operation a request asks for, handles
 * it against the shared state, and renders errors in its own protocol's shape.
 */
import type { FaultKind } from "./faults.js";
import type { Caller, SandboxState } from "./state.js";

export interface SandboxRequest {
  method: string;
  url: URL;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** AWS requests: the signer, resolved from the SigV4 access key id (undefined if unknown). */
  caller?: Caller;
  /** AWS requests: the region from the SigV4 credential scope. */
  region?: string;
  /** AWS requests: the access key id from the SigV4 Authorization header, known or not. */
  signingKeyId?: string;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A protocol-level error; each service renders it in its wire format. */
export class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly senderFault = status < 500,
  ) {
    super(message);
  }
}

export interface SandboxService {
  readonly name: string;
  /** The operation the request asks for (for faults, latency and the call log). */
  operation(request: SandboxRequest): string;
  handle(
    request: SandboxRequest,
    operation: string,
    state: SandboxState,
  ): Promise<SandboxResponse> | SandboxResponse;
  /** How this service says "no" for an injected fault. */
  faultError(kind: Exclude<FaultKind, "timeout">, operation: string): SandboxError;
  render(error: SandboxError, operation: string): SandboxResponse;
}
