/**
 * `osls package` run the way a deploy runs it (serverless.yml, serverless-esbuild, esbuild.config.cjs),
 * offline, into a temporary folder, and the packaged CloudFormation template read back with the
 * helpers the deploy-path tests need: a function's environment with every intrinsic resolved the way
 * CloudFormation would resolve it for these parameters (conditions evaluated, Fn::If branches chosen,
 * AWS::NoValue dropped).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

export type Json = unknown;
export type JsonObject = Record<string, Json>;

export function isObject(value: Json): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function obj(value: Json, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value;
}

export interface PackagedService {
  dir: string;
  templatePath: string;
  template: JsonObject;
  resources: JsonObject;
  remove(): Promise<void>;
}

/** Packages the service offline: no credentials, no profile, no metadata service, a dead proxy. */
export async function packageService(
  stage: string,
  params: Record<string, string> = {},
): Promise<PackagedService> {
  const workDir = await mkdtemp(join(tmpdir(), "leak-responder-osls-"));
  const dir = join(workDir, "package");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(workDir, "home"),
    CI: "1",
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
    SLS_INTERACTIVE_SETUP_DISABLE: "1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(workDir, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, "no-aws-credentials"),
    HTTP_PROXY: "http://127.0.0.1:9",
    HTTPS_PROXY: "http://127.0.0.1:9",
    // esbuild.config.cjs: the plugin's work folder, so parallel runs do not share `.esbuild/`.
    LEAK_RESPONDER_ESBUILD_WORK_DIR: relative(root, join(workDir, "esbuild")),
  };
  const args = [
    join(root, "node_modules/osls/bin/serverless.js"),
    "package",
    "--stage",
    stage,
    "--region",
    "eu-west-1",
    "--package",
    dir,
    ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
  ];
  try {
    await run(process.execPath, args, { cwd: root, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error: unknown) {
    const detail = isObject(error) ? `${String(error.stdout)}\n${String(error.stderr)}` : String(error);
    throw new Error(`osls package failed:\n${detail}`);
  }
  const templatePath = join(dir, "cloudformation-template-update-stack.json");
  const template = obj(JSON.parse(await readFile(templatePath, "utf8")), "template");
  return {
    dir,
    templatePath,
    template,
    resources: obj(template.Resources, "Resources"),
    remove: () => rm(workDir, { recursive: true, force: true }),
  };
}

/** The Lambda function resource whose handler is `functions/<name>.handler`. */
export function lambdaProps(template: JsonObject, name: string): JsonObject {
  const found = Object.values(obj(template.Resources, "Resources")).filter(
    (r) =>
      isObject(r) &&
      r.Type === "AWS::Lambda::Function" &&
      obj(r.Properties, "Properties").Handler === `functions/${name}.handler`,
  );
  if (found.length !== 1) throw new Error(`expected one function with handler functions/${name}.handler`);
  return obj(obj(found[0], name).Properties, `${name}.Properties`);
}

const NO_VALUE = Symbol("AWS::NoValue");

/** A condition's value for the parameters the template was packaged with (literal comparisons). */
function condition(template: JsonObject, name: string): boolean {
  const conditions = obj(template.Conditions ?? {}, "Conditions");
  return Boolean(resolve(template, conditions[name]));
}

/**
 * What CloudFormation would make of `value`: conditions and Fn::If evaluated, AWS::NoValue dropped,
 * a Ref to a template parameter replaced by its default; other references (resources, pseudo
 * parameters) become a placeholder naming them, since only their presence matters here.
 */
export function resolve(template: JsonObject, value: Json): Json | typeof NO_VALUE {
  if (Array.isArray(value)) {
    return value.map((item) => resolve(template, item)).filter((item) => item !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  const [key] = Object.keys(value);
  const arg = key === undefined ? undefined : value[key];
  switch (key) {
    case "Ref": {
      if (arg === "AWS::NoValue") return NO_VALUE;
      const parameter = obj(template.Parameters ?? {}, "Parameters")[String(arg)];
      return isObject(parameter) && "Default" in parameter ? parameter.Default : `<Ref ${String(arg)}>`;
    }
    case "Fn::If": {
      const [name, whenTrue, whenFalse] = arg as [string, Json, Json];
      return resolve(template, condition(template, name) ? whenTrue : whenFalse);
    }
    case "Condition":
      return condition(template, String(arg));
    case "Fn::Not":
      return !(resolve(template, (arg as Json[])[0]) as boolean);
    case "Fn::Equals": {
      const [a, b] = (arg as Json[]).map((item) => resolve(template, item));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case "Fn::And":
      return (arg as Json[]).every((item) => resolve(template, item) === true);
    case "Fn::Or":
      return (arg as Json[]).some((item) => resolve(template, item) === true);
    case "Fn::GetAtt":
    case "Fn::Sub":
    case "Fn::Join":
    case "Fn::ImportValue":
      return `<${key} ${JSON.stringify(arg)}>`;
    default: {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        const resolved = resolve(template, v);
        if (resolved !== NO_VALUE) out[k] = resolved;
      }
      return out;
    }
  }
}

/** The function's environment as the deployed function would see it. */
export function deployedEnv(template: JsonObject, name: string): Record<string, string> {
  const environment = obj(lambdaProps(template, name).Environment, `${name}.Environment`);
  const variables = obj(resolve(template, environment.Variables), `${name}.Environment.Variables`);
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)]));
}

/** The README's configuration table: each variable it documents and the functions it names. */
export interface ConfigurationRow {
  variables: string[];
  usedBy: string;
}

export async function readmeConfigurationTable(): Promise<ConfigurationRow[]> {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const section = readme.split(/^## Configuration\s*$/m)[1]?.split(/^## /m)[0] ?? "";
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [, first = "", usedBy = ""] = line.split("|").map((cell) => cell.trim());
      const variables = [...first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? "");
      return { variables, usedBy };
    });
}
