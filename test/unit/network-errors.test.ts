/**
 * Issue 12: the shapes in which each client hands over an endpoint it could not reach, in words a
 * person acts on. The real clients over real sockets are in test/integration/unreachable-endpoints.
 */
import { describe, expect, it } from "vitest";
import { unreachable } from "../../src/adapters/network-errors.js";

/** Node's socket error, as `net` and undici make it. */
function socketError(code: string, message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...fields });
}

describe("an unreachable endpoint, from whatever the client threw", () => {
  it.each([
    [
      "connection refused",
      socketError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.5:443", { address: "10.0.0.5", port: 443 }),
      "10.0.0.5:443",
      "connection refused",
    ],
    [
      "no such host",
      socketError("ENOTFOUND", "getaddrinfo ENOTFOUND sts.example.invalid", {
        hostname: "sts.example.invalid",
      }),
      "sts.example.invalid",
      "no such host (DNS lookup failed)",
    ],
    [
      "connect timed out",
      socketError("ETIMEDOUT", "connect ETIMEDOUT 10.0.0.5:443", { address: "10.0.0.5", port: 443 }),
      "10.0.0.5:443",
      "connection timed out",
    ],
    [
      "socket hang up",
      socketError("ECONNRESET", "socket hang up"),
      "the AWS endpoint",
      "connection dropped (socket hang up)",
    ],
    [
      "socket hang up without a code",
      new Error("socket hang up"),
      "the AWS endpoint",
      "connection dropped (socket hang up)",
    ],
    [
      "the SDK's timeout",
      Object.assign(new Error("Connection timed out after 3000 ms"), { name: "TimeoutError" }),
      "the AWS endpoint",
      "no answer in time",
    ],
  ])("%s", (_, error, host, reason) => {
    expect(unreachable(error, "the AWS endpoint")).toEqual({ host, reason });
  });

  it("Octokit's status 500 around fetch's TypeError: the URL's host, the socket's reason", () => {
    const socket = socketError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.7:443", {
      address: "10.0.0.7",
      port: 443,
    });
    const fetchFailed = Object.assign(new TypeError("fetch failed"), { cause: socket });
    const requestError = Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:443"), {
      name: "HttpError",
      status: 500,
      request: { method: "GET", url: "https://ghe.example.com/api/v3/repos/acme/api" },
      cause: fetchFailed,
    });
    expect(unreachable(requestError, "GitHub")).toEqual({
      host: "ghe.example.com",
      reason: "connection refused",
    });
  });

  it("Slack's wrapper with the original: only the host of a webhook URL, never its path", () => {
    const original = Object.assign(socketError("ENOTFOUND", "getaddrinfo ENOTFOUND hooks.slack.example"), {
      hostname: "hooks.slack.example",
      config: { url: "https://hooks.slack.example/services/T0/B0/secret-part" },
    });
    const wrapped = Object.assign(new Error("A request error occurred"), {
      code: "slack_webhook_request_error",
      original,
    });
    const found = unreachable(wrapped, "Slack");
    expect(found).toEqual({ host: "hooks.slack.example", reason: "no such host (DNS lookup failed)" });
  });

  it("an answer from the service is not a network failure", () => {
    const denied = Object.assign(new Error("User is not authorized"), {
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
    });
    expect(unreachable(denied, "the AWS endpoint")).toBeUndefined();
    expect(unreachable(Object.assign(new Error("Server Error"), { status: 500 }), "GitHub")).toBeUndefined();
  });
});
