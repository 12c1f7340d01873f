import { randomBytes, randomInt } from "node:crypto";

/**
 * Fake identifiers made at run time, so nothing credential-shaped is ever committed
 * (DEVELOPERS.md: AKIA + 16 characters of A-Z2-7; secrets from a random generator).
 */
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function fakeAccessKeyId(prefix: "AKIA" | "ASIA" = "AKIA"): string {
  let id = prefix;
  for (let i = 0; i < 16; i++) id += BASE32[randomInt(BASE32.length)];
  return id;
}

export function fakeSecretAccessKey(): string {
  return randomBytes(30)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "x")
    .slice(0, 40);
}

export function fakeSessionToken(): string {
  return `FQoG${randomBytes(96).toString("base64")}`;
}

export function fakeAccountId(): string {
  let id = String(randomInt(1, 10));
  for (let i = 0; i < 11; i++) id += String(randomInt(10));
  return id;
}

export function fakeRequestId(): string {
  const hex = randomBytes(16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
