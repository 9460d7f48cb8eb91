/** merge: default, each transition of MergeOptions, three inputs, one input. */
import { clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, merge } = sdk;
const transitions: (string | undefined)[] = [undefined, "cut", "crossfade", "dissolve"];

emit(
  await runAll([
    ...transitions.map((t): [string, () => ReturnType<typeof run>] => {
      const name = `transition_${t ?? "default"}`;
      return [name, () => run(name, compose(clip(`${name} a`), clip(`${name} b`), t ? merge({ transition: t }) : merge()))];
    }),
    ["three_inputs", () => run("three_inputs", compose(clip("one"), clip("two"), clip("three"), merge({ transition: "crossfade" })))],
    ["one_input", () => run("one_input", compose(clip("alone"), merge({ transition: "cut" })))],
  ]),
);
