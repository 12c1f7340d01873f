import { describe, expect, it } from "vitest";
import { fakeAccessKeyId, fakeAccountId } from "../../sandbox/fake-ids.js";
import { parseCredentialsExposure, repositoryIn } from "../../src/intake/aws-health-event.js";
import { parseQueuedWork } from "../../src/intake/queued-work.js";

function event(detail: Record<string, unknown>, account = fakeAccountId()) {
  return {
    version: "0",
    id: "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "AWS Health Event",
    source: "aws.health",
    account,
    time: "2026-12-05T10:00:00Z",
    region: "us-east-1",
    resources: [],
    detail: {
      eventArn:
        "arn:aws:health:global::event/RISK/AWS_RISK_CREDENTIALS_EXPOSED/AWS_RISK_CREDENTIALS_EXPOSED_1",
      service: "RISK",
      eventTypeCode: "AWS_RISK_CREDENTIALS_EXPOSED",
      eventTypeCategory: "issue",
      ...detail,
    },
  };
}

describe("AWS Health AWS_RISK_CREDENTIALS_EXPOSED events", () => {
  it("names every distinct key, the affected account of an organizational view and when AWS found them", () => {
    const [a, b] = [fakeAccessKeyId(), fakeAccessKeyId("ASIA")];
    const member = fakeAccountId();
    const exposure = parseCredentialsExposure(
      event({
        affectedAccount: member,
        startTime: "Sat, 05 Dec 2026 09:58:00 GMT",
        affectedEntities: [
          { entityValue: a },
          { entityValue: ` ${a} ` },
          { entityValue: b },
          { entityValue: "x" },
        ],
      }),
    );
    expect(exposure.accessKeyIds).toEqual([a, b]);
    expect(exposure.accountId).toBe(member);
    expect(exposure.detectedAt).toBe("2026-12-05T09:58:00.000Z");
  });

  it.each([
    ["is publicly available online at https://github.com/acme/api/blob/main/.env.", "acme/api"],
    ["found in git@github.com:octo_emu/tools.git (commit 1a2b3c)", "octo_emu/tools"],
    ["seen at https://github.com/acme/web.site.", "acme/web.site"],
    ["found in a public paste at https://pastebin.example/abc", undefined],
    ["at https://gist.github.com/someone/0123abcd", undefined],
  ])("reads the repository in %j", (text, repository) => {
    expect(repositoryIn(text)).toBe(repository);
  });

  it("refuses another event type, an event without a key, and a shape that is not Health's", () => {
    expect(() =>
      parseCredentialsExposure(event({ eventTypeCode: "AWS_EC2_OPERATIONAL_ISSUE", affectedEntities: [] })),
    ).toThrow(/not AWS_RISK_CREDENTIALS_EXPOSED/);
    expect(() => parseCredentialsExposure(event({ affectedEntities: [{ entityValue: "nothing" }] }))).toThrow(
      /names no access key id/,
    );
    expect(() => parseCredentialsExposure({ source: "aws.health", detail: {} })).toThrow(/expected shape/);
  });

  it("the queue tells a Health event from an alert job, and refuses what is neither", () => {
    const key = fakeAccessKeyId();
    expect(parseQueuedWork(JSON.stringify(event({ affectedEntities: [{ entityValue: key }] }))).kind).toBe(
      "exposure",
    );
    expect(() => parseQueuedWork(JSON.stringify({ source: "aws.s3" }))).toThrow(/alert job shape/);
    expect(() => parseQueuedWork("not json")).toThrow(/not JSON/);
  });
});
