/**
 * Rewrites a workflow from static keys to OIDC (facts.md, GitHub Actions OIDC): job-level
 * `id-token: write` beside the token scopes the job already had (`contents: read` at least),
 * aws-actions/configure-aws-credentials@v6 with role-to-assume, aws-region and a role-session-name
 * carrying `${{ github.run_id }}` (unless the workflow chose one), running when the steps it serves
 * would and handing the session token on with the keys, key env entries and `aws configure set`
 * lines removed. Edits are made at node ranges (text-edits.ts) so everything
 * else in the file stays byte-for-byte; the result is re-parsed before it is offered.
 */
import { isAlias, isMap, isScalar, type Pair, type YAMLMap, type YAMLSeq } from "yaml";
import { ecrDockerLoginWithRole } from "./ecr-docker-login.js";
import { convertAzureLogin, convertGcpAuth, convertSetupGcloud, replaceUses } from "./federated.js";
import { audienceInput, partitionOfArn } from "./partitions.js";
import { WorkflowEdits, yamlScalar } from "./text-edits.js";
import {
  AWS_ACTION_KEY_INPUTS,
  AWS_KEY_ENV,
  AWS_RUN_LINE,
  declaredSecretNames,
  isConfigureAwsCredentials,
  isKeyParameter,
  isKeySecret,
  isStaticSource,
  type KeyPart,
  type KeySecrets,
  keyPart,
  type ScannedJob,
  type ScannedWorkflow,
  type SecretScope,
  secretKey,
} from "./workflow-scan.js";
import {
  rangeOf,
  secretNamesIn,
  type WorkflowFile,
  WorkflowRefused,
  WorkflowSource,
} from "./workflow-yaml.js";

export const CONFIGURE_AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@v6";

/** A China role needs the China audience in the token (the action's default is sts.amazonaws.com). */
function audienceFor(role: string): string | undefined {
  return audienceInput(partitionOfArn(role));
}
const OUTPUTS_STEP_ID = "aws-credentials";
const AZURE_SECRET_ENV = new Set(["ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"]);
const AWS_KEY_INPUT = /^aws[-_]?(access[-_]?key([-_]?id)?|secret([-_]?access)?[-_]?key|session[-_]?token)$/i;
/**
 * The scopes `read-all` grants on github.com (docs.github.com, "Controlling permissions for
 * GITHUB_TOKEN"): a job's read-all becomes these, each read, beside id-token.
 */
const READ_ALL_SCOPES = [
  "actions",
  "attestations",
  "checks",
  "contents",
  "deployments",
  "discussions",
  "issues",
  "models",
  "packages",
  "pages",
  "pull-requests",
  "security-events",
  "statuses",
];
const GHCR = /(^|[\s/"'=])ghcr\.io\b/i;
const RELEASE_ACTION =
  /^(softprops\/action-gh-release|actions\/create-release|actions\/upload-release-asset|ncipollo\/release-action|marvinpinto\/action-automatic-releases|svenstaro\/upload-release-action|googleapis\/release-please-action|google-github-actions\/release-please-action)@/i;

/**
 * GITHUB_TOKEN write scopes the job's own steps use. A job that relied on the repository's default
 * token permissions keeps them when it gets its first explicit block: a GHCR push needs packages,
 * a release or a pushed tag needs contents.
 */
function writeScopesUsed(job: ScannedJob | undefined): string[] {
  const scopes = new Set<string>();
  for (const step of job?.steps ?? []) {
    const uses = step.uses ?? "";
    const run = step.run ?? "";
    const inputs = Object.values(step.with).join("\n");
    if (/^docker\/(login-action|build-push-action)@/i.test(uses) && GHCR.test(inputs)) scopes.add("packages");
    if (/\bdocker\s+(login|push|image\s+push|buildx\s+build[^\n]*--push)\b[^\n]*ghcr\.io/i.test(run))
      scopes.add("packages");
    if (RELEASE_ACTION.test(uses)) scopes.add("contents");
    if (/\bgh\s+release\s+(create|upload|edit|delete)\b|\bgit\s+push\b/.test(run)) scopes.add("contents");
  }
  return [...scopes].sort();
}

/** `aws_access_key_id` -> `aws_session_token`, `AWS-ACCESS-KEY-ID` -> `AWS-SESSION-TOKEN`, camelCase too. */
function sessionTokenName(accessKeyName: string): string {
  const separator = accessKeyName.includes("_") ? "_" : accessKeyName.includes("-") ? "-" : "";
  const words = ["aws", "session", "token"];
  const name =
    separator === ""
      ? `aws${words
          .slice(1)
          .map((word) => word[0]?.toUpperCase() + word.slice(1))
          .join("")}`
      : words.join(separator);
  return accessKeyName === accessKeyName.toUpperCase() ? name.toUpperCase() : name;
}

/** The session token expression matching how an access key id is handed on, when there is one. */
function sessionTokenValue(accessKeyValue: string): string | undefined {
  if (!/\$\{\{/.test(accessKeyValue)) return undefined;
  const swapped = accessKeyValue
    .replace(/\bAWS_ACCESS_KEY_ID\b/g, "AWS_SESSION_TOKEN")
    .replace(/\baws-access-key-id\b/g, "aws-session-token");
  return swapped === accessKeyValue ? undefined : swapped;
}

/** An `if:` for a step that serves steps with these conditions; none when any of them always runs. */
function combinedCondition(conditions: Array<string | undefined>): string | undefined {
  const unique = [...new Set(conditions.map((condition) => condition?.trim()))];
  if (unique.length === 0 || unique.some((condition) => !condition)) return undefined;
  if (unique.length === 1) return unique[0];
  // Evaluated before the later steps run, a condition on their predecessors' outputs could skip
  // credentials they need: then the step always runs.
  if (unique.some((condition) => /\bsteps\./.test(condition ?? ""))) return undefined;
  const bare = unique.map(
    (condition) => `(${(condition ?? "").replace(/^\$\{\{\s*([\s\S]*?)\s*\}\}$/, "$1")})`,
  );
  return `\${{ ${bare.join(" || ")} }}`;
}

export interface RewriteOptions {
  /** role-to-assume per job id, for the jobs that get a role (an ARN, or an expression choosing one). */
  awsRoles: ReadonlyMap<string, string>;
  /** Jobs that call a local reusable workflow whose jobs assume a role: they must grant id-token too. */
  idTokenCallers: ReadonlySet<string>;
  /**
   * Jobs whose keys stay (no role can trust the sub they present): left as they are, with the
   * workflow-level keys and declared `workflow_call` secrets they rely on.
   */
  keptJobs: ReadonlySet<string>;
  region: string;
  /** role-session-name; must carry `${{ github.run_id }}` so CloudTrail names the run. */
  sessionName: string;
  /** Secrets the repository's workflows use as keys, whatever their names (workflow-scan.ts). */
  keySecrets?: KeySecrets;
  /** By job id: the region of jobs that name none, taken from where their key is used (plan.ts). */
  jobRegions?: ReadonlyMap<string, string>;
}

export interface RewriteResult {
  path: string;
  content: string;
  changed: boolean;
  notes: string[];
  /** Original lines (1-based) holding a static credential the rewrite could not remove. */
  unresolvedLines: number[];
}

interface StepPlan {
  index: number;
  item: unknown;
  map: YAMLMap;
  envKeys: boolean;
  staticConfigure: boolean;
  keyInputs: Pair[];
  runLines: number[];
  /** A one-line run that is only a key-configuring command: the step goes. */
  removeWholeStep: boolean;
  secretReferences: number[];
  /**
   * docker/login-action to ECR fed the key as username and password: given neither, it asks ECR
   * with the job's credentials through the SDK's default chain, session token included (its aws.ts).
   */
  ecrLoginWithKey: boolean;
  /** Script lines that log docker in to ECR with the key, and what replaces each (ecr-docker-login.ts). */
  ecrLoginLines: Array<{ line: number; text: string }>;
}

const ECR_REGISTRY = /\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$|^public\.ecr\.aws$/i;

/** The configure step's output that replaces an input: by its name, else by the secret it was fed. */
function outputFor(input: string, value: string, partOf: (secret: string) => KeyPart | undefined): string {
  if (AWS_KEY_INPUT.test(input)) return keyPart(input);
  const parts = secretNamesIn(value).map((name) => partOf(name) ?? keyPart(name));
  return parts[0] ?? keyPart(input);
}

class Rewriter {
  readonly edits: WorkflowEdits;
  readonly notes: string[] = [];
  readonly unresolved = new Set<number>();
  readonly unit: number;
  /** The workflow-level env carried keys: every AWS job of the workflow needs the configure step. */
  workflowHadKeys = false;
  readonly keySecrets: KeySecrets;
  readonly scope: SecretScope;
  isKeySecret = (name: string): boolean => isKeySecret(name, this.keySecrets, this.scope);
  partOf = (name: string): KeyPart | undefined => this.keySecrets.get(secretKey(name, this.scope));

  constructor(
    readonly source: WorkflowSource,
    readonly scan: ScannedWorkflow,
    readonly options: RewriteOptions,
  ) {
    this.edits = new WorkflowEdits(source);
    this.unit = this.indentUnit();
    this.keySecrets = options.keySecrets ?? new Map();
    this.scope = { path: source.path, declared: declaredSecretNames(source) };
  }

  indentUnit(): number {
    const jobs = this.source.map(this.source.get(this.source.root, "jobs"));
    const jobsPair = this.source.pair(this.source.root, "jobs");
    if (!jobs || jobs.flow || !jobsPair) return 2;
    const inner = this.edits.mapIndent(jobs) - this.source.column(rangeOf(jobsPair.key)?.[0] ?? 0);
    return inner > 0 && inner <= 8 ? inner : 2;
  }

  pad(levels = 1): string {
    return " ".repeat(this.unit * levels);
  }

  /** Removes key entries from an env block (and swaps ARM_CLIENT_SECRET for ARM_USE_OIDC). */
  cleanEnv(pair: Pair | undefined): boolean {
    if (!pair) return false;
    const { source } = this;
    const map = source.map(pair.value);
    if (!map) return false;
    const remove: Pair[] = [];
    const add: Array<[string, string]> = [];
    let aws = false;
    for (const entry of source.pairs(map)) {
      const name = source.keyOf(entry) ?? "";
      const value = source.string(entry.value);
      if (!isStaticSource(value)) continue;
      if (AWS_KEY_ENV.has(name)) {
        remove.push(entry);
        aws = true;
      } else if (AZURE_SECRET_ENV.has(name)) {
        remove.push(entry);
        if (name === "ARM_CLIENT_SECRET" && !source.pair(map, "ARM_USE_OIDC"))
          add.push(["ARM_USE_OIDC", "true"]);
      } else if (secretNamesIn(value ?? "").some(this.isKeySecret)) {
        this.unresolved.add(source.lineOfNode(entry.key));
      }
    }
    this.edits.rewriteMap(map, remove, add, isAlias(pair.value) ? undefined : { pair });
    return aws;
  }

  callSecrets(): void {
    const { source } = this;
    const on = source.map(source.pair(source.root, "on")?.value);
    const call = source.map(source.get(on, "workflow_call"));
    const secretsPair = source.pair(call, "secrets");
    const secrets = source.map(secretsPair?.value);
    if (!secretsPair || !secrets) return;
    const remove = source.pairs(secrets).filter((pair) => this.isKeySecret(source.keyOf(pair) ?? ""));
    this.edits.rewriteMap(secrets, remove, [], { pair: secretsPair });
  }

  /** Adds one pair to a map, block or flow. */
  addPair(map: YAMLMap, key: string, value: string): void {
    if (map.flow) this.edits.rewriteMap(map, [], [[key, value]]);
    else this.edits.insertPairs(map, undefined, [`${key}: ${yamlScalar(value)}`]);
  }

  /**
   * Grants id-token: write. An existing job block is extended; otherwise the new block carries what
   * the job had before: the workflow's explicit scopes, every read scope of a read-all, and the
   * write scopes its steps use when it relied on the repository's defaults (GitHub: a job-level
   * block sets every scope it does not name to none).
   */
  ensureIdToken(jobId: string, job: YAMLMap, scanned: ScannedJob | undefined): void {
    const { source, edits } = this;
    const used = writeScopesUsed(scanned);
    const block = (entries: Map<string, string>) => {
      entries.set("id-token", "write");
      if (!entries.has("contents")) entries.set("contents", "read");
      return entries;
    };
    const fromDefaults = () => {
      const entries = new Map<string, string>();
      for (const scope of used) entries.set(scope, "write");
      return entries;
    };
    const readAll = () => {
      const entries = new Map<string, string>(READ_ALL_SCOPES.map((scope) => [scope, "read"]));
      for (const scope of used) entries.set(scope, "write");
      return entries;
    };
    const pair = source.pair(job, "permissions");
    if (pair) {
      const value = source.resolve(pair.value);
      if (isMap(value)) {
        const idToken = source.pair(value, "id-token");
        if (idToken) {
          if (source.string(idToken.value) !== "write") edits.replaceValue(idToken.value, "write");
        } else this.addPair(value, "id-token", "write");
      } else if (isScalar(value)) {
        const scope = source.string(value);
        if (scope === "write-all") {
          this.notes.push(
            `${jobId}: permissions are write-all (id-token included): narrow them to what the job needs`,
          );
        } else {
          const entries = block(scope === "read-all" ? readAll() : fromDefaults());
          edits.replaceValue(
            value,
            `{ ${[...entries].map(([key, level]) => `${key}: ${yamlScalar(level, true)}`).join(", ")} }`,
          );
        }
      }
      return;
    }
    let entries = new Map<string, string>();
    const workflowLevel = source.resolve(source.pair(source.root, "permissions")?.value);
    if (isMap(workflowLevel)) {
      // Job-level permissions replace the workflow's: carry its scopes over so nothing else is lost.
      for (const entry of source.pairs(workflowLevel)) {
        const key = source.keyOf(entry);
        const value = source.string(entry.value);
        if (key && value) entries.set(key, value);
      }
    } else if (source.string(workflowLevel) === "read-all") {
      entries = readAll();
    } else if (source.string(workflowLevel) === "write-all") {
      entries = fromDefaults();
      this.notes.push(
        `${jobId}: the workflow grants write-all; the job now gets id-token, contents and the write scopes its steps show (${used.join(", ") || "none"}): add what else it needs`,
      );
    } else {
      entries = fromDefaults();
    }
    const before = source.pair(job, "steps") ?? source.pair(job, "uses");
    edits.insertPairs(job, before, [
      "permissions:",
      ...[...block(entries)].map(([key, value]) => `${this.pad()}${key}: ${yamlScalar(value)}`),
    ]);
  }

  planStep(index: number, item: unknown): StepPlan | undefined {
    const { source } = this;
    const map = source.map(item);
    if (!map) return undefined;
    const envMap = source.map(source.get(map, "env"));
    const envKeys = source
      .pairs(envMap)
      .some((pair) => AWS_KEY_ENV.has(source.keyOf(pair) ?? "") && isStaticSource(source.string(pair.value)));
    const uses = source.string(source.get(map, "uses"));
    const withMap = source.map(source.get(map, "with"));
    const staticConfigure =
      isConfigureAwsCredentials(uses) &&
      source
        .pairs(withMap)
        .some(
          (pair) =>
            AWS_ACTION_KEY_INPUTS.has(source.keyOf(pair) ?? "") && isStaticSource(source.string(pair.value)),
        );
    const federatedAction =
      uses !== undefined && /^(azure\/login|google-github-actions\/)/i.test(uses.trim());
    const keyInputs =
      isConfigureAwsCredentials(uses) || federatedAction
        ? []
        : source.pairs(withMap).filter((pair) => {
            const value = source.string(pair.value);
            const named = AWS_KEY_INPUT.test(source.keyOf(pair) ?? "");
            return (named || secretNamesIn(value ?? "").some(this.isKeySecret)) && isStaticSource(value);
          });
    const plan: StepPlan = {
      index,
      item,
      map,
      envKeys,
      staticConfigure,
      keyInputs,
      runLines: [],
      removeWholeStep: false,
      secretReferences: [],
      ecrLoginWithKey:
        /^docker\/login-action@/i.test(uses?.trim() ?? "") &&
        ECR_REGISTRY.test(source.string(source.get(withMap, "registry"))?.trim() ?? "") &&
        keyInputs.length > 0 &&
        keyInputs.every((pair) => /^(username|password)$/.test(source.keyOf(pair) ?? "")),
      ecrLoginLines: [],
    };
    const run = source.scalar(source.get(map, "run"));
    const text = source.string(run);
    const range = rangeOf(run);
    if (run && text !== undefined && range) {
      if (run.type === "BLOCK_LITERAL" || run.type === "BLOCK_FOLDED") {
        const first = source.lineOf(range[0]) + 1;
        const last = source.lineOf(Math.max(range[0], range[1] - 1));
        let continuing = false;
        let content = 0;
        for (let line = first; line <= last; line++) {
          const raw = source.lineText(line);
          if (continuing || AWS_RUN_LINE.test(raw)) {
            plan.runLines.push(line);
            continuing = /\\\s*$/.test(raw);
          } else {
            const login = ecrDockerLoginWithRole(raw, this.isKeySecret);
            if (login !== undefined) plan.ecrLoginLines.push({ line, text: login });
            else if (secretNamesIn(raw).some(this.isKeySecret)) plan.secretReferences.push(line);
            if (raw.trim() && !raw.trim().startsWith("#")) content++;
          }
        }
        plan.removeWholeStep = plan.runLines.length > 0 && content === 0;
      } else if (AWS_RUN_LINE.test(text)) {
        if (/&&|\|\||;|\n/.test(text)) plan.secretReferences.push(source.lineOf(range[0]));
        else plan.removeWholeStep = true;
      } else if (secretNamesIn(text).some(this.isKeySecret))
        plan.secretReferences.push(source.lineOf(range[0]));
    }
    return plan;
  }

  configureStepLines(
    role: string,
    region: string,
    outputs: boolean,
    condition: string | undefined,
  ): string[] {
    const audience = audienceFor(role);
    return [
      "name: Configure AWS credentials (OIDC)",
      ...(condition === undefined ? [] : [`if: ${yamlScalar(condition)}`]),
      ...(outputs ? [`id: ${OUTPUTS_STEP_ID}`] : []),
      `uses: ${CONFIGURE_AWS_CREDENTIALS}`,
      "with:",
      `${this.pad()}role-to-assume: ${yamlScalar(role)}`,
      `${this.pad()}role-session-name: ${yamlScalar(this.options.sessionName)}`,
      `${this.pad()}aws-region: ${yamlScalar(region)}`,
      ...(audience ? [`${this.pad()}audience: ${yamlScalar(audience)}`] : []),
      ...(outputs ? [`${this.pad()}output-credentials: true`] : []),
    ];
  }

  /**
   * The region the job already used: its env (readable as `env.X` in `with:`), the first AWS step's
   * own env, or `aws configure set region` in a script (configure-aws-credentials exports AWS_REGION,
   * which would otherwise override the CLI's config file).
   */
  regionFor(job: YAMLMap, scanned: ScannedJob | undefined, firstAwsStep: number | undefined): string {
    const { source } = this;
    for (const name of ["AWS_REGION", "AWS_DEFAULT_REGION"]) {
      if (scanned?.env[name] !== undefined || this.scan.env[name] !== undefined) return `\${{ env.${name} }}`;
      if (source.pair(source.map(source.get(job, "env")), name)) return `\${{ env.${name} }}`;
    }
    const step = scanned?.steps.find((candidate) => candidate.index === firstAwsStep);
    const stepRegion = step?.env.AWS_REGION ?? step?.env.AWS_DEFAULT_REGION;
    if (stepRegion !== undefined) return stepRegion;
    for (const candidate of scanned?.steps ?? []) {
      const configured = /\baws\s+configure\s+set\s+(?:default\.)?region\s+([\w-]+)/.exec(
        candidate.run ?? "",
      );
      if (configured?.[1]) return configured[1];
    }
    return (scanned && this.options.jobRegions?.get(scanned.id)) ?? this.options.region;
  }

  convertConfigureStep(
    jobId: string,
    plan: StepPlan,
    role: string,
    region: string,
    outputsId: string | undefined,
  ): void {
    const { source, edits } = this;
    const uses = source.string(source.get(plan.map, "uses")) ?? "";
    if (/@[0-9a-f]{40}\b/i.test(uses)) {
      this.notes.push(
        `${jobId}: configure-aws-credentials was pinned to a commit; pin ${CONFIGURE_AWS_CREDENTIALS} to its commit too`,
      );
    }
    replaceUses(edits, source.pair(plan.map, "uses")?.value, CONFIGURE_AWS_CREDENTIALS);
    const withMap = source.map(source.get(plan.map, "with"));
    if (!withMap) return;
    const remove = source
      .pairs(withMap)
      .filter(
        (pair) =>
          AWS_ACTION_KEY_INPUTS.has(source.keyOf(pair) ?? "") && isStaticSource(source.string(pair.value)),
      );
    const add: Array<[string, string]> = [];
    const existingRole = source.pair(withMap, "role-to-assume");
    if (existingRole) {
      this.notes.push(
        `${jobId}: step ${plan.index + 1} used the key to assume ${source.string(existingRole.value)}; it now assumes the new OIDC role instead`,
      );
      edits.replaceValue(existingRole.value, yamlScalar(role));
    } else add.push(["role-to-assume", role]);
    const sessionName = source.pair(withMap, "role-session-name");
    if (!sessionName) add.push(["role-session-name", this.options.sessionName]);
    else if (!/github\.run_id/.test(source.string(sessionName.value) ?? "")) {
      // The team chose that name (dashboards and alerts may match it): keep it, and say why the
      // run id helps (facts.md: it lets CloudTrail name the run).
      this.notes.push(
        `${jobId}: role-session-name ${source.string(sessionName.value)} is kept; adding \${{ github.run_id }} to it lets CloudTrail name the run`,
      );
    }
    if (!source.pair(withMap, "aws-region")) add.push(["aws-region", region]);
    const audience = audienceFor(role);
    if (audience && !source.pair(withMap, "audience")) add.push(["audience", audience]);
    if (outputsId && !source.pair(withMap, "output-credentials")) add.push(["output-credentials", "true"]);
    edits.rewriteMap(withMap, remove, add);
    if (outputsId && !source.pair(plan.map, "id"))
      edits.insertPairs(plan.map, undefined, [`id: ${outputsId}`]);
  }

  /**
   * A step handed the job's credentials (`AWS_ACCESS_KEY_ID: ${{ env.AWS_ACCESS_KEY_ID }}`, or an
   * action input fed from configure-aws-credentials' outputs) worked with a key pair alone; the
   * role's credentials also need their session token, handed on the same way.
   */
  handOnSessionToken(jobId: string, step: YAMLMap): void {
    const { source } = this;
    for (const block of ["env", "with"]) {
      const map = source.map(source.get(step, block));
      if (!map) continue;
      const pairs = source.pairs(map);
      const names = pairs.map((entry) => source.keyOf(entry) ?? "");
      if (names.some((name) => /session[-_]?token/i.test(name))) continue;
      const accessKey = pairs.find((entry) => {
        const name = source.keyOf(entry) ?? "";
        return (
          AWS_KEY_INPUT.test(name) && /access/i.test(name) && !isStaticSource(source.string(entry.value))
        );
      });
      const hasSecret = names.some((name) => AWS_KEY_INPUT.test(name) && /secret/i.test(name));
      if (!accessKey || !hasSecret) continue;
      const name = source.keyOf(accessKey) ?? "";
      const value = sessionTokenValue(source.string(accessKey.value) ?? "");
      const tokenName = sessionTokenName(name);
      if (value === undefined) {
        this.notes.push(
          `${jobId}: a step hands on ${name} without a session token: add ${tokenName} beside it`,
        );
        continue;
      }
      this.addPair(map, tokenName, value);
    }
  }

  job(pair: Pair): void {
    const { source, edits, options } = this;
    const jobId = source.keyOf(pair) ?? "";
    const job = source.map(pair.value);
    if (!job) return;
    const scanned = this.scan.jobs.find((candidate) => candidate.id === jobId);
    if (options.keptJobs.has(jobId)) {
      if (options.idTokenCallers.has(jobId)) this.ensureIdToken(jobId, job, scanned);
      return;
    }
    const role = options.awsRoles.get(jobId);
    const jobEnvHadKeys = this.cleanEnv(source.pair(job, "env"));
    let needsIdToken = options.idTokenCallers.has(jobId);

    const reusableSecrets = source.pair(job, "secrets");
    const secretsMap = source.map(reusableSecrets?.value);
    if (reusableSecrets && secretsMap && scanned?.reusable) {
      const remove = source.pairs(secretsMap).filter((entry) => {
        const name = source.keyOf(entry) ?? "";
        const value = source.string(entry.value);
        return (
          (isKeyParameter(name, this.keySecrets, scanned.reusable?.localPath) ||
            secretNamesIn(value ?? "").some(this.isKeySecret)) &&
          isStaticSource(value)
        );
      });
      if (scanned.reusable.localPath) edits.rewriteMap(secretsMap, remove, [], { pair: reusableSecrets });
      else for (const entry of remove) this.unresolved.add(source.lineOfNode(entry.key));
    }

    const stepsPair = source.pair(job, "steps");
    const seq = source.seq(stepsPair?.value);
    const plans = (seq?.items ?? []).flatMap((item, index) => this.planStep(index, item) ?? []);
    const inheritsAws = scanned?.clouds.includes("aws") ?? false;
    const needs: number[] = [];
    for (const plan of plans) {
      if (
        plan.envKeys ||
        plan.keyInputs.length > 0 ||
        plan.runLines.length > 0 ||
        plan.removeWholeStep ||
        plan.secretReferences.length > 0 ||
        plan.ecrLoginLines.length > 0
      ) {
        needs.push(plan.index);
      }
    }
    if (jobEnvHadKeys || (inheritsAws && this.workflowHadKeys)) {
      const first = plans.find(
        (plan) => !/^actions\/checkout@/i.test(source.string(source.get(plan.map, "uses")) ?? ""),
      );
      if (first) needs.push(first.index);
    }
    const needIndex = needs.length > 0 ? Math.min(...needs) : undefined;
    // Credentials set up for the whole job serve every step; otherwise the new step runs when one
    // of the steps that used the keys would.
    const wholeJob =
      jobEnvHadKeys ||
      (inheritsAws && this.workflowHadKeys) ||
      plans.some((plan) => plan.runLines.length > 0 || plan.removeWholeStep);
    const served = plans.filter(
      (plan) =>
        plan.envKeys ||
        plan.keyInputs.length > 0 ||
        plan.secretReferences.length > 0 ||
        plan.ecrLoginLines.length > 0,
    );
    const condition = wholeJob
      ? undefined
      : combinedCondition(served.map((plan) => source.string(source.get(plan.map, "if"))));
    const converted = plans.find((plan) => plan.staticConfigure);
    const region = this.regionFor(job, scanned, needIndex);
    const outputsAt = plans.find((plan) => plan.keyInputs.length > 0 && !plan.ecrLoginWithKey)?.index;
    const insertAt =
      role !== undefined &&
      needIndex !== undefined &&
      (converted === undefined || needIndex < converted.index)
        ? needIndex
        : undefined;
    let outputsId: string | undefined;
    let convertedOutputsId: string | undefined;
    if (outputsAt !== undefined && role !== undefined) {
      if (insertAt !== undefined && insertAt <= outputsAt) outputsId = OUTPUTS_STEP_ID;
      else if (converted && converted.index < outputsAt) {
        convertedOutputsId = source.string(source.get(converted.map, "id")) ?? OUTPUTS_STEP_ID;
        outputsId = convertedOutputsId;
      }
    }

    for (const plan of plans) {
      this.cleanEnv(source.pair(plan.map, "env"));
      if (role !== undefined) this.handOnSessionToken(jobId, plan.map);
      for (const line of plan.secretReferences) this.unresolved.add(line);
      if (plan.removeWholeStep) {
        edits.removeItem(plan.item);
        continue;
      }
      if (plan.staticConfigure) {
        if (role === undefined) edits.removeItem(plan.item);
        else
          this.convertConfigureStep(
            jobId,
            plan,
            role,
            region,
            plan === converted ? convertedOutputsId : undefined,
          );
        needsIdToken ||= role !== undefined;
      }
      if (plan.keyInputs.length > 0) {
        const withMap = source.map(source.get(plan.map, "with"));
        if (withMap && role !== undefined && plan.ecrLoginWithKey) {
          edits.rewriteMap(withMap, plan.keyInputs, []);
        } else if (withMap && role !== undefined && outputsId) {
          for (const input of plan.keyInputs) {
            edits.replaceValue(
              input.value,
              yamlScalar(
                `\${{ steps.${outputsId}.outputs.${outputFor(source.keyOf(input) ?? "", source.string(input.value) ?? "", this.partOf)} }}`,
              ),
            );
          }
          const uses = source.string(source.get(plan.map, "uses")) ?? "";
          const names = source.pairs(withMap).map((entry) => source.keyOf(entry) ?? "");
          if (!names.some((name) => /session/i.test(name))) {
            // Temporary credentials are useless without their session token: hand it on too.
            const keyName =
              names.find((name) => /access/i.test(name) && AWS_KEY_INPUT.test(name)) ?? "aws-access-key-id";
            const tokenName = sessionTokenName(keyName);
            this.addPair(withMap, tokenName, `\${{ steps.${outputsId}.outputs.aws-session-token }}`);
            this.notes.push(
              `${jobId}: ${uses} now receives temporary credentials, with the session token as ${tokenName}: check that it reads that input`,
            );
          }
          if (uses.startsWith("./")) {
            this.notes.push(
              `${jobId}: the local action ${uses} takes key inputs: change it to use the job's credentials instead`,
            );
          }
        } else if (withMap) {
          edits.rewriteMap(withMap, plan.keyInputs, []);
        }
      }
      for (const line of plan.runLines) {
        edits.replace(source.offsetOfLine(line), source.offsetOfLine(line + 1), "");
      }
      for (const login of plan.ecrLoginLines) {
        if (role === undefined) this.unresolved.add(login.line);
        else
          edits.replace(
            source.offsetOfLine(login.line),
            source.offsetOfLine(login.line + 1),
            `${login.text}\n`,
          );
      }
      const uses = source.string(source.get(plan.map, "uses")) ?? "";
      if (/^azure\/login@/i.test(uses) && convertAzureLogin(edits, plan.map)) needsIdToken = true;
      if (/^google-github-actions\/auth@/i.test(uses) && convertGcpAuth(edits, plan.map)) needsIdToken = true;
      if (
        /^google-github-actions\/setup-gcloud@/i.test(uses) &&
        seq &&
        convertSetupGcloud(edits, seq as YAMLSeq, plan.item, plan.map, this.unit)
      ) {
        needsIdToken = true;
      }
    }
    if (insertAt !== undefined && role !== undefined && seq) {
      const target = plans.find((plan) => plan.index === insertAt);
      if (target) {
        edits.insertItemBefore(
          seq as YAMLSeq,
          target.item,
          this.configureStepLines(role, region, outputsId === OUTPUTS_STEP_ID, condition),
        );
        needsIdToken = true;
      }
    }
    if (role === undefined && needIndex !== undefined) {
      this.notes.push(`${jobId}: gets no role, so its static keys are removed and it no longer reaches AWS`);
    }
    if (needsIdToken) this.ensureIdToken(jobId, job, scanned);
  }

  run(): void {
    const { source, scan, options } = this;
    const kept = scan.jobs.filter((job) => options.keptJobs.has(job.id));
    const workflowKeys = source.pair(source.root, "env");
    if (kept.some((job) => job.steps.length > 0 && job.clouds.includes("aws"))) {
      // A kept job reads the workflow-level keys: they stay, and the other jobs get the role beside them.
      this.workflowHadKeys = scan.findings.some((f) => f.kind === "aws-env" && f.level === "workflow");
      if (this.workflowHadKeys)
        this.notes.push(
          `the workflow-level keys stay for ${kept.map((job) => job.id).join(", ")}: move them into those jobs' env so the others stop receiving them`,
        );
    } else this.workflowHadKeys = this.cleanEnv(workflowKeys);
    if (kept.length === 0) this.callSecrets();
    for (const pair of source.pairs(source.map(source.get(source.root, "jobs")))) this.job(pair);
  }
}

/** The rewritten workflow; unchanged (with a note) if the edits would not parse. */
export function rewriteWorkflow(
  file: WorkflowFile,
  scan: ScannedWorkflow,
  options: RewriteOptions,
): RewriteResult {
  const source = WorkflowSource.parse(file);
  const rewriter = new Rewriter(source, scan, options);
  rewriter.run();
  const unresolvedLines = [...rewriter.unresolved].sort((a, b) => a - b);
  if (rewriter.edits.size === 0) {
    return { path: file.path, content: file.content, changed: false, notes: rewriter.notes, unresolvedLines };
  }
  const content = rewriter.edits.apply();
  try {
    WorkflowSource.parse({ path: file.path, content });
  } catch (error: unknown) {
    if (!(error instanceof WorkflowRefused)) throw error;
    return {
      path: file.path,
      content: file.content,
      changed: false,
      notes: [
        ...rewriter.notes,
        `the rewrite of ${file.path} did not parse (${error.message}); it is left unchanged: edit it by hand`,
      ],
      unresolvedLines,
    };
  }
  return {
    path: file.path,
    content,
    changed: content !== file.content,
    notes: rewriter.notes,
    unresolvedLines,
  };
}
