"""Single-generation rendering: every artefact encoded once from its stored sources.

:mod:`~vidassets.render.compiler` (pure) turns a plan into recipes — for each ffmpeg-side job, the
chain of operations between it and its nearest stored sources — and says in which order they
land (the plan's root outputs first). :mod:`~vidassets.render.fused` renders one recipe as one
filter graph with one encode, built from the fragments in :mod:`vidassets.media`.
"""
