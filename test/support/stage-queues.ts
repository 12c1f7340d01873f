/**
 * The queues between the deployed stages, in memory: records every hand-over, in order, and fails
 * on demand (SQS unreachable).
 */
import type { InvestigationTask, NotificationTask } from "../../src/domain/stage-task.js";
import type { StageQueues } from "../../src/ports.js";

export class RecordingStageQueues implements StageQueues {
  readonly investigated: Array<Extract<InvestigationTask, { kind: "investigate" }>> = [];
  /** The follow-through's hand-overs to a fresh run. */
  readonly followThroughs: Array<Extract<InvestigationTask, { kind: "follow-through" }>> = [];
  readonly notified: NotificationTask[] = [];
  failInvestigate: Error[] = [];
  failNotify: Error[] = [];
  async investigate(task: InvestigationTask): Promise<void> {
    const failure = this.failInvestigate.shift();
    if (failure) throw failure;
    if (task.kind === "follow-through") this.followThroughs.push(structuredClone(task));
    else this.investigated.push(structuredClone(task));
  }
  async notify(task: NotificationTask): Promise<void> {
    const failure = this.failNotify.shift();
    if (failure) throw failure;
    this.notified.push(structuredClone(task));
  }
}
