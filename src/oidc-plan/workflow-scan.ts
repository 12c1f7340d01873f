/**
 * Finds static cloud credentials in a GitHub Actions workflow, and what decides which OIDC `sub` a
 * job will present: the workflow's triggers (with branch and tag filters), the job's environment,
 * matrix values, `if:` condition and reusable-workflow wiring. Pure: text in, findings out. Never
 * records a credential's value, only where it is and which secret names feed it.
 */
import type { Pair, YAMLMap } from "yaml";
import { ecrDockerLoginWithRole } from "./ecr-docker-login.js";
import { redactCredentials } from "./redact-credentials.js";
import { secretNamesIn, type WorkflowFile, WorkflowRefused, WorkflowSource } from "./workflow-yaml.js";

export type Cloud = "aws" | "azure" | "gcp";

export type FindingKind =
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN in an env block. */
  | "aws-env"
  /** aws-actions/configure-aws-credentials fed aws-access-key-id / aws-secret-access-key. */
  | "aws-action-inputs"
  /** Key inputs passed with `with:` to another action (a marketplace or local composite action). */
  | "aws-input-to-action"
  /** A run line that configures a key: `aws configure set aws_access_key_id`, `export`, `>> $GITHUB_ENV`. */
  | "aws-run-line"
  /** Key secrets passed to a reusable workflow with `secrets:`. */
  | "aws-reusable-secret"
  /** Key secrets declared under `on.workflow_call.secrets`. */
  | "aws-declared-secret"
  /** Any other use of a key secret (e.g. interpolated into a script): a person must edit it. */
  | "aws-secret-reference"
  /** azure/login with `creds` (a client secret) or ARM_/AZURE_CLIENT_SECRET in env. */
  | "azure-client-secret"
  /** google-github-actions/auth `credentials_json`, setup-gcloud `service_account_key`, key JSON in env. */
  | "gcp-json-key";

export interface StaticCredentialFinding {
  kind: FindingKind;
  cloud: Cloud;
  path: string;
  /** The job id; absent for workflow-level env and `on.workflow_call` declarations. */
  job?: string;
  stepIndex?: number;
  /** The step's name, or its `uses`, or "step N". */
  step?: string;
  level: "workflow" | "job" | "step";
  /** The env variable, input or secret name. */
  name: string;
  /** 1-based line in the workflow file. */
  line: number;
  /** True when the value is written into the file rather than referenced from secrets. */
  literal: boolean;
  secretNames: string[];
  /** True when the rewrite removes it; false when a person has to. */
  autoFix: boolean;
  note?: string;
}

export interface PushFilter {
  branches: string[] | "any" | "none";
  tags: string[] | "any" | "none";
}

export interface WorkflowInput {
  type?: string;
  options: string[];
}

export interface WorkflowTriggers {
  events: string[];
  push?: PushFilter;
  dispatchInputs: Record<string, WorkflowInput>;
  callInputs: Record<string, WorkflowInput>;
}

export interface ScannedStep {
  index: number;
  label: string;
  uses?: string;
  id?: string;
  line: number;
  /** The script, for inferring AWS calls; never rendered (it may hold a hardcoded key). */
  run?: string;
  /** Inputs and env values that hold no secret or credential, for resolving names in commands. */
  with: Record<string, string>;
  env: Record<string, string>;
  /** The step looks like it talks to AWS (aws CLI, CDK, Terraform, an aws-actions action...). */
  awsLike: boolean;
}

export interface ReusableCall {
  uses: string;
  /** `.github/workflows/x.yml` when the called workflow lives in this repository. */
  localPath?: string;
  with: Record<string, string>;
  secretsInherit: boolean;
}

export interface ScannedJob {
  id: string;
  line: number;
  /** Job-level env values that hold no secret or credential. */
  env: Record<string, string>;
  environment?: { literal?: string; expression?: string };
  /** Literal matrix values by key (`include` entries included). */
  matrix: Record<string, string[]>;
  ifCondition?: string;
  reusable?: ReusableCall;
  steps: ScannedStep[];
  /** Which clouds' static credentials reach this job. */
  clouds: Cloud[];
}

/** Which part of a key pair a secret is used as, named like configure-aws-credentials' outputs. */
export type KeyPart = "aws-access-key-id" | "aws-secret-access-key" | "aws-session-token";
/**
 * Secrets used as AWS keys, by upper-case name (GitHub secret names are case-insensitive); a
 * called workflow's declared `workflow_call` secret is its own parameter, keyed `path|NAME`.
 */
export type KeySecrets = ReadonlyMap<string, KeyPart>;

/** The workflow a `secrets.X` is read in, and the secrets it declares as `workflow_call` parameters. */
export interface SecretScope {
  path: string;
  declared: ReadonlySet<string>;
}

export interface ScannedWorkflow {
  path: string;
  name?: string;
  /** Secrets this workflow uses as an AWS key (in key env, key inputs, key run lines), by use. */
  keySecrets: Record<string, KeyPart>;
  /** Workflow-level env values that hold no secret or credential. */
  env: Record<string, string>;
  triggers: WorkflowTriggers;
  jobs: ScannedJob[];
  findings: StaticCredentialFinding[];
  /** Set when the file was refused or is not a workflow; nothing else is then known. */
  error?: string;
}

export const AWS_KEY_ENV = new Set(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]);
export const AWS_ACTION_KEY_INPUTS = new Set([
  "aws-access-key-id",
  "aws-secret-access-key",
  "aws-session-token",
]);
/** Input names third-party actions use for keys: aws_access_key_id, aws-secret-key, aws_session_token... */
const AWS_KEY_INPUT = /^aws[-_]?(access[-_]?key([-_]?id)?|secret([-_]?access)?[-_]?key|session[-_]?token)$/i;
const AZURE_SECRET_ENV = new Set(["ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"]);
const GCP_KEY_ENV = new Set([
  "GOOGLE_CREDENTIALS",
  "GOOGLE_APPLICATION_CREDENTIALS_JSON",
  "GCP_SA_KEY",
  "GCLOUD_SERVICE_KEY",
]);

/**
 * Values that are not credentials: LocalStack, moto and MinIO take any key, and tests pass words
 * like these. A literal only: a reference to a secret is always a credential.
 */
const PLACEHOLDER_VALUE =
  "(?:test(?:ing)?|dummy|fake|mock(?:ed)?|foo(?:bar)?|bar|x+|none|null|localstack|moto|minio(?:admin)?|example|placeholder|changeme|unused|not-?used|ignored?)(?:[-_]?(?:access|secret|session|key|id|token|value))*";
const PLACEHOLDER = new RegExp(`^${PLACEHOLDER_VALUE}$`, "i");

function isPlaceholderCredential(value: string): boolean {
  return PLACEHOLDER.test(value.trim().replace(/^(["'])(.*)\1$/, "$2"));
}

/** What follows `NAME=` when a line blanks a key or sets a placeholder: not a credential. */
const NOT_A_KEY = `(?!["']{0,3}\\s*(?:$|>>|[;&|#])|["']?${PLACEHOLDER_VALUE}["']?(?:\\s|$|;|&|>))`;

/** A run line that puts a key into the CLI's config or the environment (not one that blanks it). */
export const AWS_RUN_LINE = new RegExp(
  String.raw`(\baws\s+configure\s+set\s+(?:[\w.-]+\.)?(?:aws_access_key_id|aws_secret_access_key|aws_session_token)\b)|(^\s*export\s+AWS_(?:ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)=${NOT_A_KEY})|(\bAWS_(?:ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)=${NOT_A_KEY}.*>>\s*"?\$\{?GITHUB_ENV)`,
);

const ACCESS_KEY_ID_IN_TEXT = /(AKIA|ASIA)[A-Z2-7]{16}/;

/** `AWS_SECRET_ACCESS_KEY`, `aws-session-token`, `aws_access_key_id`: the part a key name is. */
export function keyPart(name: string): KeyPart {
  if (/session/i.test(name)) return "aws-session-token";
  if (/secret/i.test(name)) return "aws-secret-access-key";
  return "aws-access-key-id";
}

/** Where a secret name is recorded in `KeySecrets`. */
export function secretKey(name: string, scope: SecretScope): string {
  const upper = name.toUpperCase();
  return scope.declared.has(upper) ? `${scope.path}|${upper}` : upper;
}

/** A secret used as a key somewhere in the repository's workflows, or named like one. */
export function isKeySecret(name: string, known: KeySecrets, scope: SecretScope): boolean {
  return isAwsKeySecretName(name) || known.has(secretKey(name, scope));
}

/** A secret a caller passes to `calledPath` under `name`, which the called workflow uses as a key. */
export function isKeyParameter(name: string, known: KeySecrets, calledPath: string | undefined): boolean {
  return (
    isAwsKeySecretName(name) || (calledPath !== undefined && known.has(`${calledPath}|${name.toUpperCase()}`))
  );
}

/** The upper-case names under `on.workflow_call.secrets`. */
/** The `on.workflow_call.secrets` entries of a reusable workflow. */
function callSecretPairs(source: WorkflowSource) {
  const on = source.map(source.pair(source.root, "on")?.value);
  return source.pairs(source.map(source.get(source.map(source.get(on, "workflow_call")), "secrets")));
}

export function declaredSecretNames(source: WorkflowSource): Set<string> {
  return new Set(callSecretPairs(source).map((pair) => (source.keyOf(pair) ?? "").toUpperCase()));
}

export function isAwsKeySecretName(name: string): boolean {
  return (
    /AWS/i.test(name) && /(KEY|SECRET|TOKEN)/i.test(name) && !/(ARN|KMS|REGION|ROLE|ACCOUNT)/i.test(name)
  );
}

/** A value that carries a long-lived credential: a secret or variable reference, or a literal. */
export function isStaticSource(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (/\$\{\{[^}]*\b(secrets|vars)\s*[.[]/.test(value)) return true;
  return !value.includes("${{") && value.trim().length > 0 && !isPlaceholderCredential(value);
}

export function isConfigureAwsCredentials(uses: string | undefined): boolean {
  return uses !== undefined && /^aws-actions\/configure-aws-credentials@/i.test(uses.trim());
}

const AWS_LIKE_RUN =
  /(^|[\s;&|(])(aws|cdk|sam|terraform|terragrunt|pulumi|serverless|sls|copilot|eb|cdktf|chalice|zappa)\s|s3:\/\/|\bdeploy\b/m;

function isAwsLike(run: string | undefined, uses: string | undefined, stepText: string[]): boolean {
  if (uses && /^(aws-actions\/|\.\/)/i.test(uses)) return true;
  if (run && AWS_LIKE_RUN.test(run)) return true;
  return stepText.some((value) => /\bAWS_|secrets\.[A-Z_]*AWS/i.test(value));
}

/** Values safe to keep for name resolution: no secret reference, no credential-named key. */
function plainValues(source: WorkflowSource, map: YAMLMap | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of source.pairs(map)) {
    const key = source.keyOf(pair);
    const value = source.string(pair.value);
    if (!key || value === undefined) continue;
    if (/secrets\s*[.[]/.test(value) || /(KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL|CREDS)/i.test(key)) continue;
    out[key] = value;
  }
  return out;
}

function label(source: WorkflowSource, step: YAMLMap | undefined, index: number): string {
  return (
    source.string(source.get(step, "name")) ?? source.string(source.get(step, "uses")) ?? `step ${index + 1}`
  );
}

function parseInputs(source: WorkflowSource, node: unknown): Record<string, WorkflowInput> {
  const inputs: Record<string, WorkflowInput> = {};
  for (const pair of source.pairs(source.map(node))) {
    const name = source.keyOf(pair);
    if (!name) continue;
    const spec = source.map(pair.value);
    const type = source.string(source.get(spec, "type"));
    inputs[name] = {
      ...(type === undefined ? {} : { type }),
      options: source.strings(source.get(spec, "options")),
    };
  }
  return inputs;
}

function refFilter(source: WorkflowSource, spec: YAMLMap | undefined, include: string, ignore: string) {
  const listed = source.pair(spec, include);
  if (listed) return { defined: true, value: source.strings(listed.value) as string[] | "any" };
  if (source.pair(spec, ignore)) return { defined: true, value: "any" as const };
  return { defined: false, value: "any" as const };
}

/** GitHub's rule: defining only branch filters means tags do not trigger, and the reverse. */
function pushFilter(source: WorkflowSource, spec: YAMLMap | undefined): PushFilter {
  const branches = refFilter(source, spec, "branches", "branches-ignore");
  const tags = refFilter(source, spec, "tags", "tags-ignore");
  if (branches.defined && !tags.defined) return { branches: branches.value, tags: "none" };
  if (tags.defined && !branches.defined) return { branches: "none", tags: tags.value };
  return { branches: branches.value, tags: tags.value };
}

export function parseTriggers(source: WorkflowSource): WorkflowTriggers {
  const on = source.resolve(source.pair(source.root, "on")?.value);
  const triggers: WorkflowTriggers = { events: [], dispatchInputs: {}, callInputs: {} };
  const specs = new Map<string, YAMLMap | undefined>();
  const onMap = source.map(on);
  if (onMap) {
    for (const pair of source.pairs(onMap)) {
      const event = source.keyOf(pair);
      if (event) specs.set(event, source.map(pair.value));
    }
  } else {
    for (const event of source.strings(on)) specs.set(event, undefined);
  }
  for (const [event, spec] of specs) {
    triggers.events.push(event);
    if (event === "push") triggers.push = pushFilter(source, spec);
    if (event === "workflow_dispatch")
      triggers.dispatchInputs = parseInputs(source, source.get(spec, "inputs"));
    if (event === "workflow_call") triggers.callInputs = parseInputs(source, source.get(spec, "inputs"));
  }
  return triggers;
}

function matrixValues(source: WorkflowSource, job: YAMLMap): Record<string, string[]> {
  const matrix = source.map(source.get(source.map(source.get(job, "strategy")), "matrix"));
  const values: Record<string, string[]> = {};
  const add = (key: string, items: string[]) => {
    const list = values[key] ?? [];
    for (const item of items) if (!list.includes(item)) list.push(item);
    values[key] = list;
  };
  for (const pair of source.pairs(matrix)) {
    const key = source.keyOf(pair);
    if (!key || key === "exclude") continue;
    if (key === "include") {
      for (const entry of source.seq(pair.value)?.items ?? []) {
        for (const inner of source.pairs(source.map(entry))) {
          const innerKey = source.keyOf(inner);
          const value = source.string(inner.value);
          if (innerKey && value !== undefined) add(innerKey, [value]);
        }
      }
      continue;
    }
    add(key, source.strings(pair.value));
  }
  return values;
}

function localWorkflowPath(uses: string): string | undefined {
  const match = /^\.\/(\.github\/workflows\/[^@\s]+\.ya?ml)$/.exec(uses.trim());
  return match?.[1];
}

class Scanner {
  readonly findings: StaticCredentialFinding[] = [];
  readonly keySecrets: Record<string, KeyPart> = {};
  readonly scope: SecretScope;
  constructor(
    readonly source: WorkflowSource,
    readonly known: KeySecrets,
  ) {
    this.scope = { path: source.path, declared: declaredSecretNames(source) };
  }

  isKeySecret = (name: string): boolean => isKeySecret(name, this.known, this.scope);

  /** The secrets in `value` are used as this part of a key: other uses of them are key uses too. */
  usedAsKey(value: string | undefined, part: KeyPart): void {
    for (const name of secretNamesIn(value ?? "")) this.keySecrets[secretKey(name, this.scope)] ??= part;
  }

  /** Names and step labels are workflow text: a literal key in them is redacted here, once for every output. */
  add(finding: Omit<StaticCredentialFinding, "path">): void {
    this.findings.push({
      path: this.source.path,
      ...finding,
      name: redactCredentials(finding.name),
      ...(finding.step === undefined ? {} : { step: redactCredentials(finding.step) }),
    });
  }

  /** Env entries at any level. Returns the clouds whose credentials the block carries. */
  env(
    map: YAMLMap | undefined,
    where: { level: "workflow" | "job" | "step"; job?: string; stepIndex?: number; step?: string },
  ): Set<Cloud> {
    const clouds = new Set<Cloud>();
    const { source } = this;
    for (const pair of source.pairs(map)) {
      const name = source.keyOf(pair) ?? "";
      const value = source.string(pair.value);
      const base = {
        ...where,
        name,
        line: source.lineOfNode(pair.key),
        literal: isStaticSource(value) && !(value ?? "").includes("${{"),
        secretNames: secretNamesIn(value ?? ""),
      };
      if (AWS_KEY_ENV.has(name) && isStaticSource(value)) {
        this.usedAsKey(value, keyPart(name));
        this.add({ kind: "aws-env", cloud: "aws", autoFix: true, ...base });
        clouds.add("aws");
      } else if (AZURE_SECRET_ENV.has(name) && isStaticSource(value)) {
        this.add({ kind: "azure-client-secret", cloud: "azure", autoFix: true, ...base });
        clouds.add("azure");
      } else if (GCP_KEY_ENV.has(name) && isStaticSource(value)) {
        this.add({
          kind: "gcp-json-key",
          cloud: "gcp",
          autoFix: false,
          note: "a service account key in env: remove it once the job authenticates with google-github-actions/auth",
          ...base,
        });
        clouds.add("gcp");
      } else if (base.secretNames.some(this.isKeySecret)) {
        this.add({
          kind: "aws-secret-reference",
          cloud: "aws",
          autoFix: false,
          note: `${name} carries an AWS key secret under another name: change what reads it`,
          ...base,
        });
        clouds.add("aws");
      }
    }
    return clouds;
  }

  step(step: YAMLMap, jobId: string, index: number): { clouds: Set<Cloud>; scanned: ScannedStep } {
    const { source } = this;
    const clouds = new Set<Cloud>();
    const name = label(source, step, index);
    const where = { level: "step" as const, job: jobId, stepIndex: index, step: name };
    const uses = source.string(source.get(step, "uses"));
    const run = source.string(source.get(step, "run"));
    const withMap = source.map(source.get(step, "with"));
    for (const cloud of this.env(source.map(source.get(step, "env")), where)) clouds.add(cloud);

    if (isConfigureAwsCredentials(uses)) {
      const keyPairs = source
        .pairs(withMap)
        .filter(
          (pair) =>
            AWS_ACTION_KEY_INPUTS.has(source.keyOf(pair) ?? "") && isStaticSource(source.string(pair.value)),
        );
      const first = keyPairs[0];
      for (const pair of keyPairs)
        this.usedAsKey(source.string(pair.value), keyPart(source.keyOf(pair) ?? ""));
      if (first) {
        const values = keyPairs.map((pair) => source.string(pair.value) ?? "");
        this.add({
          kind: "aws-action-inputs",
          cloud: "aws",
          autoFix: true,
          ...where,
          name: keyPairs.map((pair) => source.keyOf(pair)).join(", "),
          line: source.lineOfNode(first.key),
          literal: values.some((value) => !value.includes("${{")),
          secretNames: values.flatMap(secretNamesIn),
        });
        clouds.add("aws");
      }
    } else if (uses && /^azure\/login@/i.test(uses.trim())) {
      const creds = source.pair(withMap, "creds");
      const value = source.string(creds?.value);
      if (creds && isStaticSource(value)) {
        this.add({
          kind: "azure-client-secret",
          cloud: "azure",
          autoFix: true,
          ...where,
          name: "creds",
          line: source.lineOfNode(creds.key),
          literal: !(value ?? "").includes("${{"),
          secretNames: secretNamesIn(value ?? ""),
        });
        clouds.add("azure");
      }
    } else if (uses && /^google-github-actions\/(auth|setup-gcloud)@/i.test(uses.trim())) {
      for (const input of ["credentials_json", "service_account_key"]) {
        const pair = source.pair(withMap, input);
        const value = source.string(pair?.value);
        if (pair && isStaticSource(value)) {
          this.add({
            kind: "gcp-json-key",
            cloud: "gcp",
            autoFix: true,
            ...where,
            name: input,
            line: source.lineOfNode(pair.key),
            literal: !(value ?? "").includes("${{"),
            secretNames: secretNamesIn(value ?? ""),
          });
          clouds.add("gcp");
        }
      }
    } else {
      for (const pair of source.pairs(withMap)) {
        const input = source.keyOf(pair) ?? "";
        const value = source.string(pair.value);
        const secrets = secretNamesIn(value ?? "");
        if ((AWS_KEY_INPUT.test(input) || secrets.some(this.isKeySecret)) && isStaticSource(value)) {
          if (AWS_KEY_INPUT.test(input)) this.usedAsKey(value, keyPart(input));
          this.add({
            kind: "aws-input-to-action",
            cloud: "aws",
            autoFix: true,
            ...where,
            name: input,
            line: source.lineOfNode(pair.key),
            literal: !(value ?? "").includes("${{"),
            secretNames: secrets,
          });
          clouds.add("aws");
        }
      }
    }

    if (run !== undefined) {
      const runNode = source.scalar(source.get(step, "run"));
      const firstLine = runNode?.range ? source.lineOf(runNode.range[0]) : 0;
      // Block scalars start on the line after the indicator.
      const offset = runNode && (runNode.type === "BLOCK_LITERAL" || runNode.type === "BLOCK_FOLDED") ? 1 : 0;
      run.split("\n").forEach((line, i) => {
        const secrets = secretNamesIn(line);
        if (AWS_RUN_LINE.test(line)) {
          this.usedAsKey(
            line,
            keyPart(/(access_key_id|secret_access_key|session_token)/i.exec(line)?.[1] ?? ""),
          );
          this.add({
            kind: "aws-run-line",
            cloud: "aws",
            autoFix: true,
            ...where,
            name: line.trim().split(/\s+/).slice(0, 4).join(" "),
            line: firstLine + offset + i,
            literal: false,
            secretNames: secrets,
          });
          clouds.add("aws");
        } else if (ecrDockerLoginWithRole(line, this.isKeySecret)) {
          this.add({
            kind: "aws-run-line",
            cloud: "aws",
            autoFix: true,
            ...where,
            name: "docker login to ECR",
            line: firstLine + offset + i,
            literal: false,
            secretNames: secrets,
            note: "a docker login to ECR with the key: the rewrite logs in with aws ecr get-login-password",
          });
          clouds.add("aws");
        } else if (secrets.some(this.isKeySecret)) {
          this.add({
            kind: "aws-secret-reference",
            cloud: "aws",
            autoFix: false,
            ...where,
            name: secrets.filter(this.isKeySecret).join(", "),
            line: firstLine + offset + i,
            literal: false,
            secretNames: secrets,
            note: "a key secret is interpolated into a script: edit the script to use the role's credentials",
          });
          clouds.add("aws");
        }
      });
    }
    const scanned: ScannedStep = {
      index,
      label: name,
      line: source.lineOfNode(step),
      with: plainValues(source, withMap),
      env: plainValues(source, source.map(source.get(step, "env"))),
      ...(run === undefined ? {} : { run }),
      awsLike: isAwsLike(run, uses, source.allStrings(source.get(step, "env"))),
      ...(uses === undefined ? {} : { uses }),
    };
    const stepId = source.string(source.get(step, "id"));
    if (stepId !== undefined) scanned.id = stepId;
    return { clouds, scanned };
  }

  job(pair: Pair, workflowClouds: Set<Cloud>): ScannedJob | undefined {
    const { source } = this;
    const id = source.keyOf(pair);
    const job = source.map(pair.value);
    if (!id || !job) return undefined;
    const clouds = new Set<Cloud>();
    for (const cloud of this.env(source.map(source.get(job, "env")), { level: "job", job: id }))
      clouds.add(cloud);

    const envNode = source.get(job, "environment");
    const envName = source.string(envNode) ?? source.string(source.get(source.map(envNode), "name"));
    const environment =
      envName === undefined
        ? undefined
        : envName.includes("${{")
          ? { expression: envName }
          : { literal: envName };

    const uses = source.string(source.get(job, "uses"));
    let reusable: ReusableCall | undefined;
    if (uses !== undefined) {
      const withValues: Record<string, string> = {};
      for (const inner of source.pairs(source.map(source.get(job, "with")))) {
        const key = source.keyOf(inner);
        const value = source.string(inner.value);
        if (key && value !== undefined) withValues[key] = value;
      }
      const secretsNode = source.get(job, "secrets");
      const localPath = localWorkflowPath(uses);
      reusable = {
        uses,
        with: withValues,
        secretsInherit: source.string(secretsNode) === "inherit",
        ...(localPath === undefined ? {} : { localPath }),
      };
      for (const inner of source.pairs(source.map(secretsNode))) {
        const name = source.keyOf(inner) ?? "";
        const value = source.string(inner.value);
        const secrets = secretNamesIn(value ?? "");
        const parameter = isKeyParameter(name, this.known, localPath);
        if ((parameter || secrets.some(this.isKeySecret)) && isStaticSource(value)) {
          // The called workflow uses `name` as a key: what the caller passes as it is one too.
          if (parameter)
            this.usedAsKey(value, this.known.get(`${localPath}|${name.toUpperCase()}`) ?? keyPart(name));
          this.add({
            kind: "aws-reusable-secret",
            cloud: "aws",
            level: "job",
            job: id,
            name,
            line: source.lineOfNode(inner.key),
            literal: !(value ?? "").includes("${{"),
            secretNames: secrets,
            autoFix: localPath !== undefined,
            ...(localPath === undefined
              ? { note: `the called workflow ${uses} lives in another repository: migrate it there first` }
              : {}),
          });
          clouds.add("aws");
        }
      }
    }

    const steps: ScannedStep[] = [];
    (source.seq(source.get(job, "steps"))?.items ?? []).forEach((item, index) => {
      const step = source.map(item);
      if (!step) return;
      const result = this.step(step, id, index);
      for (const cloud of result.clouds) clouds.add(cloud);
      steps.push(result.scanned);
    });
    const ifCondition = source.string(source.get(job, "if"));
    const scanned: ScannedJob = {
      id,
      line: source.lineOfNode(pair.key),
      env: plainValues(source, source.map(source.get(job, "env"))),
      matrix: matrixValues(source, job),
      steps,
      clouds: [],
      ...(environment === undefined ? {} : { environment }),
      ...(ifCondition === undefined ? {} : { ifCondition }),
      ...(reusable === undefined ? {} : { reusable }),
    };
    // Workflow-level env reaches every job with steps (not called workflows: env does not pass to them).
    if (steps.length > 0) for (const cloud of workflowClouds) clouds.add(cloud);
    scanned.clouds = [...clouds];
    return scanned;
  }
}

function declaredCallSecrets(scanner: Scanner): void {
  const { source } = scanner;
  for (const pair of callSecretPairs(source)) {
    const name = source.keyOf(pair) ?? "";
    if (!scanner.isKeySecret(name)) continue;
    scanner.add({
      kind: "aws-declared-secret",
      cloud: "aws",
      level: "workflow",
      name,
      line: source.lineOfNode(pair.key),
      literal: false,
      secretNames: [name],
      autoFix: true,
    });
  }
}

export function scanSource(source: WorkflowSource, known: KeySecrets = new Map()): ScannedWorkflow {
  const scanner = new Scanner(source, known);
  const triggers = parseTriggers(source);
  const workflowClouds = scanner.env(source.map(source.get(source.root, "env")), { level: "workflow" });
  declaredCallSecrets(scanner);
  const jobs: ScannedJob[] = [];
  for (const pair of source.pairs(source.map(source.get(source.root, "jobs")))) {
    const job = scanner.job(pair, workflowClouds);
    if (job) jobs.push(job);
  }
  // A workflow-level key reaches every job, but only the jobs that look like they talk to AWS need a
  // role; when none looks like it, all of them keep access (the conservative reading).
  if (workflowClouds.has("aws")) {
    const stepJobs = jobs.filter((job) => job.steps.length > 0);
    const explicit = new Set(scanner.findings.filter((f) => f.job && f.cloud === "aws").map((f) => f.job));
    const awsJobs = stepJobs.filter((job) => explicit.has(job.id) || job.steps.some((step) => step.awsLike));
    const keep = new Set((awsJobs.length > 0 ? awsJobs : stepJobs).map((job) => job.id));
    for (const job of stepJobs)
      if (!keep.has(job.id)) job.clouds = job.clouds.filter((cloud) => cloud !== "aws");
  }
  // A key id written anywhere else (a comment, a script) is still a leaked credential in the file.
  const flagged = new Set(scanner.findings.map((finding) => finding.line));
  source.text.split("\n").forEach((text, i) => {
    if (ACCESS_KEY_ID_IN_TEXT.test(text) && !flagged.has(i + 1)) {
      scanner.add({
        kind: "aws-secret-reference",
        cloud: "aws",
        level: "workflow",
        name: "access key id",
        line: i + 1,
        literal: true,
        secretNames: [],
        autoFix: false,
        note: "an access key id is written into the file: remove it by hand (and from git history)",
      });
    }
  });
  const seen = new Set<string>();
  const findings = scanner.findings.filter((finding) => {
    // An anchored block reached through aliases is one finding, not one per alias.
    const key = `${finding.kind}|${finding.line}|${finding.name}|${finding.job ?? ""}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const name = source.string(source.get(source.root, "name"));
  return {
    path: source.path,
    env: plainValues(source, source.map(source.get(source.root, "env"))),
    triggers,
    jobs,
    findings: findings.sort((a, b) => a.line - b.line),
    keySecrets: scanner.keySecrets,
    ...(name === undefined ? {} : { name }),
  };
}

/**
 * Scans one workflow file; a refused or malformed file comes back with `error` and no findings.
 * `known` names secrets used as keys elsewhere in the repository: their uses here are key uses.
 */
export function scanWorkflow(file: WorkflowFile, known: KeySecrets = new Map()): ScannedWorkflow {
  try {
    return scanSource(WorkflowSource.parse(file), known);
  } catch (error: unknown) {
    if (!(error instanceof WorkflowRefused)) throw error;
    return {
      path: file.path,
      env: {},
      triggers: { events: [], dispatchInputs: {}, callInputs: {} },
      jobs: [],
      findings: [],
      keySecrets: {},
      error: error.message,
    };
  }
}
