"""Check SynthGuard's numpy speaker encoder against the original resemblyzer (torch) model.

Two steps, because torch must never enter the project's venv:

1. In a throwaway venv with torch (``python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch librosa
   webrtcvad-wheels && /tmp/torchvenv/bin/pip install --no-deps resemblyzer``)::

       /tmp/torchvenv/bin/python scripts/check_voice_encoder.py reference ref.json clip1.wav clip2.wav ...

   writes resemblyzer's own embeddings (``preprocess_wav`` + ``VoiceEncoder.embed_utterance``) to ``ref.json``.
2. In the project's venv::

       .venv/bin/python scripts/check_voice_encoder.py compare ref.json

   embeds the same clips with :mod:`synthguard.consent.voices` and prints the cosine between the two embeddings
   of each clip (1.0 = identical) and the largest absolute difference; exits 1 if any cosine is below 0.999.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def reference(out: str, clips: list[str]) -> None:
    import numpy as np
    from resemblyzer import VoiceEncoder, preprocess_wav

    enc = VoiceEncoder(device="cpu", verbose=False)
    data = {}
    for clip in clips:
        wav = preprocess_wav(Path(clip))
        data[str(Path(clip).resolve())] = np.asarray(enc.embed_utterance(wav), float).tolist()
    Path(out).write_text(json.dumps(data))


def compare(ref: str) -> int:
    import numpy as np

    from synthguard.consent.voices import embed_media
    from synthguard.media import Media

    worst = 1.0
    for clip, emb in json.loads(Path(ref).read_text()).items():
        ours = embed_media(Media.open(clip)).embedding
        theirs = np.asarray(emb, np.float32)
        cos = float(ours @ theirs)
        worst = min(worst, cos)
        print(f"{Path(clip).name:32s} cosine {cos:.6f}  max|diff| {float(np.abs(ours - theirs).max()):.2e}")
    return 0 if worst >= 0.999 else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "reference":
        reference(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 3 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2]))
    else:
        sys.exit(__doc__)
