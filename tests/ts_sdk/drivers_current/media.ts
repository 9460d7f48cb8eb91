/**
 * Today's SDK's media operations (issue 19), one case per operation and option, run concurrently:
 * layers() (presets, tailwind and custom placements, chroma key, timelines, main layer, explicit
 * duration and size), merge() of images and audio (slideshows, music beds with offset and volume,
 * trims), generateImage() and generateAudio() on the fake vendors (Replicate, fal, ElevenLabs,
 * Hume), generated images and speech inside merges, layers and an image-to-video model, and
 * removeBackgroundWithModel(). Served media: ARGS.speechVideoEnUrl (640x360, 2.5 s, speech),
 * ARGS.clipUrl (320x240, 1 s), ARGS.logoUrl (64x64 red PNG with a transparent border),
 * ARGS.greenUrl (a red box on green, 320x240, 2 s), ARGS.photoUrl (320x240 jpg),
 * ARGS.musicUrl (a 4 s tone, mp3).
 */
import { ARGS, emit, run, runAll, sdk } from "./harness.js";

const { compose, merge, layers, captions, generateImage, generateAudio, generateVideo, removeBackgroundWithModel } = sdk;
const { imageModel, audioModel, videoModel } = sdk;
const keys = ARGS.vendorKeys;
const speech = ARGS.speechVideoEnUrl;
const nano = () => imageModel("google/nano-banana", { provider: "replicate", apiKey: keys.replicate });
const eleven = () => audioModel("elevenlabs/turbo-v2.5", { provider: "elevenlabs", apiKey: keys.elevenlabs });
const picture = (prompt: string) => generateImage({ model: nano(), prompt, aspectRatio: "1:1", outputFormat: "png" });
const WORDS = [
  { word: "Once", start: 0.1, end: 0.6 },
  { word: "upon", start: 0.6, end: 1.1 },
  { word: "a", start: 1.1, end: 1.3 },
  { word: "time", start: 1.3, end: 2.0 },
];
const voice = (text: string) => generateAudio({ model: eleven(), text, voiceId: ARGS.voiceId });

emit(
  await runAll([
    // -- layers ----------------------------------------------------------------------------------
    ["layers_pip", () => run("layers_pip", compose(layers([{ media: speech }, { media: ARGS.clipUrl, placement: "pip" }])))],
    ["layers_logo", () => run("layers_logo", compose(layers([{ media: speech }, { media: ARGS.logoUrl, placement: "top-right" }])))],
    ["layers_center", () => run("layers_center", compose(layers([{ media: speech }, { media: ARGS.logoUrl, placement: "center" }])))],
    ["layers_tailwind", () => run("layers_tailwind", compose(layers([{ media: speech }, { media: ARGS.clipUrl, placement: "w-1/4 h-1/4 bottom-left" }])))],
    [
      "layers_custom",
      () =>
        run(
          "layers_custom",
          compose(layers([{ media: speech }, { media: ARGS.logoUrl, placement: { width: "100", height: "100", position: { x: "50", y: "100" } } }])),
        ),
    ],
    [
      "layers_percent",
      () =>
        run(
          "layers_percent",
          compose(layers([{ media: speech }, { media: ARGS.clipUrl, placement: { width: "25%", position: { x: "100%", y: "100%" }, padding: 20 } }])),
        ),
    ],
    [
      "layers_chroma",
      () => run("layers_chroma", compose(layers([{ media: speech }, { media: ARGS.greenUrl, placement: "w-1/2 bottom-right", chromaKey: true }]))),
    ],
    [
      "layers_timeline",
      () =>
        run(
          "layers_timeline",
          compose(layers([{ media: speech, main: true }, [{ media: ARGS.logoUrl, duration: 1, placement: "top-left" }, { media: ARGS.photoUrl, placement: "w-1/3 top-left" }]])),
        ),
    ],
    [
      "layers_duration_size",
      () => run("layers_duration_size", compose(layers([{ media: ARGS.photoUrl }, { media: ARGS.logoUrl, placement: "center" }], { duration: 2, width: 480, height: 270 }))),
    ],
    ["layers_main", () => run("layers_main", compose(layers([{ media: ARGS.photoUrl }, { media: ARGS.clipUrl, placement: "w-1/2 center", main: true }])))],
    // -- the caption presets that need their own fonts, scale and shadow ---------------------------
    ["captions_story", () => run("captions_story", compose(captions({ video: speech, captions: WORDS, style: { preset: "story" } })))],
    ["captions_cinematic", () => run("captions_cinematic", compose(captions({ video: speech, captions: WORDS, style: { preset: "cinematic" } })))],
    // -- merges of images and audio ---------------------------------------------------------------
    ["merge_slideshow", () => run("merge_slideshow", compose(merge([ARGS.photoUrl, ARGS.photoUrl, ARGS.logoUrl])))],
    ["merge_image_durations", () => run("merge_image_durations", compose(merge([{ url: ARGS.photoUrl, duration: 2 }, { url: ARGS.logoUrl, duration: 1 }])))],
    ["merge_music", () => run("merge_music", compose(merge([speech, { url: ARGS.musicUrl, offset: 0 }])))],
    ["merge_offset", () => run("merge_offset", compose(merge([ARGS.clipUrl, speech, { url: ARGS.musicUrl, offset: 1.5 }])))],
    ["merge_volume", () => run("merge_volume", compose(merge([{ url: speech, volume: 0.3 }, { url: ARGS.musicUrl, volume: 0.8 }])))],
    ["merge_trim", () => run("merge_trim", compose(merge([{ url: speech, duration: 1 }, ARGS.clipUrl])))],
    ["merge_mixed", () => run("merge_mixed", compose(merge([ARGS.clipUrl, { url: ARGS.photoUrl, duration: 1.5 }, speech, { url: ARGS.musicUrl, volume: 0.5 }])))],
    // -- images and speech on vendors --------------------------------------------------------------
    ["image_replicate", () => run("image_replicate", compose(picture("a red fox, studio light")))],
    [
      "image_fal",
      () =>
        run("image_fal", compose(generateImage({ model: imageModel("google/nano-banana", "fal"), prompt: "a blue whale", aspectRatio: "16:9" })), {
          providerApiKeys: { fal: keys.fal },
        }),
    ],
    [
      "image_seedream",
      () => run("image_seedream", compose(generateImage({ model: imageModel("bytedance/seedream-4", { provider: "replicate", apiKey: keys.replicate }), prompt: "a city at night" }))),
    ],
    [
      "image_background_remover",
      () =>
        run(
          "image_background_remover",
          compose(generateImage({ model: imageModel("codeplugtech/background_remover", { provider: "replicate", apiKey: keys.replicate }), image: ARGS.photoUrl })),
        ),
    ],
    ["speech_elevenlabs", () => run("speech_elevenlabs", compose(voice("Hello from ElevenLabs")))],
    [
      "speech_hume",
      () =>
        run(
          "speech_hume",
          compose(
            generateAudio({
              model: audioModel("hume/tts", { provider: "hume", apiKey: keys.hume }),
              text: "Hello from Hume",
              voice: { name: "Ava Song", provider: "HUME_AI" },
              description: "calm and warm",
            }),
          ),
        ),
    ],
    // -- generated media inside other operations ---------------------------------------------------
    ["merge_generated", () => run("merge_generated", compose(merge([{ url: picture("title card"), duration: 2 }, { url: voice("Welcome to the show"), offset: 0.5 }])))],
    ["layer_generated", () => run("layer_generated", compose(layers([{ media: speech }, { media: picture("a round logo"), placement: "w-1/4 top-left" }])))],
    [
      "video_from_image",
      () => run("video_from_image", compose(generateVideo({ model: videoModel("bytedance/seedance-1-pro", { provider: "replicate", apiKey: keys.replicate }), prompt: "the fox runs", image: picture("a fox") }))),
    ],
    [
      "talking_head",
      () =>
        run(
          "talking_head",
          compose(
            generateVideo({
              model: videoModel("veed/fabric-1.0", { provider: "fal", apiKey: keys.fal }),
              image: generateImage({ model: imageModel("google/nano-banana", { provider: "fal", apiKey: keys.fal }), prompt: "a portrait" }),
              audio: voice("Hello, I am a talking head"),
              resolution: "480p",
            }),
          ),
        ),
    ],
    [
      "remove_background",
      () =>
        run(
          "remove_background",
          compose(
            removeBackgroundWithModel({
              model: { provider: "replicate", modelId: "arielreplicate/robust_video_matting", options: { apiKey: keys.replicate } },
              video: speech,
              output_type: "green-screen",
            }),
          ),
        ),
    ],
  ]),
);
