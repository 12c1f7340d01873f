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
  override readonly name = "PermanentFailure";
  readonly code: string;
  constructor(message: string, code: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: false });
    this.code = code;
  }
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
