/**
 * The responder's error hierarchy. Adapters translate SDK errors into these; the edges (Lambda
 * handlers, CLI, Slack wording) decide what a person sees. `retryable` is what the queue acts on.
 */
export class ResponderError extends Error {
  override readonly name: string = "ResponderError";
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/** Configuration is missing or malformed: names the variable. */
export class ConfigError extends ResponderError {
  override readonly name = "ConfigError";
}

/** A delivery or message that does not have the expected shape. Never retryable. */
export class InvalidInputError extends ResponderError {
  override readonly name = "InvalidInputError";
}

/** A dependency said no (AccessDenied, NotFound): retrying will not help, a person must act. */
export class PermanentFailure extends ResponderError {
  override readonly name: string = "PermanentFailure";
  readonly code: string;
  constructor(message: string, code: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: false });
    this.code = code;
  }
}

/**
 * The message itself is the problem, so nothing a person fixes around it makes it succeed: a task
 * naming an incident that does not exist, or content the receiver refuses as such (a Slack message
 * Slack cannot render). The stages' queues dead-letter it at once (poison-messages.ts) rather than
 * hold their message group through every retry. A refusal that a fix can lift (AccessDenied, a
 * revoked token) is a plain PermanentFailure: retried, then dead-lettered by SQS, then redriven.
 */
export class UnprocessableMessage extends PermanentFailure {
  override readonly name = "UnprocessableMessage";
}

/** A dependency is throttling, timing out or failing with 5xx: the queue retries the message. */
export class TransientFailure extends ResponderError {
  override readonly name = "TransientFailure";
  readonly code: string;
  constructor(message: string, code: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
    this.code = code;
  }
}

/** Another run owns this incident right now (conditional write lost): not an error for the caller. */
export class ConflictError extends ResponderError {
  override readonly name = "ConflictError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isRetryable(error: unknown): boolean {
  return error instanceof ResponderError ? error.retryable : true;
}
