/**
 * Every operation today's SDK has that the server performs, one case each, run concurrently:
 * generateVideo (unified on the local renderer, unified on a vendor with providerApiKeys, a
 * model's own inputs with the key in the model options), merge (URLs; earlier jobs' outputs and a
 * URL, then reframe and lipSync), reframe, lipSync, captions() with a word array (a generated
 * video and a URL; a preset and style fields), captions() with a transcription model (offline
 * without a key, the vendor's model with one) and the older addSubtitles().
 */
import { ARGS, clip, emit, localModel, run, runAll, sdk } from "./harness.js";

const { compose, merge, reframe, lipSync, captions, addSubtitles, generateVideo, videoModel, audioModel } = sdk;
const keys = ARGS.vendorKeys;
const WORDS = [
  { word: "Hello", start: 0.1, end: 0.6 },
  { word: "there", start: 0.6, end: 1.2 },
  { word: "captions", start: 1.2, end: 1.9 },
];

emit(
  await runAll([
    [
      "generate_unified",
      () =>
        run(
          "generate_unified",
          compose(
            generateVideo({
              model: localModel("any-local-model"),
              prompt: "a lighthouse at dusk, today",
              duration: 2,
              resolution: "480p",
              aspectRatio: "9:16",
              seed: 7,
              image: ARGS.imageUrl,
            }),
          ),
        ),
    ],
    [
      "generate_vendor",
      () =>
        run(
          "generate_vendor",
          compose(generateVideo({ model: videoModel("bytedance/seedance-1-pro", "replicate"), prompt: "current replicate prompt", duration: 2, aspectRatio: "16:9", seed: 3 })),
          { providerApiKeys: { replicate: keys.replicate } },
        ),
    ],
    [
      "generate_model_inputs",
      () =>
        run(
          "generate_model_inputs",
          compose(
            generateVideo({
              model: videoModel("bytedance/seedance-1-pro", { provider: "replicate", apiKey: keys.replicate }),
              image: ARGS.imageUrl,
              camera_fixed: true,
              aspect_ratio: "1:1",
              duration: 2,
            }),
          ),
        ),
    ],
    ["merge_urls", () => run("merge_urls", compose(merge([ARGS.clipUrl, ARGS.speechVideoEnUrl])))],
    [
      "merge_jobs",
      () =>
        run(
          "merge_jobs",
          compose(
            merge([clip("merge scene a", { seed: 11 }), { url: clip("merge scene b", { seed: 12 }), type: "video" }, ARGS.clipUrl]),
            reframe({ aspectRatio: "9:16" }),
            lipSync({ audioUrl: ARGS.voiceUrl }),
          ),
        ),
    ],
    ["reframe", () => run("reframe", compose(clip("reframe me today", { seed: 13 }), reframe({ aspectRatio: "1:1" })))],
    ["lipsync", () => run("lipsync", compose(clip("lip sync me today", { duration: 2, seed: 14 }), lipSync({ audioUrl: ARGS.voiceUrl })))],
    [
      "captions_words",
      () => run("captions_words", compose(captions({ video: clip("caption me today", { duration: 2, seed: 21 }), captions: WORDS, style: { preset: "youtube" } }))),
    ],
    [
      "captions_words_url",
      () =>
        run(
          "captions_words_url",
          compose(captions({ video: ARGS.speechVideoEnUrl, captions: WORDS, style: { color: "#FFFF00", fontSize: 40, alignment: "8", fontWeight: "bold" } })),
        ),
    ],
    ["captions_offline", () => run("captions_offline", compose(captions({ video: ARGS.speechVideoEnUrl, model: audioModel("openai/whisper", "replicate") })))],
    [
      "captions_vendor",
      () =>
        run(
          "captions_vendor",
          compose(
            captions({
              video: ARGS.speechVideoEnUrl,
              model: audioModel("vaibhavs10/incredibly-fast-whisper", { provider: "replicate", apiKey: keys.replicate }),
              style: { preset: "tiktok" },
            }),
          ),
        ),
    ],
    [
      "add_subtitles",
      () => run("add_subtitles", compose(clip("speaking today", { duration: 2, seed: 22 }), lipSync({ audioUrl: ARGS.speechEnUrl }), addSubtitles({ style: "bold" }))),
    ],
  ]),
);
