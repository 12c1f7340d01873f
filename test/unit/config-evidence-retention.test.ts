/**
 * Issue 11: EVIDENCE_RETENTION_DAYS, how long each evidence object stays under an S3 COMPLIANCE lock.
 * Nobody can shorten such a lock, so a bad value must stop the start-up with the variable named.
 */
import { describe, expect, it } from "vitest";
import { storeFromEnv } from "../../src/adapters/incident-stores.js";
import { loadRespondConfig } from "../../src/config.js";
import { ConfigError } from "../../src/domain/errors.js";

const token = `test-${Math.random().toString(36).slice(2)}`;

function inBucket(extra: Record<string, string> = {}) {
  return loadRespondConfig({ GITHUB_TOKEN: token, INCIDENT_BUCKET: "example-incidents", ...extra });
}

describe("EVIDENCE_RETENTION_DAYS", () => {
  it("locks evidence for a year unless told otherwise, and takes the value it is given", () => {
    expect(inBucket().store).toEqual({ kind: "s3", bucket: "example-incidents", evidenceRetentionDays: 365 });
    expect(inBucket({ EVIDENCE_RETENTION_DAYS: "2555" }).store).toMatchObject({
      evidenceRetentionDays: 2555,
    });
  });

  it.each([
    ["0", /positive whole number/],
    ["-5", /positive whole number/],
    ["a year", /positive whole number/],
    ["36500", /at most 3650/],
  ])("refuses %s at start-up, naming the variable", (value, why) => {
    const attempt = () => inBucket({ EVIDENCE_RETENTION_DAYS: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/EVIDENCE_RETENTION_DAYS/);
    expect(attempt).toThrow(why);
  });

  it("is validated for the CLI's store too (leak-responder report --store in a bucket)", () => {
    expect(storeFromEnv({ INCIDENT_BUCKET: "example-incidents" })).toMatchObject({
      evidenceRetentionDays: 365,
    });
    expect(() =>
      storeFromEnv({ INCIDENT_BUCKET: "example-incidents", EVIDENCE_RETENTION_DAYS: "99999" }),
    ).toThrow(/EVIDENCE_RETENTION_DAYS must be at most 3650/);
  });

  it("means nothing to a local folder, which cannot lock", () => {
    expect(loadRespondConfig({ GITHUB_TOKEN: token, INCIDENT_DIR: "/tmp/x" }).store).toEqual({
      kind: "file",
      dir: "/tmp/x",
    });
  });
});
