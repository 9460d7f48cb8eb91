/** Operations of today's SDK this server cannot perform yet: each must be a clear 422 at submit. */
import { ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, merge, captions, layers, removeBackground, generateImage, generateAudio, imageModel, audioModel } = sdk;
const words = [{ word: "Hi", start: 0, end: 0.5 }];

emit(
  await runAll([
    ["generateImage", () => run("generateImage", compose(generateImage({ model: imageModel("google/nano-banana", "replicate"), prompt: "a dog" })))],
    [
      "generateAudio",
      () => run("generateAudio", compose(generateAudio({ model: audioModel("elevenlabs/turbo-v2.5", "elevenlabs"), text: "hello", voiceId: "21m00Tcm4TlvDq8ikWAM" }))),
    ],
    ["layer", () => run("layer", compose(layers([{ media: ARGS.clipUrl }, { media: ARGS.imageUrl, placement: "picture-in-picture" }])))],
    ["removeBackground", () => run("removeBackground", compose(clip("green screen me"), removeBackground()))],
    ["merge_image", () => run("merge_image", compose(merge([ARGS.clipUrl, { url: ARGS.imageUrl, duration: 2 }])))],
    ["merge_audio", () => run("merge_audio", compose(merge([ARGS.clipUrl, { url: ARGS.voiceUrl, offset: 0 }])))],
    ["merge_trim", () => run("merge_trim", compose(merge([{ url: ARGS.clipUrl, duration: 0.5 }])))],
    ["preset_cinematic", () => run("preset_cinematic", compose(captions({ video: ARGS.clipUrl, captions: words, style: { preset: "cinematic" } })))],
  ]),
);
