import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/domain/errors.js";
import { parseLookupEvent, parseTrail, parseTrailEvents } from "../../src/forensics/parse-trail.js";
import { asJsonLines, asLogFile, asLookupEventsJson, asSdkLookupEvents } from "../fixtures/trails/formats.js";
import {
  deepNesting,
  hugeStrings,
  junkRecords,
  prototypeKeys,
  truncated,
} from "../fixtures/trails/hostile.js";
import { attackerStory } from "../fixtures/trails/stories.js";

describe("parseTrail: every shape a responder meets gives the same events (facts.md, AWS: CloudTrail)", () => {
  const story = attackerStory();
  const fromLogFile = parseTrail(asLogFile(story.records));

  it("reads a CloudTrail log file, one event per record, sorted by time, ids kept", () => {
    expect(fromLogFile.format).toBe("cloudtrail-log-file");
    expect(fromLogFile.events).toHaveLength(story.records.length);
    const times = fromLogFile.events.map((event) => event.eventTime);
    expect(times).toEqual([...times].sort());
    const createUser = fromLogFile.events.find((event) => event.eventName === "CreateUser");
    expect(createUser).toMatchObject({
      eventSource: "iam.amazonaws.com",
      awsRegion: "us-east-1",
      sourceIPAddress: "203.0.113.45",
      userIdentity: { accessKeyId: story.cast.accessKeyId, userName: "ci-deploy", type: "IAMUser" },
      requestParameters: { userName: "svc-backup" },
    });
    expect(createUser?.eventId).toBe(story.steps.persistence?.[0]);
  });

  it("reads LookupEvents output (one page, an array of pages, the SDK's Event objects) to the same events", () => {
    const onePage = parseTrail(asLookupEventsJson(story.records));
    const pages = parseTrail(asLookupEventsJson(story.records, { pages: "array", pageSize: 7 }));
    const sdk = asSdkLookupEvents(story.records).map((event) => parseLookupEvent(event));
    expect(onePage.format).toBe("lookup-events");
    expect(pages.format).toBe("lookup-events");
    expect(onePage.events).toEqual(fromLogFile.events);
    expect(pages.events).toEqual(fromLogFile.events);
    expect(
      sdk.filter((event) => event !== undefined).sort((a, b) => (a.eventTime < b.eventTime ? -1 : 1)),
    ).toEqual(fromLogFile.events);
  });

  it("reads the snapshot's JSON lines and a plain array of records to the same events", () => {
    const lines = parseTrail(asJsonLines(story.records));
    const array = parseTrail(JSON.stringify(story.records));
    expect(lines.format).toBe("json-lines");
    expect(array.format).toBe("record-array");
    expect(lines.events).toEqual(fromLogFile.events);
    expect(array.events).toEqual(fromLogFile.events);
  });

  it("keeps one event per eventId when pages overlap or exports are concatenated, and counts the copies", () => {
    const twice = parseTrail(`${asJsonLines(story.records)}${asJsonLines(story.records.slice(0, 5))}`);
    expect(twice.events).toHaveLength(story.records.length);
    expect(twice.skipped.duplicate).toBe(5);
  });

  it("keeps the derived key of a GetSessionToken in responseElements (the pivot the analysis follows)", () => {
    const pivot = fromLogFile.events.find((event) => event.eventName === "GetSessionToken");
    expect(pivot?.responseElements).toMatchObject({ credentials: { accessKeyId: story.derivedKeyIds[0] } });
  });

  it("normalises a LookupEvents Event whose EventTime is epoch seconds and whose record has no eventTime", () => {
    const record = { ...story.records[0], eventTime: undefined };
    const event = parseLookupEvent({
      EventId: "abc",
      EventName: "GetCallerIdentity",
      EventTime: Date.parse("2026-11-02T09:00:00Z") / 1000,
      CloudTrailEvent: JSON.stringify(record),
    } as never);
    expect(event?.eventTime).toBe("2026-11-02T09:00:00.000Z");
  });

  it("skips a LookupEvents Event without its CloudTrailEvent: a denied call must not pass for a success", () => {
    expect(
      parseLookupEvent({ EventId: "x", EventName: "CreateUser", EventTime: new Date() }),
    ).toBeUndefined();
    const parsed = parseTrail(
      JSON.stringify({ Events: [{ EventId: "x", EventName: "CreateUser", EventTime: 1 }] }),
    );
    expect(parsed.events).toEqual([]);
    expect(parsed.skipped.incomplete).toBe(1);
  });

  it("returns no events for an empty file", () => {
    expect(parseTrail("  \n").format).toBe("empty");
    expect(parseTrailEvents("")).toEqual([]);
  });
});

describe("parseTrail: hostile input gives a clear error or skip counts, never a crash", () => {
  const story = attackerStory();
  const record = story.records[0];
  if (!record) throw new Error("the story has records");

  it("rejects a truncated log file with a clear error naming the problem", () => {
    const cut = truncated(JSON.stringify({ Records: story.records }, null, 2));
    expect(() => parseTrail(cut)).toThrow(InvalidInputError);
    expect(() => parseTrail(cut)).toThrow(/Not a CloudTrail export: not one JSON document/);
  });

  it("skips the broken last line of truncated JSON lines and counts it", () => {
    const lines = asJsonLines(story.records);
    const parsed = parseTrail(lines.slice(0, lines.length - 40));
    expect(parsed.events.length).toBe(story.records.length - 1);
    expect(parsed.skipped.unparseable).toBe(1);
  });

  it("rejects input over the size limit before parsing it", () => {
    const text = asLogFile(story.records);
    expect(() => parseTrail(text, { maxBytes: 1024 })).toThrow(/larger than the 1 KB limit/);
  });

  it("counts 100,000 junk records as skipped, quickly", () => {
    const started = performance.now();
    const parsed = parseTrail(junkRecords(100_000));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(parsed.events).toEqual([]);
    expect(parsed.skipped.notAnObject + parsed.skipped.incomplete).toBe(100_000);
    // 1, "x", null, true, [] are not objects; {}, a numeric eventName and "yesterday" are incomplete.
    expect(parsed.skipped.notAnObject).toBe(62_500);
    expect(parsed.skipped.incomplete).toBe(37_500);
  });

  it("never lets __proto__, constructor or prototype keys reach a prototype", () => {
    const parsed = parseTrail(prototypeKeys(record));
    expect(parsed.events).toHaveLength(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, "polluted")).toBe(false);
    const parameters = parsed.events[0]?.requestParameters ?? {};
    expect(Object.keys(parameters)).toEqual(["userName"]);
    expect(Object.getPrototypeOf(parameters)).toBe(Object.prototype);
  });

  it("cuts huge strings to a sane length and keeps the record", () => {
    const parsed = parseTrail(hugeStrings(record, 4));
    const [event] = parsed.events;
    expect(event?.userAgent?.length).toBeLessThanOrEqual(1024);
    expect(event?.sourceIPAddress?.length).toBeLessThanOrEqual(256);
    expect(event?.eventId.length).toBeLessThanOrEqual(128);
  });

  it("refuses deeply nested input with a clear error instead of overflowing the stack", () => {
    const started = performance.now();
    expect(() => parseTrail(deepNesting(record))).toThrow(/nested deeper than 64 levels/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("rejects a file of broken lines with a clear error, not an empty history", () => {
    expect(() => parseTrail("{not json\n{nor this\n")).toThrow(/Not a CloudTrail export/);
  });

  it("skips a deeply nested JSON line and keeps the others", () => {
    const deep = deepNesting(record, 10_000)
      .replace(/^\{"Records":\[/, "")
      .replace(/\]\}$/, "");
    const parsed = parseTrail(`${deep}\n${asJsonLines(story.records.slice(1, 4))}`);
    expect(parsed.events).toHaveLength(3);
    expect(parsed.skipped.unparseable).toBe(1);
  });

  it("neutralises terminal escapes and bidirectional overrides in text fields", () => {
    const parsed = parseTrail(
      JSON.stringify({
        Records: [{ ...record, userAgent: "evil\u001b[2J\u202eagent", errorCode: "X\u0007" }],
      }),
    );
    expect(parsed.events[0]?.userAgent).toBe("evil\uFFFD[2J\uFFFDagent");
    expect(parsed.events[0]?.errorCode).toBe("X\uFFFD");
  });

  it("skips records whose time, name or source is unusable", () => {
    const bad = [
      { ...record, eventTime: "last Tuesday" },
      { ...record, eventName: "<script>" },
      { ...record, eventSource: 7 },
    ];
    const parsed = parseTrail(JSON.stringify({ Records: bad }));
    expect(parsed.events).toEqual([]);
    expect(parsed.skipped.incomplete).toBe(3);
  });
});
