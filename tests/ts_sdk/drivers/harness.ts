/**
 * Shared plumbing for the driver scripts (our code, not the SDK's).
 *
 * The SDK is the original @repo/ai-video-sdk source, extracted from the synthome snapshot at test
 * time (never committed) and imported here by path: SYNTHOME_SDK_ENTRY points at its
 * src/index.ts. Every script prints one line `@@RESULT@@ <json>` that the Python test reads.
 *
 * Environment: see ./common.ts.
 */
import { API_KEY, API_URL } from "./common.js";

export { API_KEY, API_URL, ARGS, clip, emit, localModel, runAll, sdk } from "./common.js";
export type { Sdk } from "./common.js";

/**
 * The SDK starts polling inside execute() without awaiting it, so a failed execution surfaces
 * as an unhandled rejection ("Pipeline execution failed") instead of crashing the process.
 * Attribution: the SDK sets execution.status, calls the progress callback, then throws, all in
 * one synchronous step; run()'s progress callback queues its outcome when it sees "failed", and
 * the rejections (emitted in the order they happen) are handed to the queued outcomes in order.
 */
const awaitingRejection: Outcome[] = [];
export const strayErrors: string[] = [];
process.on("unhandledRejection", (reason) => {
  const message = reason instanceof Error ? reason.message : String(reason);
  const owner = message === "Pipeline execution failed" ? awaitingRejection.shift() : undefined;
  if (owner) (owner.sdkErrors ??= []).push(message);
  else strayErrors.push(message);
});

export interface Outcome {
  name: string;
  plan: unknown;
  /** the body the SDK posts: toJSON() plus baseExecutionId / webhook, as execute() builds it */
  request: Record<string, unknown>;
  operations?: number;
  id?: string;
  submitError?: string;
  /** execution.status as the SDK sees it when we stopped waiting */
  status?: string;
  /** the Video handed to onComplete */
  video?: Record<string, unknown>;
  /** progress callbacks, in order */
  progress: Record<string, unknown>[];
  /** rejections of the SDK's background polling (e.g. "Pipeline execution failed") */
  sdkErrors?: string[];
  /** rejections seen while waiting that could not be attributed to one execution */
  strayErrors?: string[];
  timedOut?: boolean;
  /** onComplete registered after completion was called back synchronously */
  lateOnComplete?: boolean;
  elapsedMs?: number;
}

export interface RunOptions {
  /** ExecuteOptions beyond apiUrl/apiKey (baseExecutionId, webhookUrl, webhookSecret, or overrides) */
  execute?: Record<string, unknown>;
  /** register .onProgress (default true) */
  progress?: boolean;
  /** also called on every progress event (with the outcome so far, which has the execution id) */
  onProgress?: (progress: Record<string, unknown>, outcome: Outcome) => void;
  timeoutMs?: number;
}

/**
 * Execute a pipeline through the SDK and wait the way a user does: onProgress + onComplete.
 * With a webhook the SDK does not poll; we return as soon as execute() resolves.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function run(name: string, pipeline: any, opts: RunOptions = {}): Promise<Outcome> {
  const started = Date.now();
  const progress: Record<string, unknown>[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let execution: any;
  if (opts.progress !== false) {
    const same = pipeline.onProgress((p: Record<string, unknown>) => {
      progress.push({ ...p, status: execution?.status }); // status: what this poll told the SDK
      if (execution?.status === "failed") awaitingRejection.push(outcome);
      opts.onProgress?.(p, outcome);
    });
    if (same !== pipeline) throw new Error("onProgress() must return the pipeline for chaining");
  }
  const plan = pipeline.toJSON();
  const request: Record<string, unknown> = { ...plan };
  if (opts.execute?.baseExecutionId) request.baseExecutionId = opts.execute.baseExecutionId;
  if (opts.execute?.webhookUrl) request.webhook = { url: opts.execute.webhookUrl, secret: opts.execute.webhookSecret };
  const outcome: Outcome = {
    name,
    plan,
    request,
    operations: pipeline.getOperations().length,
    progress,
  };
  const strayBefore = strayErrors.length;
  try {
    execution = await pipeline.execute({ apiUrl: API_URL, apiKey: API_KEY, ...(opts.execute ?? {}) });
  } catch (err) {
    outcome.submitError = err instanceof Error ? err.message : String(err);
    outcome.elapsedMs = Date.now() - started;
    return outcome;
  }
  outcome.id = execution.id;
  if (opts.execute?.webhookUrl) {
    outcome.status = execution.status;
    outcome.elapsedMs = Date.now() - started;
    return outcome;
  }
  const timeoutMs = opts.timeoutMs ?? 240_000;
  const video = await new Promise<Record<string, unknown> | undefined>((resolve) => {
    const timer = setInterval(() => {
      // The SDK sets execution.status from every poll, then throws on "failed"; it has no
      // terminal state for "cancelled" and would poll forever, so stop on that too.
      if (execution.status === "failed" || execution.status === "cancelled") {
        clearInterval(timer);
        clearTimeout(deadline);
        setTimeout(() => resolve(undefined), 100); // let the rejection be recorded
      }
    }, 50);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      outcome.timedOut = true;
      resolve(undefined);
    }, timeoutMs);
    execution.onComplete((v: Record<string, unknown>) => {
      clearInterval(timer);
      clearTimeout(deadline);
      resolve(v);
    });
  });
  outcome.status = execution.status;
  outcome.video = video;
  outcome.sdkErrors ??= [];
  if (outcome.timedOut || (outcome.status === "failed" && outcome.sdkErrors.length === 0)) {
    outcome.strayErrors = strayErrors.slice(strayBefore); // rejections we could not attribute
  }
  if (video) {
    let late = false;
    execution.onComplete(() => {
      late = true;
    });
    outcome.lateOnComplete = late;
  }
  outcome.elapsedMs = Date.now() - started;
  return outcome;
}

