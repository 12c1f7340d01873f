import { inspect } from "node:util";
import { fingerprintSecret } from "./access-key.js";

const REDACTED = "[secret redacted]";

/**
 * A secret value that refuses to be printed: JSON, string conversion and util.inspect all give a
 * placeholder, so a log line, an error or an incident record cannot carry it by accident
 * (design.md: never log, store, send or render the secret value). `reveal()` is the one way in.
 */
export class SecretValue {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  fingerprint(): string {
    return fingerprintSecret(this.#value);
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}
