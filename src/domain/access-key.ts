import { createHash } from "node:crypto";

/**
 * facts.md (GitHub: the alert): the alert's `secret` may hold the key id alone or the id/secret pair;
 * the access key id is found with this pattern in the value and in `secret_type`, the secret half is
 * never required.
 */
const ACCESS_KEY_ID = /(AKIA|ASIA)[A-Z2-7]{16}/;
const ACCESS_KEY_ID_EXACT = /^(AKIA|ASIA)[A-Z2-7]{16}$/;

export function isAccessKeyId(value: string): boolean {
  return ACCESS_KEY_ID_EXACT.test(value);
}

/** The first access key id found in any of the values, or undefined. */
export function findAccessKeyId(...values: ReadonlyArray<string | undefined | null>): string | undefined {
  for (const value of values) {
    if (typeof value !== "string") continue;
    const match = ACCESS_KEY_ID.exec(value);
    if (match) return match[0];
  }
  return undefined;
}

/** Long-term (AKIA) or temporary (ASIA) credentials. */
export function keyKind(accessKeyId: string): "long-term" | "temporary" {
  return accessKeyId.startsWith("ASIA") ? "temporary" : "long-term";
}

/**
 * design.md (Never): at most a short SHA-256 fingerprint of a secret is kept. Twelve hex characters
 * let a responder tell two secrets apart without giving anything usable away.
 */
export function fingerprintSecret(secret: string): string {
  return `sha256:${createHash("sha256").update(secret, "utf8").digest("hex").slice(0, 12)}`;
}
