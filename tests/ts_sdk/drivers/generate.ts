/**
 * generateVideo: unified options on the offline renderer, each vendor factory (replicate, fal,
 * googleCloud) with the key in the model options, a vendor without a key, the non-unified form.
 */
import { ARGS, clip, emit, localModel, run, runAll, sdk } from "./harness.js";

const { replicate, fal, googleCloud, generateVideo, compose } = sdk;
const keys = ARGS.vendorKeys as { replicate: string; fal: string; google: string };

emit(
  await runAll([
    [
      "unified_all_options",
      () =>
        run(
          "unified_all_options",
          compose(
            generateVideo({
              model: localModel("any-local-model"),
              prompt: "a lighthouse at dusk",
              duration: 2,
              resolution: "480p",
              aspectRatio: "9:16",
              seed: 7,
              startImage: ARGS.imageUrl,
              endImage: ARGS.imageUrl,
              cameraMotion: "fixed",
            }),
          ),
        ),
    ],
    ["resolution_720p", () => run("resolution_720p", compose(clip("harbour", { resolution: "720p", cameraMotion: "dynamic" })))],
    ["resolution_1080p", () => run("resolution_1080p", compose(clip("harbour", { resolution: "1080p", aspectRatio: "1:1" })))],
    ["seed_1", () => run("seed_1", compose(clip("same prompt", { seed: 1 })))],
    ["seed_2", () => run("seed_2", compose(clip("same prompt", { seed: 2 })))],
    [
      "replicate_unified",
      () =>
        run(
          "replicate_unified",
          compose(
            generateVideo({
              model: replicate("bytedance/seedance-1-pro", { apiKey: keys.replicate }),
              prompt: "replicate unified prompt",
              duration: 5,
              resolution: "480p",
              aspectRatio: "16:9",
              seed: 3,
              startImage: ARGS.imageUrl,
              cameraMotion: "fixed",
            }),
          ),
        ),
    ],
    [
      "fal_unified",
      () =>
        run(
          "fal_unified",
          compose(
            generateVideo({
              model: fal("fal-ai/kling-video/v1/standard/text-to-video", { apiKey: keys.fal }),
              prompt: "fal unified prompt",
              duration: 1,
              aspectRatio: "9:16",
            }),
          ),
        ),
    ],
    [
      "google_unified",
      () =>
        run(
          "google_unified",
          compose(
            generateVideo({
              model: googleCloud("veo-2.0-generate-001", { apiKey: keys.google }),
              prompt: "google unified prompt",
              duration: 5,
              aspectRatio: "16:9",
            }),
          ),
        ),
    ],
    [
      "replicate_without_key",
      () =>
        run(
          "replicate_without_key",
          compose(
            generateVideo({
              model: replicate("bytedance/seedance-1-pro"),
              prompt: "no key prompt",
              duration: 5,
            }),
          ),
        ),
    ],
    [
      // No "prompt" key: the SDK takes the provider-specific branch (unified: false) and spreads
      // every option into params, the `model` object included.
      "replicate_non_unified",
      () =>
        run(
          "replicate_non_unified",
          compose(
            generateVideo({
              model: replicate("acme/image-to-video", { apiKey: keys.replicate }),
              startImage: ARGS.imageUrl,
              duration: 1,
              motion_bucket_id: 127,
            }),
          ),
        ),
    ],
  ]),
);
