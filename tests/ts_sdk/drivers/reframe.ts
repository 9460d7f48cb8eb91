/**
 * reframe: every aspect ratio of ReframeOptions (each fed by a clip generated in a different
 * aspect ratio, which covers generateVideo's aspectRatio option too), and the crop strategies
 * of the original plan through a hand-built VideoOperation (reframe() itself only sends
 * aspectRatio in this SDK version).
 */
import { ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, reframe } = sdk;
const pairs = ARGS.pairs as [string, string][]; // [generate aspect, reframe aspect]
const crops = ARGS.crops as string[];

emit(
  await runAll([
    ...pairs.map(([from, to]): [string, () => ReturnType<typeof run>] => {
      const name = `ratio_${to}`;
      return [name, () => run(name, compose(clip(`reframe from ${from}`, { aspectRatio: from, seed: 11 }), reframe({ aspectRatio: to })))];
    }),
    ...crops.map((crop): [string, () => ReturnType<typeof run>] => {
      const name = `crop_${crop}`;
      const op = { type: "reframe", params: { aspectRatio: "9:16", crop } };
      return [name, () => run(name, compose(clip("wide scene for cropping", { seed: 5 }), op))];
    }),
  ]),
);
