import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";

const COMMANDS = ["demo", "storm", "serve", "respond", "plan", "analyze", "report", "selftest"];
/** Names from inside the program a person should never have to read. */
const INTERNAL_NAMES =
  /\b(ZodError|TypeError|RangeError|InvalidInputError|ConfigError|PermanentFailure|TransientFailure|ERR_[A-Z_]+)\b/;

let out: string[];
let err: string[];

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" ")));
});
afterEach(() => vi.restoreAllMocks());

describe("leak-responder's command line, the same rules everywhere", () => {
  it.each(COMMANDS)(
    "%s: an unknown flag is a usage error (exit 2) that points to --help",
    async (command) => {
      expect(await main([command, "--bogus-flag"])).toBe(2);
      const text = err.join("\n");
      expect(text).toMatch(/--bogus-flag/);
      expect(text).toMatch(/--help/);
      expect(text).not.toMatch(INTERNAL_NAMES);
    },
  );

  it.each([
    ["respond", []],
    ["plan", []],
    ["plan", ["--repo", "not a repo"]],
    ["storm", ["--alerts", "0"]],
    ["selftest", []],
    ["selftest", ["--url", "not a url"]],
    ["selftest", ["--url", "https://intake.example.test/webhooks/github", "--live", "--dry-run"]],
  ])(
    "%s %j: a missing or malformed argument is a usage error (exit 2) in plain words",
    async (command, args) => {
      expect(await main([command, ...args])).toBe(2);
      expect(err.join("\n")).not.toMatch(INTERNAL_NAMES);
    },
  );

  it("an unknown command is a usage error (exit 2)", async () => {
    expect(await main(["no-such-command"])).toBe(2);
  });

  it("--version prints the package's version and exits 0", async () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(await main(["--version"])).toBe(0);
    expect(out.join("\n").trim()).toBe(`leak-responder ${version}`);
  });
});
