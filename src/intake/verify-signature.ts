/**
 * GitHub webhook signature check (facts.md: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw
 * body>`, verified over the raw bytes, constant-time, before any parsing).
 *
 * The check is what @octokit/webhooks' `verify` does on Node (@octokit/webhooks-methods: HMAC-SHA256
 * of the payload's UTF-8 bytes as `sha256=<hex>`, compared with `crypto.timingSafeEqual`), written
 * against node:crypto here because the library's `Webhooks` class brings its event router and
 * emitter into the intake bundle (12 KB of the 458 KB budget, issue 13) for one HMAC.
 *
 * Byte-exactness: the payload handed on is a *string*, and the HMAC must cover exactly the bytes the
 * string stands for. Decoding a body that is not valid UTF-8 would replace the bad bytes with U+FFFD,
 * so a captured delivery containing a literal U+FFFD could be replayed with that character swapped
 * for a stray 0xFF and still verify against the string. So the body is decoded strictly (`fatal`,
 * BOM kept): when decoding succeeds the string's UTF-8 encoding is exactly the received bytes; when it
 * fails the body is refused as unverifiable. GitHub only ever sends UTF-8 JSON, so nothing genuine is
 * lost.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureFailure = "missing" | "malformed" | "not-utf8" | "mismatch";

export type SignatureVerdict = { ok: true; payload: string } | { ok: false; reason: SignatureFailure };

/** GitHub sends lowercase hex; anything else cannot match the exact comparison below anyway. */
const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export interface SignatureVerifier {
  verify(body: Uint8Array, signatureHeader: string | undefined): Promise<SignatureVerdict>;
}

/**
 * `secrets` is [current, previous?] (config.ts): both are accepted so the secret can be rotated on
 * GitHub and here without a window of refused deliveries.
 */
export function createSignatureVerifier(secrets: readonly string[]): SignatureVerifier {
  const usable = secrets.filter((secret) => secret.length > 0);
  if (usable.length === 0)
    throw new Error("createSignatureVerifier: at least one webhook secret is required");
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
      // GitHub never sends an empty body, and @octokit/webhooks refuses to verify one: so does this.
      if (payload.length === 0) return { ok: false, reason: "mismatch" };
      // The header passed SIGNATURE_FORMAT, so it has the same length as every expected signature.
      const received = Buffer.from(signatureHeader);
      for (const secret of usable) {
        if (timingSafeEqual(received, Buffer.from(signatureOf(body, secret)))) return { ok: true, payload };
      }
      return { ok: false, reason: "mismatch" };
    },
  };
}

/** `sha256=<lowercase hex>` of the body's bytes (the payload string's UTF-8 encoding: see above). */
function signatureOf(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
