/**
 * The examples of today's SDK docs (synthome apps/web/content/docs at 1ac63f8) that need no real
 * vendor account, as written there, with the example.com URLs replaced by served media
 * (videos: ARGS.clipUrl 1 s, ARGS.speechVideoEnUrl 2.5 s of English speech; images and audio:
 * ARGS.photoUrl, ARGS.logoUrl, ARGS.musicUrl; green and blue screens: ARGS.greenUrl, ARGS.blueUrl). "runs" examples use only operations this server performs; "refused" ones use fields
 * or operations it cannot perform yet and must be refused at submit, naming them.
 */
import { ARGS, emit, run, runAll, sdk } from "./harness.js";

const { compose, merge, captions, layers, audioModel } = sdk;
const fastWhisper = () => audioModel("vaibhavs10/incredibly-fast-whisper", "replicate");
const whisper = () => audioModel("openai/whisper", "replicate");
const speech = ARGS.speechVideoEnUrl;
const video = ARGS.clipUrl;

// [name, doc page and section, pipeline]
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const examples: [string, string, () => any][] = [
  ["merge_videos", "operations/merge.mdx: Merge Videos", () => compose(merge([video, speech, video]))],
  ["merge_slideshow", "operations/merge.mdx: Image Slideshow", () => compose(merge([ARGS.photoUrl, ARGS.photoUrl, ARGS.logoUrl]))],
  [
    "merge_image_duration",
    "operations/merge.mdx: Custom Image Duration",
    () => compose(merge([{ url: ARGS.photoUrl, duration: 3 }, { url: ARGS.photoUrl, duration: 5 }, { url: ARGS.logoUrl, duration: 2 }])),
  ],
  ["merge_music", "operations/merge.mdx: Background Music", () => compose(merge([video, { url: ARGS.musicUrl, offset: 0 }]))],
  ["merge_volume", "operations/merge.mdx: Volume Control", () => compose(merge([{ url: video, volume: 0.3 }, { url: ARGS.musicUrl, volume: 0.8 }]))],
  ["layers_intro", "operations/layers.mdx: layers()", () => compose(layers([{ media: speech }, { media: ARGS.logoUrl, placement: "top-right" }]))],
  ["layers_pip", "operations/layers.mdx: Picture-in-Picture", () => compose(layers([{ media: speech }, { media: video, placement: "pip" }]))],
  ["layers_centered", "operations/layers.mdx: Centered Overlay", () => compose(layers([{ media: speech }, { media: ARGS.logoUrl, placement: "center" }]))],
  ["layers_quarter", "operations/layers.mdx: Combined Examples", () => compose(layers([{ media: speech }, { media: video, placement: "w-1/4 bottom-right" }]))],
  ["layers_half", "operations/layers.mdx: Combined Examples (half)", () => compose(layers([{ media: speech }, { media: video, placement: "w-1/2 center" }]))],
  ["layers_banner", "operations/layers.mdx: Combined Examples (banner)", () => compose(layers([{ media: speech }, { media: ARGS.photoUrl, placement: "h-1/3 top" }]))],
  [
    "layers_custom",
    "operations/layers.mdx: Custom Placement",
    () => compose(layers([{ media: speech }, { media: ARGS.logoUrl, placement: { width: "300", height: "200", position: { x: "50", y: "100" } } }])),
  ],
  [
    "layers_chroma",
    "operations/layers.mdx: Chroma Key",
    () => compose(layers([{ media: speech }, { media: ARGS.greenUrl, placement: "w-1/3 bottom-right", chromaKey: true }])),
  ],
  [
    "layers_chroma_blue",
    "operations/layers.mdx: Custom Chroma Key Settings",
    () => compose(layers([{ media: speech }, { media: ARGS.blueUrl, chromaKey: true, chromaKeyColor: "0000ff", similarity: 0.3, blend: 0.1 }])),
  ],
  ["layers_main", "operations/layers.mdx: Main Layer", () => compose(layers([{ media: speech, main: true }, { media: ARGS.logoUrl, placement: "top-right" }]))],
  ["layers_duration", "operations/layers.mdx: Explicit Duration", () => compose(layers([{ media: ARGS.photoUrl }, { media: ARGS.logoUrl }], { duration: 3 }))],
  ["layers_size", "operations/layers.mdx: Output Dimensions", () => compose(layers([{ media: video }, { media: ARGS.logoUrl }], { width: 640, height: 360 }))],
  [
    "layers_timeline",
    "operations/layers.mdx: Timeline Arrays",
    () =>
      compose(
        layers([
          { media: speech, main: true },
          [
            { media: ARGS.logoUrl, duration: 1 },
            { media: ARGS.photoUrl, duration: 1 },
            { media: ARGS.logoUrl, duration: 1 },
          ],
        ]),
      ),
  ],
  ["merge_type_override", "operations/merge.mdx: Type Detection (override)", () => compose(merge([{ url: speech, type: "video" }]))],
  ["captions_auto", "operations/captions.mdx: Auto-Generated Captions", () => compose(captions({ video: speech, model: fastWhisper() }))],
  [
    "captions_custom",
    "operations/captions.mdx: Custom Captions",
    () =>
      compose(
        captions({
          video: speech,
          captions: [
            { word: "Hello", start: 0.0, end: 0.5 },
            { word: "world", start: 0.5, end: 1.0 },
            { word: "this", start: 1.2, end: 1.4 },
            { word: "is", start: 1.4, end: 1.6 },
            { word: "a", start: 1.6, end: 1.7 },
            { word: "video", start: 1.7, end: 2.2 },
          ],
        }),
      ),
  ],
  ["captions_tiktok", "operations/captions.mdx: Style Presets", () => compose(captions({ video: speech, model: fastWhisper(), style: { preset: "tiktok" } }))],
  [
    "captions_highlight",
    "operations/captions.mdx: Word Highlighting",
    () =>
      compose(captions({ video: speech, model: fastWhisper(), style: { highlightActiveWord: true, activeWordColor: "#FFFF00", inactiveWordColor: "#FFFFFF" } })),
  ],
  ["whisper_youtube", "models/whisper.mdx: Auto-Captioning", () => compose(captions({ video: speech, model: whisper(), style: { preset: "youtube" } }))],
  ["whisper_pipeline", "models/whisper.mdx: Transcription Pipeline", () => compose(captions({ video: merge([video, speech]), model: whisper() }))],
  [
    "fast_whisper_tiktok",
    "models/fast-whisper.mdx: TikTok Style",
    () => compose(captions({ video: speech, model: fastWhisper(), style: { preset: "tiktok", highlightActiveWord: true, activeWordColor: "#FFFF00" } })),
  ],
  ["fast_whisper_youtube", "models/fast-whisper.mdx: YouTube Style", () => compose(captions({ video: speech, model: fastWhisper(), style: { preset: "youtube", wordsPerCaption: 8 } }))],
  // refused: what the server cannot draw or merge yet
  [
    "refused_font_styling",
    "operations/captions.mdx: Custom Font Styling",
    () =>
      compose(
        captions({
          video: speech,
          model: fastWhisper(),
          style: { fontFamily: "Arial", fontSize: 48, fontWeight: "bold", color: "#FFFFFF", outlineColor: "#000000", outlineWidth: 2 },
        }),
      ),
  ],
  [
    "refused_background",
    "operations/captions.mdx: Background Styling",
    () =>
      compose(
        captions({
          video: speech,
          model: fastWhisper(),
          style: { fontFamily: "Arial", fontSize: 48, fontWeight: "normal", color: "#FFFFFF", backgroundColor: "#000000", padding: 20 },
        }),
      ),
  ],
  ["refused_positioning", "operations/captions.mdx: Positioning", () => compose(captions({ video: speech, model: fastWhisper(), style: { alignment: "center", marginV: 50, marginL: 20, marginR: 20 } }))],
  [
    "refused_behaviour",
    "operations/captions.mdx: Caption Behavior",
    () => compose(captions({ video: speech, model: fastWhisper(), style: { wordsPerCaption: 5, maxCaptionDuration: 3, maxCaptionChars: 40 } })),
  ],
  ["fast_whisper_cinematic", "models/fast-whisper.mdx: Cinematic", () => compose(captions({ video: speech, model: fastWhisper(), style: { preset: "cinematic", fontFamily: "Georgia", fontSize: 42 } }))],
];

const outcomes = await runAll(examples.map(([name, , make]) => [name, () => run(name, make())]));
emit(Object.fromEntries(examples.map(([name, where]) => [name, { ...outcomes[name], doc: where }])));
