/**
 * The timeouts every AWS SDK client of the responder gets, in the SDK's Node HTTP handler options
 * (the object form, so the code needs no direct dependency on @smithy/node-http-handler). Its own
 * module: the intake's SSM client takes it without pulling the respond side's clients into its bundle.
 */
import { DEFAULT_CALL_TIMEOUT_MS } from "../../config.js";

/**
 * Without throwOnRequestTimeout the handler only logs a warning when requestTimeout passes and keeps
 * waiting; with it the call fails with `TimeoutError`, which the SDK's retry strategy retries like a
 * 5xx and toResponderError turns into a TransientFailure once the attempts are spent.
 */
export function awsRequestHandler(callTimeoutMs: number = DEFAULT_CALL_TIMEOUT_MS) {
  return {
    // Reaching an AWS endpoint takes milliseconds; a connection that does not open is as dead as a hang.
    connectionTimeout: callTimeoutMs,
    requestTimeout: callTimeoutMs,
    throwOnRequestTimeout: true,
  };
}
