/**
 * baseExecutionId: a variant of a completed base reuses its jobs and runs only the new ones -
 * through execute({baseExecutionId}) and through executeFromPlan(plan, {baseExecutionId}) (which
 * posts the base in options and waits for the execution itself).
 */
import { API_KEY, API_URL, clip, emit, run, sdk } from "./harness.js";

const { compose, merge, reframe, executeFromPlan } = sdk;

const scenes = () => merge([clip("current base a", { seed: 41 }), clip("current base b", { seed: 42 })]);
const base = await run("base", compose(scenes()));
const variant = await run("variant", compose(scenes(), reframe({ aspectRatio: "9:16" })), { baseExecutionId: base.id });

const stored = compose(scenes(), reframe({ aspectRatio: "1:1" })).toJSON();
let fromPlan: Record<string, unknown>;
try {
  const execution = await executeFromPlan(stored, { apiUrl: API_URL, apiKey: API_KEY, baseExecutionId: base.id });
  fromPlan = { plan: stored, id: execution.id, status: execution.status, result: execution.result };
} catch (err) {
  fromPlan = { plan: stored, error: err instanceof Error ? err.message : String(err) };
}
emit({ base, variant, fromPlan });
