/**
 * The `leak-responder` command line: the same capabilities as the functions, for a person.
 * Each command lives in its own file; this only dispatches.
 */
import packageJson from "../../package.json" with { type: "json" };
import { ConfigError, errorMessage, InvalidInputError } from "../domain/errors.js";

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./demo.js")).demoCommand,
  storm: async () => (await import("./storm.js")).stormCommand,
  serve: async () => (await import("./serve.js")).serveCommand,
  respond: async () => (await import("./respond.js")).respondCommand,
  plan: async () => (await import("./plan.js")).planCommand,
  analyze: async () => (await import("./analyze.js")).analyzeCommand,
  report: async () => (await import("./report.js")).reportCommand,
  selftest: async () => (await import("./selftest.js")).selftestCommand,
  worker: async () => (await import("./worker.js")).workerCommand,
};

function usage(): string {
  return [
    "usage: leak-responder <command> [options]",
    "",
    "  demo       run the whole story on the embedded local sandbox (--json for a summary)",
    "  storm      a storm of leaked keys on the embedded sandbox: time to contain, nothing lost (--alerts N)",
    "  serve      run the webhook intake on a local HTTP server (--port N, --sandbox)",
    "  respond    contain a key leaked somewhere GitHub cannot see (--key AKIA... [--dry-run])",
    "  plan       plan a repository's move from static keys to OIDC (--repo OWNER/REPO [--workflows DIR])",
    "  analyze    judge a CloudTrail export: who used the key, from where, what they did (--events FILE)",
    "  report     an incident's audit report (INCIDENT_ID [--format md|html|json]) or a summary (--since 30d)",
    "  selftest   after a deploy: a signed alert for the canary key, dry run first (--url URL [--live])",
    "  worker     run one deployed function against its queue, as Lambda would (--function contain)",
    "",
    "Run `leak-responder <command> --help` for a command's options, `leak-responder --version` for the version.",
  ].join("\n");
}

/** node:util parseArgs refuses unknown flags, missing values and stray arguments with these codes. */
function isParseArgsError(error: unknown): error is Error {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v") {
    console.log(`leak-responder ${packageJson.version}`);
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`leak-responder: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await load();
    return await command.run(rest);
  } catch (error: unknown) {
    // A person reads this: the message, never a stack, never a class name (and never a secret:
    // errors carry none). A wrong command line is a usage error, exit 2, like every Unix tool.
    if (isParseArgsError(error)) {
      console.error(`leak-responder ${name}: ${errorMessage(error)} (see leak-responder ${name} --help)`);
      return 2;
    }
    if (error instanceof InvalidInputError) {
      console.error(`leak-responder ${name}: ${errorMessage(error)}`);
      return 2;
    }
    const kind = error instanceof ConfigError ? "configuration: " : "";
    console.error(`leak-responder ${name}: ${kind}${errorMessage(error)}`);
    return 1;
  }
}
