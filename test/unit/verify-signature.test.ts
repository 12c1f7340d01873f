import { describe, expect, it } from "vitest";
import { createSignatureVerifier } from "../../src/intake/verify-signature.js";
import { signBody } from "../fixtures/webhooks.js";

// facts.md (GitHub: the alert, Signatures): GitHub's documented test vector.
const GITHUB_SECRET = "It's a Secret to Everybody";
const GITHUB_BODY = "Hello, World!";
const GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

describe("verify-signature", () => {
  it("accepts GitHub's documented vector (facts.md) and hands back the exact payload", async () => {
    const verdict = await createSignatureVerifier([GITHUB_SECRET]).verify(
      Buffer.from(GITHUB_BODY),
      GITHUB_SIGNATURE,
    );
    expect(verdict).toEqual({ ok: true, payload: GITHUB_BODY });
  });

  it("refuses the vector when any single byte of the body changes", async () => {
    const verifier = createSignatureVerifier([GITHUB_SECRET]);
    const original = Buffer.from(GITHUB_BODY);
    for (let i = 0; i < original.length; i++) {
      for (const delta of [1, 0x20, 0x80]) {
        const body = Buffer.from(original);
        body[i] = ((body[i] ?? 0) + delta) & 0xff;
        const verdict = await verifier.verify(body, GITHUB_SIGNATURE);
        expect(verdict.ok, `byte ${i} + ${delta}`).toBe(false);
      }
    }
    // One byte more or less is a change too.
    expect((await verifier.verify(Buffer.from(`${GITHUB_BODY} `), GITHUB_SIGNATURE)).ok).toBe(false);
    expect((await verifier.verify(original.subarray(0, -1), GITHUB_SIGNATURE)).ok).toBe(false);
  });

  it("refuses the vector when any single character of the signature changes", async () => {
    const verifier = createSignatureVerifier([GITHUB_SECRET]);
    const hexStart = "sha256=".length;
    for (let i = hexStart; i < GITHUB_SIGNATURE.length; i++) {
      const current = GITHUB_SIGNATURE[i];
      const replacement = current === "0" ? "1" : "0";
      const signature = `${GITHUB_SIGNATURE.slice(0, i)}${replacement}${GITHUB_SIGNATURE.slice(i + 1)}`;
      expect(await verifier.verify(Buffer.from(GITHUB_BODY), signature), `position ${i}`).toEqual({
        ok: false,
        reason: "mismatch",
      });
    }
  });

  it("accepts the previous secret during a rotation, and only the configured ones", async () => {
    const body = Buffer.from('{"zen":"Keep it logically awesome."}');
    const verifier = createSignatureVerifier(["new-secret", "old-secret"]);
    expect((await verifier.verify(body, signBody(body, "new-secret"))).ok).toBe(true);
    expect((await verifier.verify(body, signBody(body, "old-secret"))).ok).toBe(true);
    expect(await verifier.verify(body, signBody(body, "someone-else"))).toEqual({
      ok: false,
      reason: "mismatch",
    });
    // Once the rotation is over, the old secret stops working.
    const afterRotation = createSignatureVerifier(["new-secret"]);
    expect((await afterRotation.verify(body, signBody(body, "old-secret"))).ok).toBe(false);
  });

  it("tells a missing header from a malformed one, without computing anything", async () => {
    const verifier = createSignatureVerifier([GITHUB_SECRET]);
    const body = Buffer.from(GITHUB_BODY);
    expect(await verifier.verify(body, undefined)).toEqual({ ok: false, reason: "missing" });
    expect(await verifier.verify(body, "")).toEqual({ ok: false, reason: "missing" });
    const hex = GITHUB_SIGNATURE.slice("sha256=".length);
    for (const malformed of [
      hex, // no algorithm prefix
      `sha1=${hex.slice(0, 40)}`, // the legacy X-Hub-Signature format
      `sha256=${hex.toUpperCase()}`,
      `sha256=${hex.slice(1)}`,
      `sha256=${hex}0`,
      ` ${GITHUB_SIGNATURE}`,
      `${GITHUB_SIGNATURE},${GITHUB_SIGNATURE}`, // a repeated header joined by a proxy
    ]) {
      expect(await verifier.verify(body, malformed), malformed).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("verifies the exact bytes: a body that is not UTF-8 is refused even with a signature over its bytes", async () => {
    const verifier = createSignatureVerifier(["s3cret"]);
    const notUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x7d]);
    expect(await verifier.verify(notUtf8, signBody(notUtf8, "s3cret"))).toEqual({
      ok: false,
      reason: "not-utf8",
    });
  });

  it("cannot be fooled by swapping a genuine U+FFFD for an invalid byte (lossy decoding would verify it)", async () => {
    const verifier = createSignatureVerifier(["s3cret"]);
    const genuine = Buffer.from('{"description":"\uFFFD"}', "utf8");
    const signature = signBody(genuine, "s3cret");
    expect((await verifier.verify(genuine, signature)).ok).toBe(true);
    // EF BF BD (U+FFFD) replaced by a lone 0xFF: decodes to the same string if decoding were lossy.
    const at = genuine.indexOf(Buffer.from([0xef, 0xbf, 0xbd]));
    const forged = Buffer.concat([genuine.subarray(0, at), Buffer.from([0xff]), genuine.subarray(at + 3)]);
    expect(forged.toString("utf8")).toBe(genuine.toString("utf8"));
    expect((await verifier.verify(forged, signature)).ok).toBe(false);
  });

  it("keeps a byte-order mark as part of the signed bytes", async () => {
    const verifier = createSignatureVerifier(["s3cret"]);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("{}")]);
    const verdict = await verifier.verify(withBom, signBody(withBom, "s3cret"));
    expect(verdict).toEqual({ ok: true, payload: "\uFEFF{}" });
    // The same signature does not cover the body without its BOM.
    expect((await verifier.verify(Buffer.from("{}"), signBody(withBom, "s3cret"))).ok).toBe(false);
  });

  it("refuses an empty body instead of throwing", async () => {
    const verifier = createSignatureVerifier(["s3cret"]);
    const empty = Buffer.alloc(0);
    expect(await verifier.verify(empty, signBody(empty, "s3cret"))).toEqual({
      ok: false,
      reason: "mismatch",
    });
  });

  it("refuses to be built without a secret", () => {
    expect(() => createSignatureVerifier([])).toThrow(/at least one webhook secret/);
    expect(() => createSignatureVerifier([""])).toThrow(/at least one webhook secret/);
  });
});
