"""Media built by the tests and the benches (``bench/`` puts the project root on sys.path to import it): plain
WAV files, encoded streams, and the upload bombs of issue 18 (a zip-bombed OOXML document, a PNG carrying a giant
XMP packet, a video longer than anonymous requests may decode)."""

from __future__ import annotations

import io
import math
import wave
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

DOCX_TYPES = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
              b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
              b'wordprocessingml.document.main+xml"/></Types>')


def wav_bytes(samples: np.ndarray, rate: int = 16000) -> bytes:
    """Mono 16-bit PCM WAV of float samples in [-1, 1]."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def mux(out: Any, stream: Any, frames: Iterable[Any]) -> None:
    """Encode ``frames`` into a PyAV output ``stream`` of the container ``out``, then flush the encoder."""
    for frame in frames:
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def docx_bomb(unzipped_mb: int = 64) -> bytes:
    """A small .docx whose document.xml inflates to ``unzipped_mb`` MB (an OOXML zip bomb)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", DOCX_TYPES)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            row = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 30_000
            for _ in range(unzipped_mb * (1 << 20) // len(row)):
                fh.write(row)
            fh.write(b"</w:body></w:document>")
    return buf.getvalue()


def png_with_xmp(size: int) -> bytes:
    """A 64x64 PNG carrying an XMP packet padded to ``size`` bytes."""
    info = PngImagePlugin.PngInfo()
    pad = "x" * size
    info.add_itxt("XML:com.adobe.xmp", f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><!-- {pad} --></x:xmpmeta>')
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 30)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _frame(av: Any, size: tuple[int, int], i: int) -> Any:
    frame = av.VideoFrame.from_image(Image.new("RGB", size, (i * 3 % 255, 20, 20)))
    frame.pts = i
    return frame


def long_video(path: Path, size: tuple[int, int], seconds: int, fps: int = 1) -> bytes:
    """An H.264 MP4 of ``seconds`` at ``fps`` (cheap to encode: ultrafast, lowest quality), written to ``path``."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "51"}
        mux(out, stream, (_frame(av, size, i) for i in range(seconds * fps)))  # one frame in memory at a time
    return path.read_bytes()


def rotate_crop(im: Image.Image, deg: float, resize_back: bool) -> Image.Image:
    """Rotate by any angle, keep the largest centred same-aspect rectangle free of borders (optionally resized back:
    a photo editor's "straighten")."""
    w, h = im.size
    a = math.radians(abs(deg) % 180)
    a = min(a, math.pi - a)
    s = min(w / (w * math.cos(a) + h * math.sin(a)), h / (w * math.sin(a) + h * math.cos(a)))
    cw, ch = int(w * s), int(h * s)
    x, y = (w - cw) // 2, (h - ch) // 2
    out = im.rotate(deg, resample=Image.BICUBIC).crop((x, y, x + cw, y + ch))
    return out.resize((w, h), Image.BICUBIC) if resize_back else out


def espeak_wav(path: Path, text: str, voice: str = "en", speed: int = 150, pitch: int = 50) -> Path:
    """Speech from espeak-ng written to ``path`` (Debian package espeak-ng; `make test` installs it): a test that
    needs real speech fails, not skips, where it is missing."""
    import shutil
    import subprocess

    exe = shutil.which("espeak-ng")
    if exe is None:
        import pytest

        pytest.fail("espeak-ng is not installed: apt-get install espeak-ng (make system-deps installs it)")
    subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text], check=True,
                   capture_output=True, timeout=60)
    return path
