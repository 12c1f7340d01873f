/**
 * The embedded local sandbox: one HTTP service on 127.0.0.1 (ephemeral port) that speaks the wire
 * protocols of STS, IAM, SQS, S3, CloudTrail, Account Management, Organizations, the GitHub REST API
 * and a Slack incoming webhook.
 * The real SDK clients reach it through AWS_ENDPOINT_URL_<SERVICE>, Octokit's baseUrl and the Slack
 * URL. AWS requests are routed by the service in their SigV4 credential scope, as AWS itself would
 * see them; GitHub requests live under /github, Slack under /slack.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type FaultKind, Faults } from "./faults.js";
import { CallFreeze, type FreezeMatch } from "./freeze.js";
import { SandboxError, type SandboxRequest, type SandboxResponse, type SandboxService } from "./service.js";
import { SandboxState } from "./state.js";

const SIGV4 = /Credential=([A-Z0-9]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;
/** nginx's status for a request the client closed before the answer: how an abandoned hang is recorded. */
export const CLIENT_CLOSED_REQUEST = 499;

export interface SandboxOptions {
  state?: SandboxState;
  services: SandboxService[];
  port?: number;
}

export class Sandbox {
  readonly state: SandboxState;
  readonly faults = new Faults();
  readonly #services = new Map<string, SandboxService>();
  #server: Server | undefined;
  #url = "";
  readonly #hung = new Set<ServerResponse>();
  #freeze: CallFreeze | undefined;

  constructor(options: SandboxOptions) {
    this.state = options.state ?? new SandboxState();
    for (const service of options.services) this.#services.set(service.name, service);
  }

  get url(): string {
    if (!this.#url) throw new Error("sandbox: not started");
    return this.#url;
  }

  get githubUrl(): string {
    return `${this.url}/github`;
  }

  get slackWebhookUrl(): string {
    return `${this.url}/slack/webhook`;
  }

  /** Environment that points every AWS SDK client at the sandbox (facts.md: AWS_ENDPOINT_URL). */
  awsEnv(
    credentials: { accessKeyId: string; secretAccessKey: string },
    region = "us-east-1",
  ): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    };
  }

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      this.#serve(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.#server = server;
    const address = server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${address.port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    for (const res of this.#hung) res.destroy();
    this.#hung.clear();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Crash tests: answer the n-th matching call, then hold every later request (see freeze.ts). */
  freezeAfter(match: FreezeMatch): CallFreeze {
    this.#freeze = new CallFreeze(match);
    return this.#freeze;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: SandboxRequest = {
      method: req.method ?? "GET",
      url: new URL(req.url ?? "/", "http://sandbox.local"),
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    const service = this.#route(request);
    if (!service) {
      this.#send(res, { status: 404, body: "sandbox: no service for this request" });
      return;
    }
    if (this.#freeze && !(await this.#freeze.admit())) {
      res.destroy();
      return;
    }
    let operation = "unknown";
    let response: SandboxResponse;
    // AWS services word an injected AccessDenied with the signer's ARN, as AWS does, so they may take
    // the request as a third argument; services that do not need it simply ignore it.
    const faultError: (
      kind: Exclude<FaultKind, "timeout">,
      operation: string,
      request: SandboxRequest,
    ) => SandboxError = service.faultError.bind(service);
    try {
      operation = service.operation(request);
      const latency = this.faults.latencyFor(service.name, operation);
      if (latency > 0) await sleep(latency);
      const fault = this.faults.take(service.name, operation);
      if (fault === "timeout") {
        this.#hung.add(res);
        const abandoned = await hang(res, this.faults.hangMs);
        this.#hung.delete(res);
        if (abandoned || res.destroyed) {
          // The client timed out and hung up: the call is recorded as the failure it was.
          this.state.recordCall({
            service: service.name,
            operation,
            status: CLIENT_CLOSED_REQUEST,
            startedAt,
            endedAt: Date.now(),
            ...(request.caller ? { accountId: request.caller.accountId, callerArn: request.caller.arn } : {}),
          });
          return;
        }
        throw faultError("server-error", operation, request);
      }
      if (fault) throw faultError(fault, operation, request);
      response = await service.handle(request, operation, this.state);
    } catch (error: unknown) {
      const sandboxError =
        error instanceof SandboxError
          ? error
          : new SandboxError(500, "InternalFailure", error instanceof Error ? error.message : String(error));
      response = service.render(sandboxError, operation);
    }
    const call = {
      service: service.name,
      operation,
      // A client that gave up while the call ran (its own timeout, under load) never reads the
      // answer: recorded as lost, like an injected hang, so a retry of it is not taken for a repeat.
      status: res.destroyed || res.socket?.destroyed === true ? CLIENT_CLOSED_REQUEST : response.status,
      startedAt,
      endedAt: Date.now(),
      ...(request.caller ? { accountId: request.caller.accountId, callerArn: request.caller.arn } : {}),
    };
    this.state.recordCall(call);
    if (this.#freeze && !(await this.#freeze.answer(call))) {
      res.destroy();
      return;
    }
    this.#send(res, response);
  }

  #route(request: SandboxRequest): SandboxService | undefined {
    const authorization = request.headers.authorization;
    const match = typeof authorization === "string" ? SIGV4.exec(authorization) : null;
    if (match) {
      const [, accessKeyId = "", region = "", serviceName = ""] = match;
      request.signingKeyId = accessKeyId;
      request.region = region;
      const credential = this.state.credentials.get(accessKeyId);
      if (credential && credentialUsable(this.state, credential.caller)) request.caller = credential.caller;
      return this.#services.get(serviceName);
    }
    const path = request.url.pathname;
    if (path.startsWith("/github/") || path === "/github") return this.#services.get("github");
    if (path.startsWith("/slack/")) return this.#services.get("slack");
    return undefined;
  }

  #send(res: ServerResponse, response: SandboxResponse): void {
    if (res.destroyed) return;
    res.statusCode = response.status;
    for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
    res.end(response.body ?? "");
  }
}

/** A long-term key that was deactivated no longer authenticates; expired sessions neither. */
function credentialUsable(state: SandboxState, caller: SandboxRequest["caller"]): boolean {
  if (!caller) return false;
  if (caller.expiresAt && caller.expiresAt.getTime() < Date.now()) return false;
  if (caller.kind === "user" && caller.userName) {
    const key = state.accounts
      .get(caller.accountId)
      ?.users.get(caller.userName)
      ?.accessKeys.get(caller.accessKeyId);
    return key?.status === "Active";
  }
  return true;
}

/** Holds a request for `ms`; resolves early, with true, when the client closes it first. */
function hang(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const closed = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      res.off("close", closed);
      resolve(false);
    }, ms);
    res.once("close", closed);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
