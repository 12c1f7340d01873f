/**
 * "A deploy cannot fail at 2 AM with AccessDenied": every AWS SDK v3 command the product code
 * constructs is granted in src/permissions.ts (which test/integration/package.test.ts holds the
 * templates to), and nothing there claims a code caller that the code never constructs. The source
 * is parsed with the TypeScript compiler, so comments and strings do not count as calls, and a
 * command whose import cannot be traced to an @aws-sdk/client-* package fails instead of slipping by.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { AWS_ACTIONS, type AwsAction } from "../../src/permissions.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Product code only: not tests, not the sandbox (it serves the APIs, it does not call them). */
const PRODUCT_DIRS = ["src", "functions"];

/** IAM service prefix of each SDK client package the product may use. */
const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  "@aws-sdk/client-iam": "iam",
  "@aws-sdk/client-sts": "sts",
  "@aws-sdk/client-cloudtrail": "cloudtrail",
  "@aws-sdk/client-account": "account",
  "@aws-sdk/client-s3": "s3",
  "@aws-sdk/client-sqs": "sqs",
  "@aws-sdk/client-ssm": "ssm",
  "@aws-sdk/client-organizations": "organizations",
};

/**
 * Product code that stands in locally for the Lambda service: the event source mapping's poller sends
 * what Lambda sends with the function's role in AWS, so its calls answer to grants whose caller is
 * "lambda-service" (and only to those).
 */
const LAMBDA_SERVICE_STAND_INS: ReadonlySet<string> = new Set(["src/adapters/local/sqs-poller.ts"]);

/**
 * Commands sent only to the embedded sandbox, never to AWS: the local stand-in for the stack builds
 * the queues serverless.yml declares (src/cli/staged-stack.ts). No deployed role needs them.
 */
const SANDBOX_ONLY: ReadonlySet<string> = new Set([
  "src/cli/staged-stack.ts:@aws-sdk/client-sqs:CreateQueueCommand",
]);

/** Commands whose IAM action is not named after the API (the Service Authorization Reference). */
const ACTION_OVERRIDES: Readonly<Record<string, string>> = {
  "@aws-sdk/client-s3:ListObjectsV2Command": "s3:ListBucket",
  "@aws-sdk/client-s3:ListObjectsCommand": "s3:ListBucket",
  "@aws-sdk/client-s3:HeadObjectCommand": "s3:GetObject",
  "@aws-sdk/client-s3:HeadBucketCommand": "s3:ListBucket",
};

/**
 * Parameters that make a command need one more IAM action ("Required permissions for Amazon S3 API
 * operations", S3 user guide: PutObject with Object Lock retention also needs s3:PutObjectRetention,
 * with a legal hold s3:PutObjectLegalHold). The evidence store's COMPLIANCE lock rides on PutObject.
 */
const PARAMETER_ACTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "@aws-sdk/client-s3:PutObjectCommand": {
    ObjectLockMode: "s3:PutObjectRetention",
    ObjectLockRetainUntilDate: "s3:PutObjectRetention",
    ObjectLockLegalHoldStatus: "s3:PutObjectLegalHold",
  },
};

/**
 * Libraries that build SDK commands on the code's behalf: module -> method -> the command it sends.
 * Powertools' SSMProvider: getParametersByName sends GetParameters (batches of ten, decrypted or not).
 */
const SENDS_ON_OUR_BEHALF: Readonly<
  Record<string, { client: `@aws-sdk/client-${string}`; methods: Readonly<Record<string, string>> }>
> = {
  "@aws-lambda-powertools/parameters/ssm": {
    client: "@aws-sdk/client-ssm",
    methods: {
      getParametersByName: "GetParametersCommand",
      getParameter: "GetParameterCommand",
      getParameters: "GetParametersByPathCommand",
      getMultiple: "GetParametersByPathCommand",
      setParameter: "PutParameterCommand",
    },
  },
};

interface CommandUse {
  file: string;
  line: number;
  client: string;
  command: string;
  /** How the code reaches it: "new" for a constructed command, else the library method. */
  via: string;
  /** The input's property names, when it is written as an object literal in the call. */
  parameters: string[];
}

interface ScanResult {
  uses: CommandUse[];
  /** `new XxxCommand(` whose import could not be traced to a known SDK client package. */
  unresolved: Array<{ file: string; line: number; text: string; reason: string }>;
}

/** Every AWS SDK command one source file sends, directly (`new XxxCommand(`) or through a library. */
function scanSource(file: string, text: string): ScanResult {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const named = new Map<string, { module: string; exported: string }>();
  const namespaces = new Map<string, string>();
  const uses: CommandUse[] = [];
  const unresolved: ScanResult["unresolved"] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;

  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const module = statement.moduleSpecifier.text;
    const bindings = statement.importClause?.namedBindings;
    if (!bindings) continue;
    if (ts.isNamespaceImport(bindings)) namespaces.set(bindings.name.text, module);
    else
      for (const element of bindings.elements) {
        named.set(element.name.text, { module, exported: (element.propertyName ?? element.name).text });
      }
  }

  const record = (node: ts.NewExpression, module: string, exported: string) => {
    if (SERVICE_PREFIX[module]) {
      const input = node.arguments?.[0];
      const parameters =
        input && ts.isObjectLiteralExpression(input)
          ? input.properties.flatMap((property) =>
              property.name && (ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))
                ? [property.name.text]
                : [],
            )
          : [];
      uses.push({ file, line: lineOf(node), client: module, command: exported, via: "new", parameters });
    } else {
      unresolved.push({
        file,
        line: lineOf(node),
        text: node.getText(source).slice(0, 80),
        reason: module.startsWith("@aws-sdk/client-")
          ? `${module} has no IAM service prefix in this test: add it to SERVICE_PREFIX`
          : `imported from ${module}, not from an @aws-sdk/client-* package: import the command from the SDK so its IAM action can be checked`,
      });
    }
  };

  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node)) {
      const callee = node.expression;
      const binding = ts.isIdentifier(callee) ? named.get(callee.text) : undefined;
      // An alias (`UpdateAccessKeyCommand as Update`) is still the SDK's command.
      if (
        binding &&
        (binding.exported.endsWith("Command") || binding.module.startsWith("@aws-sdk/client-"))
      ) {
        if (binding.exported.endsWith("Command")) record(node, binding.module, binding.exported);
      } else if (ts.isIdentifier(callee) && callee.text.endsWith("Command")) {
        if (binding) record(node, binding.module, binding.exported);
        else
          unresolved.push({
            file,
            line: lineOf(node),
            text: node.getText(source).slice(0, 80),
            reason: `${callee.text} is not imported by name in this file`,
          });
      } else if (
        ts.isPropertyAccessExpression(callee) &&
        callee.name.text.endsWith("Command") &&
        ts.isIdentifier(callee.expression)
      ) {
        const module = namespaces.get(callee.expression.text);
        if (module) record(node, module, callee.name.text);
        else
          unresolved.push({
            file,
            line: lineOf(node),
            text: node.getText(source).slice(0, 80),
            reason: `${callee.expression.text} is not a namespace import`,
          });
      }
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      for (const [module, library] of Object.entries(SENDS_ON_OUR_BEHALF)) {
        const imported =
          [...named.values()].some((b) => b.module === module) || [...namespaces.values()].includes(module);
        const command = library.methods[method];
        if (imported && command) {
          uses.push({
            file,
            line: lineOf(node),
            client: library.client,
            command,
            via: `${module} ${method}`,
            parameters: [],
          });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { uses, unresolved };
}

/** The IAM action a command needs: `<service prefix>:<Command without the suffix>`, with S3's exceptions. */
function iamActionOf(client: string, command: string): string | undefined {
  const override = ACTION_OVERRIDES[`${client}:${command}`];
  if (override) return override;
  const prefix = SERVICE_PREFIX[client];
  return prefix ? `${prefix}:${command.replace(/Command$/, "")}` : undefined;
}

/** What is wrong between the uses found and the permissions list, as messages naming file and action. */
function missingGrants(uses: readonly CommandUse[], actions: readonly AwsAction[]): string[] {
  const problems: string[] = [];
  for (const use of uses) {
    if (SANDBOX_ONLY.has(`${use.file}:${use.client}:${use.command}`)) continue;
    const action = iamActionOf(use.client, use.command);
    const where = `${use.file}:${use.line}`;
    if (!action) {
      problems.push(`${where}: ${use.command} from ${use.client} has no known IAM action`);
      continue;
    }
    const entry = actions.find((a) => a.action === action);
    if (!entry) {
      problems.push(
        `${where}: sends ${use.command} (${use.client}), but ${action} is not in src/permissions.ts`,
      );
      continue;
    }
    const caller = entry.caller;
    const standsInForLambda = caller.kind === "lambda-service" && LAMBDA_SERVICE_STAND_INS.has(use.file);
    if (
      !standsInForLambda &&
      (caller.kind !== "code" || caller.client !== use.client || caller.command !== use.command)
    ) {
      problems.push(
        `${where}: sends ${use.command} (${use.client}), but ${action} in src/permissions.ts names caller ${JSON.stringify(caller)}`,
      );
    }
    for (const parameter of use.parameters) {
      const needs = PARAMETER_ACTIONS[`${use.client}:${use.command}`]?.[parameter];
      if (!needs) continue;
      const granted = actions.find((a) => a.action === needs);
      if (!granted) {
        problems.push(
          `${where}: sends ${use.command} (${use.client}) with ${parameter}, but ${needs} is not in src/permissions.ts`,
        );
        continue;
      }
      const by = granted.caller;
      if (
        by.kind !== "code" ||
        by.client !== use.client ||
        by.command !== use.command ||
        !by.withParameters?.includes(parameter)
      ) {
        problems.push(
          `${where}: sends ${use.command} (${use.client}) with ${parameter}, but ${needs} in src/permissions.ts names caller ${JSON.stringify(by)}`,
        );
      }
    }
  }
  return problems;
}

/** Code-called grants that nothing in the code sends, or whose entry misnames how it is sent. */
function unusedGrants(uses: readonly CommandUse[], actions: readonly AwsAction[]): string[] {
  const problems: string[] = [];
  for (const entry of actions) {
    if (entry.caller.kind !== "code") continue;
    const { client, command, via, withParameters } = entry.caller;
    if (withParameters) {
      for (const parameter of withParameters) {
        const needs = PARAMETER_ACTIONS[`${client}:${command}`]?.[parameter];
        if (needs !== entry.action)
          problems.push(
            `src/permissions.ts: ${entry.action} names ${command} of ${client} with ${parameter}, which needs ${needs ?? "no further action"}`,
          );
      }
      const senders = uses.filter(
        (u) =>
          u.client === client &&
          u.command === command &&
          u.parameters.some((parameter) => withParameters.includes(parameter)),
      );
      if (senders.length === 0)
        problems.push(
          `src/permissions.ts grants ${entry.action} for ${command} (${client}) with ${withParameters.join("/")}, but no file in src/ or functions/ sends it with them`,
        );
      continue;
    }
    if (iamActionOf(client, command) !== entry.action) {
      problems.push(
        `src/permissions.ts: ${entry.action} names ${command} of ${client}, which needs ${iamActionOf(client, command) ?? "an unknown action"}`,
      );
    }
    const senders = uses.filter((u) => u.client === client && u.command === command);
    if (senders.length === 0) {
      problems.push(
        `src/permissions.ts grants ${entry.action} for ${command} (${client}), but no file in src/ or functions/ sends it`,
      );
      continue;
    }
    // Sent only through a library: the entry says so and names a file where that really happens.
    if (!senders.some((u) => u.via === "new")) {
      const file = via?.match(/\(([^)]+)\)/)?.[1];
      const library = via?.split(" ")[0];
      if (!file || !senders.some((u) => u.file === file && u.via.split(" ")[0] === library)) {
        problems.push(
          `src/permissions.ts: ${entry.action} is sent by ${senders.map((u) => `${u.file} (${u.via})`).join(", ")}, but its via field says ${JSON.stringify(via)}`,
        );
      }
    }
  }
  return problems;
}

function productFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (
        entry.name.endsWith(".ts") &&
        !entry.name.endsWith(".d.ts") &&
        !entry.name.endsWith(".test.ts")
      )
        out.push(path);
    }
  };
  for (const dir of PRODUCT_DIRS) walk(join(ROOT, dir));
  return out.sort();
}

function scanProduct(): ScanResult {
  const all: ScanResult = { uses: [], unresolved: [] };
  for (const path of productFiles()) {
    const found = scanSource(relative(ROOT, path), readFileSync(path, "utf8"));
    all.uses.push(...found.uses);
    all.unresolved.push(...found.unresolved);
  }
  return all;
}

describe("least privilege: a deploy cannot fail at 2 AM with AccessDenied", () => {
  const scan = scanProduct();

  it("finds the SDK calls it is meant to find (the scan itself works on the real tree)", () => {
    const found = new Set(scan.uses.map((u) => iamActionOf(u.client, u.command)));
    // Containment's own calls, and the follow-through's OIDC reads: if the scanner missed these it
    // would prove nothing.
    for (const action of [
      "sts:GetAccessKeyInfo",
      "iam:UpdateAccessKey",
      "iam:PutUserPolicy",
      "ssm:GetParameters",
      "iam:GetRole",
      "iam:GetOpenIDConnectProvider",
    ]) {
      expect(found, `the scan did not see ${action}`).toContain(action);
    }
    expect(scan.uses.length).toBeGreaterThanOrEqual(
      AWS_ACTIONS.filter((a) => a.caller.kind === "code").length,
    );
  });

  it("every command the code constructs is traced to an @aws-sdk/client-* import", () => {
    const messages = scan.unresolved.map((u) => `${u.file}:${u.line}: ${u.text}: ${u.reason}`);
    expect(messages, messages.join("\n")).toEqual([]);
  });

  it("every AWS action the code sends is in src/permissions.ts with a code caller naming that client and command", () => {
    const problems = missingGrants(scan.uses, AWS_ACTIONS);
    expect(problems, problems.join("\n")).toEqual([]);
  });

  it("every code-called action in src/permissions.ts is really sent by the code (nothing granted just in case)", () => {
    const problems = unusedGrants(scan.uses, AWS_ACTIONS);
    expect(problems, problems.join("\n")).toEqual([]);
  });

  describe("the checks can fail", () => {
    const synthetic = [
      'import { DeleteAccessKeyCommand, UpdateAccessKeyCommand as Update } from "@aws-sdk/client-iam";',
      'import * as s3 from "@aws-sdk/client-s3";',
      'import { RogueCommand } from "./somewhere.js";',
      "// new CreateAccessKeyCommand({}) in a comment is not a call",
      'const text = "new CreateAccessKeyCommand({})";',
      "await iam.send(new DeleteAccessKeyCommand({ UserName: 'u', AccessKeyId: 'k' }));",
      "await iam.send(new Update({ UserName: 'u', AccessKeyId: 'k', Status: 'Inactive' }));",
      "await client.send(new s3.DeleteObjectCommand({ Bucket: 'b', Key: 'k' }));",
      "await client.send(new s3.ListObjectsV2Command({ Bucket: 'b' }));",
      "await other.send(new RogueCommand({}));",
      "await client.send(new s3.PutObjectCommand({ Bucket: 'b', Key: 'k', ObjectLockLegalHoldStatus: 'ON' }));",
    ].join("\n");
    const result = scanSource("src/adapters/aws/rogue.ts", synthetic);

    it("sees aliased and namespace imports, and not comments or strings", () => {
      expect(result.uses.map((u) => `${u.client}:${u.command}:${u.line}`)).toEqual([
        "@aws-sdk/client-iam:DeleteAccessKeyCommand:6",
        "@aws-sdk/client-iam:UpdateAccessKeyCommand:7",
        "@aws-sdk/client-s3:DeleteObjectCommand:8",
        "@aws-sdk/client-s3:ListObjectsV2Command:9",
        "@aws-sdk/client-s3:PutObjectCommand:11",
      ]);
    });

    it("names the file and the missing action for a command that is not granted", () => {
      const problems = missingGrants(result.uses, AWS_ACTIONS);
      expect(problems).toEqual([
        "src/adapters/aws/rogue.ts:6: sends DeleteAccessKeyCommand (@aws-sdk/client-iam), but iam:DeleteAccessKey is not in src/permissions.ts",
        "src/adapters/aws/rogue.ts:8: sends DeleteObjectCommand (@aws-sdk/client-s3), but s3:DeleteObject is not in src/permissions.ts",
        "src/adapters/aws/rogue.ts:11: sends PutObjectCommand (@aws-sdk/client-s3) with ObjectLockLegalHoldStatus, but s3:PutObjectLegalHold is not in src/permissions.ts",
      ]);
    });

    it("lets only the local event source mapping send what the Lambda service sends, and only that", () => {
      const poller = scanSource(
        "src/adapters/local/sqs-poller.ts",
        [
          'import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";',
          "await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));",
          "await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: h }));",
        ].join("\n"),
      );
      const elsewhere = scanSource(
        "src/adapters/aws/rogue.ts",
        [
          'import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";',
          "await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));",
        ].join("\n"),
      );
      expect(missingGrants(poller.uses, AWS_ACTIONS)).toEqual([]);
      expect(missingGrants(elsewhere.uses, AWS_ACTIONS)).toEqual([
        expect.stringMatching(
          /^src\/adapters\/aws\/rogue\.ts:2: sends ReceiveMessageCommand .* names caller \{"kind":"lambda-service"\}$/,
        ),
      ]);
    });

    it("sees the evidence store's Object Lock parameters, which need s3:PutObjectRetention", () => {
      const lockingPut = scan.uses.find(
        (u) => u.command === "PutObjectCommand" && u.file === "src/adapters/aws/s3-evidence-store.ts",
      );
      expect(lockingPut?.parameters).toEqual(
        expect.arrayContaining(["ObjectLockMode", "ObjectLockRetainUntilDate"]),
      );
      const withoutRetentionGrant = AWS_ACTIONS.filter((a) => a.action !== "s3:PutObjectRetention");
      expect(missingGrants(scan.uses, withoutRetentionGrant)).toEqual([
        expect.stringMatching(
          /^src\/adapters\/aws\/s3-evidence-store\.ts:\d+: sends PutObjectCommand \(@aws-sdk\/client-s3\) with ObjectLockMode, but s3:PutObjectRetention is not in src\/permissions\.ts$/,
        ),
        expect.stringContaining("with ObjectLockRetainUntilDate, but s3:PutObjectRetention is not in"),
      ]);
    });

    it("refuses a command it cannot trace to the SDK", () => {
      expect(result.unresolved).toEqual([
        expect.objectContaining({
          file: "src/adapters/aws/rogue.ts",
          line: 10,
          reason: expect.stringContaining("./somewhere.js"),
        }),
      ]);
    });

    it("sees a command Powertools sends on the code's behalf", () => {
      const powertools = scanSource(
        "src/x.ts",
        'import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";\nawait provider.getParameter("/a");',
      );
      expect(missingGrants(powertools.uses, AWS_ACTIONS)).toEqual([
        "src/x.ts:2: sends GetParameterCommand (@aws-sdk/client-ssm), but ssm:GetParameter is not in src/permissions.ts",
      ]);
    });

    it("flags a grant with a code caller that nothing sends, naming the action", () => {
      const justInCase: AwsAction = {
        action: "iam:DeleteAccessKey",
        grantedTo: ["contain"],
        caller: { kind: "code", client: "@aws-sdk/client-iam", command: "DeleteAccessKeyCommand" },
        usedFor: "just in case",
      };
      expect(unusedGrants(scan.uses, [justInCase])).toEqual([
        "src/permissions.ts grants iam:DeleteAccessKey for DeleteAccessKeyCommand (@aws-sdk/client-iam), but no file in src/ or functions/ sends it",
      ]);
      const wrongVia: AwsAction = {
        action: "ssm:GetParameters",
        grantedTo: ["contain"],
        caller: {
          kind: "code",
          client: "@aws-sdk/client-ssm",
          command: "GetParametersCommand",
          via: "@aws-lambda-powertools/parameters/ssm (src/config.ts)",
        },
        usedFor: "a via naming the wrong file",
      };
      expect(unusedGrants(scan.uses, [wrongVia])).toEqual([
        expect.stringContaining("src/adapters/aws/ssm-secrets.ts"),
      ]);
      const legalHoldJustInCase: AwsAction = {
        action: "s3:PutObjectLegalHold",
        grantedTo: ["contain"],
        caller: {
          kind: "code",
          client: "@aws-sdk/client-s3",
          command: "PutObjectCommand",
          withParameters: ["ObjectLockLegalHoldStatus"],
        },
        usedFor: "just in case",
      };
      expect(unusedGrants(scan.uses, [legalHoldJustInCase])).toEqual([
        "src/permissions.ts grants s3:PutObjectLegalHold for PutObjectCommand (@aws-sdk/client-s3) with ObjectLockLegalHoldStatus, but no file in src/ or functions/ sends it with them",
      ]);
    });
  });
});
