/**
 * addSubtitles() as this SDK sends it: no text, only {language, style}, so the captions must come
 * from the video's own speech. The spoken track is put on with lipSync (espeak-ng audio); the
 * variants reuse one completed base execution through baseExecutionId.
 */
import { ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, merge, reframe, lipSync, addSubtitles } = sdk;

const speaking = compose(clip("a person speaking", { duration: 2, seed: 9 }), lipSync({ audioUrl: ARGS.speechEnUrl }));
const base = await run("speech_base", speaking);
const onBase = { execute: { baseExecutionId: base.id } };

const results = await runAll([
  ["auto", () => run("auto", compose(speaking, addSubtitles()), onBase)],
  ["minimal", () => run("minimal", compose(speaking, addSubtitles({ style: "minimal" })), onBase)],
  ["bold_en", () => run("bold_en", compose(speaking, addSubtitles({ language: "en", style: "bold" })), onBase)],
  [
    "french",
    () =>
      run(
        "french",
        compose(clip("une personne qui parle", { duration: 2 }), lipSync({ audioUrl: ARGS.speechFrUrl }), addSubtitles({ language: "fr" })),
      ),
  ],
  [
    "everything",
    () =>
      run(
        "everything",
        compose(
          clip("scene one", { duration: 2 }),
          clip("scene two", { duration: 2 }),
          merge({ transition: "crossfade" }),
          reframe({ aspectRatio: "9:16" }),
          lipSync({ audioUrl: ARGS.speechEnUrl }),
          addSubtitles({ style: "bold" }),
        ),
      ),
  ],
]);
emit({ base, results });
