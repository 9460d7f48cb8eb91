"""Reading decoded frames back, for tests that check what a render shows."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def frame_at(path: Path, t: float) -> np.ndarray:
    """The RGB frame shown at time ``t`` (decoded with PyAV, float32 HxWx3)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(max(0.0, t - 1.0) * av.time_base), backward=True)
        last = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time > t + 1e-3:
                break
            last = frame
        assert last is not None, f"no frame at {t}s in {path}"
        return last.to_ndarray(format="rgb24").astype(np.float32)
