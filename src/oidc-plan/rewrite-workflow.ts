/**
 * Rewrites a workflow from static keys to OIDC (facts.md, GitHub Actions OIDC): job-level
 * `permissions: { id-token: write, contents: read }`, aws-actions/configure-aws-credentials@v6 with
 * role-to-assume, aws-region and a role-session-name carrying `${{ github.run_id }}`, key env entries
 * and `aws configure set` lines removed. Edits are made at node ranges (text-edits.ts) so everything
 * else in the file stays byte-for-byte; the result is re-parsed before it is offered.
 */
import { isAlias, isMap, isScalar, type Pair, type YAMLMap, type YAMLSeq } from "yaml";
import { convertAzureLogin, convertGcpAuth, convertSetupGcloud, replaceUses } from "./federated.js";
import { WorkflowEdits, yamlScalar } from "./text-edits.js";
import {
  AWS_ACTION_KEY_INPUTS,
  AWS_KEY_ENV,
  AWS_RUN_LINE,
  isAwsKeySecretName,
  isConfigureAwsCredentials,
  isStaticSource,
  type ScannedJob,
  type ScannedWorkflow,
} from "./workflow-scan.js";
import {
  rangeOf,
  secretNamesIn,
  type WorkflowFile,
  WorkflowRefused,
  WorkflowSource,
} from "./workflow-yaml.js";

export const CONFIGURE_AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@v6";
const OUTPUTS_STEP_ID = "aws-credentials";
const AZURE_SECRET_ENV = new Set(["ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"]);
const AWS_KEY_INPUT = /^aws[-_]?(access[-_]?key([-_]?id)?|secret([-_]?access)?[-_]?key|session[-_]?token)$/i;

export interface RewriteOptions {
  /** role-to-assume per job id, for the jobs that get a role (an ARN, or an expression choosing one). */
  awsRoles: ReadonlyMap<string, string>;
  /** Jobs that call a local reusable workflow whose jobs assume a role: they must grant id-token too. */
  idTokenCallers: ReadonlySet<string>;
  region: string;
  /** role-session-name; must carry `${{ github.run_id }}` so CloudTrail names the run. */
  sessionName: string;
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
}

function outputFor(input: string): string {
  if (/session/i.test(input)) return "aws-session-token";
  if (/secret/i.test(input)) return "aws-secret-access-key";
  return "aws-access-key-id";
}

class Rewriter {
  readonly edits: WorkflowEdits;
  readonly notes: string[] = [];
  readonly unresolved = new Set<number>();
  readonly unit: number;
  /** The workflow-level env carried keys: every AWS job of the workflow needs the configure step. */
  workflowHadKeys = false;

  constructor(
    readonly source: WorkflowSource,
    readonly scan: ScannedWorkflow,
    readonly options: RewriteOptions,
  ) {
    this.edits = new WorkflowEdits(source);
    this.unit = this.indentUnit();
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
      } else if (secretNamesIn(value ?? "").some(isAwsKeySecretName)) {
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
    const remove = source.pairs(secrets).filter((pair) => isAwsKeySecretName(source.keyOf(pair) ?? ""));
    this.edits.rewriteMap(secrets, remove, [], { pair: secretsPair });
  }

  ensureIdToken(jobId: string, job: YAMLMap): void {
    const { source, edits } = this;
    const pair = source.pair(job, "permissions");
    if (pair) {
      const value = source.resolve(pair.value);
      if (isMap(value)) {
        const idToken = source.pair(value, "id-token");
        if (idToken) {
          if (source.string(idToken.value) !== "write") edits.replaceValue(idToken.value, "write");
        } else if (value.flow) edits.rewriteMap(value, [], [["id-token", "write"]]);
        else edits.insertPairs(value, undefined, ["id-token: write"]);
      } else if (isScalar(value)) {
        const scope = source.string(value);
        if (scope === "write-all") {
          this.notes.push(
            `${jobId}: permissions are write-all (id-token included): narrow them to what the job needs`,
          );
        } else {
          edits.replaceValue(value, "{ id-token: write, contents: read }");
          if (scope === "read-all")
            this.notes.push(`${jobId}: read-all became contents: read; add other read scopes the job needs`);
        }
      }
      return;
    }
    const entries = new Map<string, string>();
    const workflowLevel = source.resolve(source.pair(source.root, "permissions")?.value);
    if (isMap(workflowLevel)) {
      // Job-level permissions replace the workflow's: carry its scopes over so nothing else is lost.
      for (const entry of source.pairs(workflowLevel)) {
        const key = source.keyOf(entry);
        const value = source.string(entry.value);
        if (key && value) entries.set(key, value);
      }
    } else if (source.string(workflowLevel) === "write-all") {
      this.notes.push(
        `${jobId}: the workflow grants write-all; the job now gets only id-token and contents: add what it needs`,
      );
    }
    entries.set("id-token", "write");
    if (!entries.has("contents")) entries.set("contents", "read");
    const before = source.pair(job, "steps") ?? source.pair(job, "uses");
    edits.insertPairs(job, before, [
      "permissions:",
      ...[...entries].map(([key, value]) => `${this.pad()}${key}: ${yamlScalar(value)}`),
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
            return (named || secretNamesIn(value ?? "").some(isAwsKeySecretName)) && isStaticSource(value);
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
            if (secretNamesIn(raw).some(isAwsKeySecretName)) plan.secretReferences.push(line);
            if (raw.trim() && !raw.trim().startsWith("#")) content++;
          }
        }
        plan.removeWholeStep = plan.runLines.length > 0 && content === 0;
      } else if (AWS_RUN_LINE.test(text)) {
        if (/&&|\|\||;|\n/.test(text)) plan.secretReferences.push(source.lineOf(range[0]));
        else plan.removeWholeStep = true;
      } else if (secretNamesIn(text).some(isAwsKeySecretName))
        plan.secretReferences.push(source.lineOf(range[0]));
    }
    return plan;
  }

  configureStepLines(role: string, region: string, outputs: boolean): string[] {
    return [
      "name: Configure AWS credentials (OIDC)",
      ...(outputs ? [`id: ${OUTPUTS_STEP_ID}`] : []),
      `uses: ${CONFIGURE_AWS_CREDENTIALS}`,
      "with:",
      `${this.pad()}role-to-assume: ${yamlScalar(role)}`,
      `${this.pad()}role-session-name: ${yamlScalar(this.options.sessionName)}`,
      `${this.pad()}aws-region: ${yamlScalar(region)}`,
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
    return this.options.region;
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
      // facts.md: the session name carries the run id, so CloudTrail names the run.
      edits.replaceValue(sessionName.value, yamlScalar(this.options.sessionName));
    }
    if (!source.pair(withMap, "aws-region")) add.push(["aws-region", region]);
    if (outputsId && !source.pair(withMap, "output-credentials")) add.push(["output-credentials", "true"]);
    edits.rewriteMap(withMap, remove, add);
    if (outputsId && !source.pair(plan.map, "id"))
      edits.insertPairs(plan.map, undefined, [`id: ${outputsId}`]);
  }

  job(pair: Pair): void {
    const { source, edits, options } = this;
    const jobId = source.keyOf(pair) ?? "";
    const job = source.map(pair.value);
    if (!job) return;
    const scanned = this.scan.jobs.find((candidate) => candidate.id === jobId);
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
          (isAwsKeySecretName(name) || secretNamesIn(value ?? "").some(isAwsKeySecretName)) &&
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
        plan.secretReferences.length > 0
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
    const converted = plans.find((plan) => plan.staticConfigure);
    const region = this.regionFor(job, scanned, needIndex);
    const outputsAt = plans.find((plan) => plan.keyInputs.length > 0)?.index;
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
        if (withMap && role !== undefined && outputsId) {
          for (const input of plan.keyInputs) {
            edits.replaceValue(
              input.value,
              yamlScalar(`\${{ steps.${outputsId}.outputs.${outputFor(source.keyOf(input) ?? "")} }}`),
            );
          }
          const uses = source.string(source.get(plan.map, "uses")) ?? "";
          const names = source.pairs(withMap).map((entry) => source.keyOf(entry) ?? "");
          if (!names.some((name) => /session/i.test(name))) {
            this.notes.push(
              `${jobId}: ${uses} now receives temporary credentials; if it has a session-token input, pass \${{ steps.${outputsId}.outputs.aws-session-token }} too`,
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
          this.configureStepLines(role, region, outputsId === OUTPUTS_STEP_ID),
        );
        needsIdToken = true;
      }
    }
    if (role === undefined && needIndex !== undefined) {
      this.notes.push(`${jobId}: gets no role, so its static keys are removed and it no longer reaches AWS`);
    }
    if (needsIdToken) this.ensureIdToken(jobId, job);
  }

  run(): void {
    const { source } = this;
    this.workflowHadKeys = this.cleanEnv(source.pair(source.root, "env"));
    this.callSecrets();
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
