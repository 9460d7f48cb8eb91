/**
 * What today's SDK can express but this server refuses at submit, each a clear 422 naming the job:
 * vendor-only operations with no key for their vendor (neither on the server nor in the request),
 * removeBackground() with no model, and a caption animation the renderer has no counterpart for.
 */
import { ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, captions, removeBackground, generateImage, generateAudio, imageModel, audioModel } = sdk;
const words = [{ word: "Hi", start: 0, end: 0.5 }];

emit(
  await runAll([
    ["image_no_key", () => run("image_no_key", compose(generateImage({ model: imageModel("google/nano-banana", "replicate"), prompt: "a dog" })))],
    [
      "speech_no_key",
      () => run("speech_no_key", compose(generateAudio({ model: audioModel("elevenlabs/turbo-v2.5", "elevenlabs"), text: "hello", voiceId: "21m00Tcm4TlvDq8ikWAM" }))),
    ],
    ["removeBackground_no_model", () => run("removeBackground_no_model", compose(clip("green screen me"), removeBackground()))],
    ["style_glow", () => run("style_glow", compose(captions({ video: ARGS.clipUrl, captions: words, style: { animationStyle: "glow" } })))],
  ]),
);
