/**
 * GitHub webhook signature check (facts.md: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw
 * body>`, verified over the raw bytes, constant-time, before any parsing).
 *
 * Byte-exactness: @octokit/webhooks verifies a *string* and HMACs its UTF-8 encoding. Decoding a body
 * that is not valid UTF-8 would replace the bad bytes with U+FFFD, so the HMAC would cover different
 * bytes than the ones received: a captured delivery containing a literal U+FFFD could then be replayed
 * with that character swapped for a stray 0xFF and still verify. So the body is decoded strictly
 * (`fatal`, BOM kept): when decoding succeeds the string's UTF-8 encoding is exactly the received bytes;
 * when it fails the body is refused as unverifiable. GitHub only ever sends UTF-8 JSON, so nothing
 * genuine is lost.
 */
import { Webhooks } from "@octokit/webhooks";

export type SignatureFailure = "missing" | "malformed" | "not-utf8" | "mismatch";

export type SignatureVerdict = { ok: true; payload: string } | { ok: false; reason: SignatureFailure };

/** GitHub sends lowercase hex; anything else cannot match the library's exact comparison anyway. */
const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export interface SignatureVerifier {
  verify(body: Uint8Array, signatureHeader: string | undefined): Promise<SignatureVerdict>;
}

/**
 * `secrets` is [current, previous?] (config.ts): both are accepted so the secret can be rotated on
 * GitHub and here without a window of refused deliveries.
 *
 * One `Webhooks` instance per secret, tried in order: in @octokit/webhooks 14.2 `webhooks.verify` is
 * bound to `secret` alone and ignores `additionalSecrets` (only `verifyAndReceive` falls back), so
 * `new Webhooks({ secret, additionalSecrets }).verify(...)` would silently refuse the previous secret.
 */
export function createSignatureVerifier(secrets: readonly string[]): SignatureVerifier {
  const usable = secrets.filter((secret) => secret.length > 0);
  if (usable.length === 0)
    throw new Error("createSignatureVerifier: at least one webhook secret is required");
  const verifiers = usable.map((secret) => new Webhooks({ secret }));
  return {
    async verify(body, signatureHeader) {
      if (signatureHeader === undefined || signatureHeader.length === 0)
        return { ok: false, reason: "missing" };
      if (!SIGNATURE_FORMAT.test(signatureHeader)) return { ok: false, reason: "malformed" };
      let payload: string;
      try {
        payload = strictUtf8.decode(body);
      } catch {
        return { ok: false, reason: "not-utf8" };
      }
      // The library refuses an empty payload with a TypeError; GitHub never sends one.
      if (payload.length === 0) return { ok: false, reason: "mismatch" };
      for (const webhooks of verifiers) {
        if (await webhooks.verify(payload, signatureHeader)) return { ok: true, payload };
      }
      return { ok: false, reason: "mismatch" };
    },
  };
}
