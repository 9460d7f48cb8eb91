/**
 * Base executions (EXECUTION.md): run a base pipeline, then variants that compose() it with more
 * operations and pass baseExecutionId; plus the "only the new jobs" request shape, an unknown
 * base and a base that has not completed yet.
 */
import { API_KEY, API_URL, ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, merge, reframe, lipSync } = sdk;

const productDemo = compose(clip("product scene 1", { seed: 31 }), clip("product scene 2", { seed: 32 }), merge({ transition: "crossfade" }));
const base = await run("base", productDemo);
const onBase = { execute: { baseExecutionId: base.id } };

const variants = await runAll([
  ["vertical", () => run("vertical", compose(productDemo, reframe({ aspectRatio: "9:16" })), onBase)],
  ["voiced", () => run("voiced", compose(productDemo, lipSync({ audioUrl: ARGS.voiceUrl }), reframe({ aspectRatio: "1:1" })), onBase)],
  ["only_new_jobs", () => run("only_new_jobs", compose(lipSync({ audioUrl: ARGS.voiceUrl }), reframe({ aspectRatio: "9:16" })), onBase)],
  ["unknown_base", () => run("unknown_base", compose(productDemo, reframe({ aspectRatio: "9:16" })), { execute: { baseExecutionId: "exec-does-not-exist" } })],
]);

// A base still running: the variant is posted right after the base was accepted.
const slowBase = compose(clip("slow base a", { duration: 2, resolution: "720p" }), clip("slow base b", { duration: 2, resolution: "720p" }), merge());
const slowExecution = await slowBase.execute({ apiUrl: API_URL, apiKey: API_KEY });
const early = await run("early_variant", compose(slowBase, reframe({ aspectRatio: "9:16" })), { execute: { baseExecutionId: slowExecution.id } });

emit({ base, variants, early, slowBaseId: slowExecution.id });
