/**
 * Shared plumbing for the driver scripts of today's SDK (our code, not the SDK's).
 *
 * The SDK is @synthome/sdk (synthome packages/synthome-sdk at 1ac63f8), extracted from the
 * synthome snapshot at test time (never committed) and imported here by path: SYNTHOME_SDK_ENTRY
 * points at its src/index.ts. Every script prints one line `@@RESULT@@ <json>` that the Python
 * test reads. Environment: see ../drivers/common.ts.
 *
 * This SDK's execute() posts {executionPlan, options} and then waits: it polls the status until
 * "completed" (and resolves with the execution, its result set) or "failed" (and rejects with the
 * execution's error). With options.webhook it returns at once. To see what it sent and got, we
 * watch the global fetch (observing only: requests and answers pass through unchanged).
 */
import { API_KEY, API_URL } from "../drivers/common.js";

export { API_KEY, API_URL, ARGS, clip, emit, localModel, runAll, sdk } from "../drivers/common.js";
export type { Sdk } from "../drivers/common.js";

/** Every POST to the execute endpoint: the body the SDK built, the status and answer it got. */
interface Submitted {
  body: Record<string, unknown>;
  status: number;
  answer: unknown;
}
const submitted: Submitted[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const response = await realFetch(input, init);
  if (String(input) === API_URL && init?.method === "POST" && typeof init.body === "string") {
    const answer = await response.clone().json().catch(() => null);
    submitted.push({ body: JSON.parse(init.body), status: response.status, answer });
  }
  return response;
};

// The SDK logs failed statuses with console.log; keep stdout for our result line only.
console.log = (...parts: unknown[]) => process.stderr.write(parts.map(String).join(" ") + "\n");

export interface Outcome {
  name: string;
  /** pipeline.toJSON() */
  plan: unknown;
  /** the body the SDK posted, as it was sent */
  request?: Record<string, unknown>;
  /** HTTP status of that POST and the server's answer */
  httpStatus?: number;
  answer?: unknown;
  id?: string;
  /** what execute() rejected with */
  error?: string;
  /** execution.status / execution.result once execute() resolved */
  status?: string;
  result?: Record<string, unknown>;
  progress: Record<string, unknown>[];
  elapsedMs?: number;
}

/** Execute a pipeline through the SDK as a user does (await execute()) and record what happened. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function run(name: string, pipeline: any, execute: Record<string, unknown> = {}): Promise<Outcome> {
  const started = Date.now();
  const progress: Record<string, unknown>[] = [];
  pipeline.onProgress((p: Record<string, unknown>) => progress.push({ ...p }));
  const plan = pipeline.toJSON();
  const outcome: Outcome = { name, plan, progress };
  const before = submitted.length;
  try {
    const execution = await pipeline.execute({ apiUrl: API_URL, apiKey: API_KEY, ...execute });
    outcome.id = execution.id;
    outcome.status = execution.status;
    outcome.result = execution.result;
  } catch (err) {
    outcome.error = err instanceof Error ? err.message : String(err);
  }
  // Ours is the POST whose plan is this pipeline's (cases run concurrently; their plans differ).
  const mine = submitted.slice(before).concat(submitted.slice(0, before)).find(
    (s) => JSON.stringify((s.body.executionPlan as Record<string, unknown>)?.jobs) === JSON.stringify(plan.jobs),
  );
  if (mine) {
    outcome.request = mine.body;
    outcome.httpStatus = mine.status;
    outcome.answer = mine.answer;
    const answer = mine.answer as Record<string, unknown> | null;
    outcome.id ??= typeof answer?.executionId === "string" ? answer.executionId : undefined;
  }
  outcome.elapsedMs = Date.now() - started;
  return outcome;
}

