"""``synthguard watermark embed|detect``: the invisible watermark on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit
from synthguard.errors import ValidationError
from synthguard.marking.imageio import encode_like
from synthguard.marking.watermark import ImageWatermarker
from synthguard.media import write_atomic

wm = typer.Typer(no_args_is_help=True, help="Robust invisible image watermark (LM-11).")
app.add_typer(wm, name="watermark")


@wm.command("embed")
def embed(src: Path, out: Path, payload: Annotated[str, typer.Option(help="16 hex digits (64 bits).")],
          strength: Annotated[Optional[float], typer.Option(help="Embedding strength (default from settings).")] = None,
          as_json: JsonOpt = False) -> None:
    """Embed a 64-bit payload."""
    try:
        data = bytes.fromhex(payload)
    except ValueError:
        raise ValidationError(f"payload {payload!r} is not hex", hint="Give 16 hex digits.") from None
    with core() as sg:
        media = sg.media(src)
        media.require_image()
        marker = ImageWatermarker(sg.keys.watermark, strength or sg.settings.watermark_strength)
        write_atomic(out, encode_like(marker.embed(media.image(), data), media, quality=sg.settings.jpeg_quality))
    emit({"output": str(out), "payload": payload.lower()}, as_json, "embedded")


@wm.command("detect")
def detect(file: Path, as_json: JsonOpt = False) -> None:
    """Detect the watermark: detected, payload, score, p_value."""
    with core() as sg:
        media = sg.media(file)
        media.require_image()
        result = ImageWatermarker(sg.keys.watermark).detect(media.image())
    emit(result.to_dict(), as_json, "watermark")
