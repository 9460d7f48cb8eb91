/**
 * The examples of today's SDK docs (synthome apps/web/content/docs at 1ac63f8) that need no real
 * vendor account, as written there, with the example.com URLs replaced by served media
 * (videos: ARGS.clipUrl 1 s, ARGS.speechVideoEnUrl 2.5 s of English speech; images, audio as
 * named). "runs" examples use only operations this server performs; "refused" ones use fields
 * or operations it cannot perform yet and must be refused at submit, naming them.
 */
import { ARGS, emit, run, runAll, sdk } from "./harness.js";

const { compose, merge, captions, audioModel } = sdk;
const fastWhisper = () => audioModel("vaibhavs10/incredibly-fast-whisper", "replicate");
const whisper = () => audioModel("openai/whisper", "replicate");
const speech = ARGS.speechVideoEnUrl;
const video = ARGS.clipUrl;

// [name, doc page and section, pipeline]
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const examples: [string, string, () => any][] = [
  ["merge_videos", "operations/merge.mdx: Merge Videos", () => compose(merge([video, speech, video]))],
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
  ["refused_cinematic", "models/fast-whisper.mdx: Cinematic", () => compose(captions({ video: speech, model: fastWhisper(), style: { preset: "cinematic", fontFamily: "Georgia", fontSize: 42 } }))],
  ["refused_slideshow", "operations/merge.mdx: Image Slideshow", () => compose(merge([ARGS.imageUrl, ARGS.imageUrl]))],
  ["refused_music", "operations/merge.mdx: Background Music", () => compose(merge([video, { url: ARGS.voiceUrl, offset: 0 }]))],
  ["refused_volume", "operations/merge.mdx: Volume Control", () => compose(merge([{ url: video, volume: 0.3 }, { url: ARGS.voiceUrl, volume: 0.8 }]))],
];

const outcomes = await runAll(examples.map(([name, , make]) => [name, () => run(name, make())]));
emit(Object.fromEntries(examples.map(([name, where]) => [name, { ...outcomes[name], doc: where }])));
