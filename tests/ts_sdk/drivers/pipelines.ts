/** lipSync and combined pipelines: chains, nesting, branching, reuse of operations. */
import { ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, merge, reframe, lipSync } = sdk;

const inner = compose(clip("nested a"), clip("nested b"), merge({ transition: "dissolve" }));
const nested = compose(inner, reframe({ aspectRatio: "1:1" }));
const flat = compose(...inner.getOperations(), reframe({ aspectRatio: "1:1" }));
const shared = clip("shared base", { seed: 21 }); // one operation object in two pipelines

const results = await runAll([
  ["lipsync", () => run("lipsync", compose(clip("talking head", { duration: 2 }), lipSync({ audioUrl: ARGS.voiceUrl })))],
  [
    "chain",
    () =>
      run(
        "chain",
        compose(
          clip("chain a"),
          clip("chain b"),
          clip("chain c"),
          merge({ transition: "crossfade" }),
          reframe({ aspectRatio: "9:16" }),
          lipSync({ audioUrl: ARGS.voiceUrl }),
        ),
      ),
  ],
  ["nested", () => run("nested", nested)],
  ["branch_vertical", () => run("branch_vertical", compose(shared, reframe({ aspectRatio: "9:16" })))],
  ["branch_square", () => run("branch_square", compose(shared, reframe({ aspectRatio: "4:3" })))],
  ["merge_then_lipsync", () => run("merge_then_lipsync", compose(clip("m a"), clip("m b"), merge(), lipSync({ audioUrl: ARGS.voiceUrl })))],
  ["two_clips_no_merge", () => run("two_clips_no_merge", compose(clip("free a"), clip("free b")))],
  ["no_progress_callback", () => run("no_progress_callback", compose(clip("quiet")), { progress: false })],
]);
emit({ results, nestedEqualsFlat: JSON.stringify(nested.toJSON()) === JSON.stringify(flat.toJSON()) });
