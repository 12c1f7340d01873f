/**
 * Issue 11: `leak-responder respond` prints the incident to a terminal, and the summary, timeline
 * details and warnings carry text from AWS and GitHub errors and CloudTrail (user names, messages).
 * An escape sequence in that text must not reach the terminal: it could rewrite the line that says
 * whether the key is dead, or hide a link (OSC 8) behind innocent words.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { printIncident } from "../../src/cli/respond.js";
import { minimalIncident } from "../support/fakes.js";

const ESC = "\u001b";
const HOSTILE = `user${ESC}[2K${ESC}[1AKEY STILL ACTIVE ${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;\u0007 \u009b31m\u0008`;

describe("respond CLI output", () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints no terminal control characters from untrusted text", () => {
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void printed.push(String(line)));
    printIncident({
      ...minimalIncident("inc-cli", HOSTILE),
      timeline: [{ step: "key-deactivated", outcome: "failed", at: "2026-01-01T00:00:00Z", detail: HOSTILE }],
      warnings: [HOSTILE],
    });
    const output = printed.join("\n");
    expect(output).toContain("KEY STILL ACTIVE");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    expect(output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});
