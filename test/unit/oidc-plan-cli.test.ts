/**
 * `leak-responder plan` offline: a directory of workflows and a CloudTrail export in, the plan's
 * files out, the summary printed. What a person running it at 2 AM sees and gets.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";

const CORPUS = join(import.meta.dirname, "../fixtures/workflows");
const ACCOUNT = "123456789012";

let dir: string;
let printed: string[];
let errors: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "oidc-plan-cli-"));
  printed = [];
  errors = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.join(" ")));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

function lookupEvents(): string {
  const record = (name: string, source: string, parameters: Record<string, unknown>) => ({
    eventVersion: "1.09",
    eventID: `id-${name}`,
    eventTime: "2026-09-20T10:00:00Z",
    eventName: name,
    eventSource: `${source}.amazonaws.com`,
    awsRegion: "eu-west-1",
    sourceIPAddress: "192.0.2.10",
    userAgent: "aws-cli/2.17.0",
    recipientAccountId: ACCOUNT,
    userIdentity: {
      type: "IAMUser",
      userName: "ci-deploy",
      accountId: ACCOUNT,
      arn: `arn:aws:iam::${ACCOUNT}:user/ci-deploy`,
    },
    requestParameters: parameters,
  });
  const events = [
    record("CreateInvalidation", "cloudfront", { distributionId: "E2EXAMPLE123" }),
    record("GetBucketLocation", "s3", { bucketName: "acme-site-production" }),
  ];
  return JSON.stringify({
    Events: events.map((event) => ({
      EventId: event.eventID,
      EventName: event.eventName,
      EventTime: event.eventTime,
      EventSource: event.eventSource,
      CloudTrailEvent: JSON.stringify(event),
    })),
  });
}

describe("leak-responder plan (offline)", () => {
  it("writes the plan for a directory of workflows and a CloudTrail export, and prints the summary", async () => {
    const events = join(dir, "lookup-events.json");
    await writeFile(events, lookupEvents());
    const out = join(dir, "plan");
    const code = await main([
      "plan",
      "--repo",
      "acme/web",
      "--workflows",
      CORPUS,
      "--events",
      events,
      "--out",
      out,
      "--user",
      "ci-deploy",
      "--environments",
      "staging,production",
    ]);
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    const stdout = printed.join("\n");
    expect(stdout).toContain("## OIDC migration plan for acme/web");
    expect(stdout).toContain(`planned in account ${ACCOUNT}`);
    expect(stdout).toMatch(/Wrote \d+ files to .*plan \(start with MIGRATION\.md\)/);

    const guide = await readFile(join(out, "MIGRATION.md"), "utf8");
    expect(guide).toContain("aws iam update-access-key --user-name ci-deploy");
    const policy = JSON.parse(
      await readFile(join(out, "roles/branch-main/permissions-policy.json"), "utf8"),
    ) as {
      Statement: Array<{ Action: string[]; Resource: string | string[] }>;
    };
    expect(policy.Statement.flatMap((s) => s.Action)).toContain("cloudfront:CreateInvalidation");
    const script = await stat(join(out, "oidc-provider/create-provider.sh"));
    expect(script.mode & 0o111).not.toBe(0);
    const rewritten = await readFile(join(out, "workflows/env-workflow-level.yml"), "utf8");
    expect(rewritten).toContain("aws-actions/configure-aws-credentials@v6");

    // The generator over its own output: nothing left.
    printed = [];
    const again = await main([
      "plan",
      "--repo",
      "acme/web",
      "--workflows",
      join(out, "workflows"),
      "--out",
      join(dir, "again"),
    ]);
    expect(again).toBe(0);
    expect(printed.join("\n")).toContain("nothing to migrate");
    await expect(stat(join(dir, "again"))).rejects.toThrow();
  });

  it("prints JSON without file contents on --json", async () => {
    const code = await main([
      "plan",
      "--repo",
      "acme/web",
      "--workflows",
      CORPUS,
      "--out",
      join(dir, "p"),
      "--json",
      "--account",
      ACCOUNT,
    ]);
    expect(code).toBe(0);
    const parsed = JSON.parse(printed.join("\n")) as {
      files: string[];
      roles: unknown[];
      nothingToMigrate: boolean;
    };
    expect(parsed.files).toContain("MIGRATION.md");
    expect(parsed.roles.length).toBeGreaterThan(0);
    expect(parsed.nothingToMigrate).toBe(false);
  });

  it("refuses bad arguments with a message that says what is wrong (a usage error: exit 2)", async () => {
    expect(await main(["plan", "--repo", "not a repo", "--workflows", CORPUS])).toBe(2);
    expect(errors.at(-1)).toMatch(/--repo must be OWNER\/REPO/);
    expect(await main(["plan", "--repo", "acme/web", "--workflows", CORPUS, "--account", "12"])).toBe(2);
    expect(errors.at(-1)).toMatch(/12-digit/);
    expect(await main(["plan", "--repo", "acme/web", "--workflows", join(dir, "missing")])).toBe(2);
    expect(errors.at(-1)).toMatch(/not a readable directory/);
    const bad = join(dir, "bad.json");
    await writeFile(bad, "this is not a trail");
    expect(
      await main([
        "plan",
        "--repo",
        "acme/web",
        "--workflows",
        CORPUS,
        "--events",
        bad,
        "--out",
        join(dir, "x"),
      ]),
    ).toBe(2);
    expect(errors.at(-1)).toMatch(/Not a CloudTrail export/);
  });

  it("lists plan in the usage", async () => {
    expect(await main(["--help"])).toBe(0);
    expect(printed.join("\n")).toMatch(/plan\s+plan a repository's move from static keys to OIDC/);
  });
});
