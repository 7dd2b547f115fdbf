"""``synthguard watermark embed|detect``: the invisible watermark on its own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit, open_media
from synthguard.codecs.image import encode_like
from synthguard.config import Settings
from synthguard.errors import UnsupportedMediaError, ValidationError
from synthguard.i18n import N_
from synthguard.marking.base import LabelContext, Marker
from synthguard.marking.watermark import ImageWatermarker
from synthguard.media import Media, Modality, write_atomic
from synthguard.secret_files import watermark_key

if TYPE_CHECKING:
    from synthguard.core import SynthGuard

wm = typer.Typer(no_args_is_help=True, help="Robust invisible watermark for images, audio and video (LM-11).")
app.add_typer(wm, name="watermark")


@wm.command("embed")
def embed(src: Path, out: Path, payload: Annotated[str, typer.Option(help="16 hex digits (64 bits).")],
          strength: Annotated[Optional[float], typer.Option(help="Embedding strength (default from settings).")] = None,
          as_json: JsonOpt = False) -> None:
    """Embed a 64-bit payload into an image, audio or video file."""
    from datetime import UTC, datetime


    try:
        data = bytes.fromhex(payload)
    except ValueError:
        raise ValidationError("payload {payload!r} is not hex", hint="Give 16 hex digits.",
                              values={"payload": payload}) from None
    if len(data) != 8:
        raise ValidationError("payload has {size} bytes, not 8", hint="Give 16 hex digits.",
                              values={"size": len(data)})
    with core() as sg:
        media = sg.media(src)
        media.decode()
        if media.modality is Modality.IMAGE:
            marker = ImageWatermarker(sg.keys.watermark, strength or sg.settings.watermark_strength)
            write_atomic(out, encode_like(marker.embed(media.image(), data), media, quality=sg.settings.jpeg_quality))
        else:
            ctx = LabelContext(content_id="", producer="", created=datetime.now(UTC), watermark_payload=data)
            marked = _marker(sg, media).mark(media, ctx)
            write_atomic(out, marked.data)
    emit({"output": str(out), "payload": payload.lower()}, as_json, N_("embedded"))


@wm.command("detect")
def detect(file: Path, as_json: JsonOpt = False) -> None:
    """Detect the watermark: detected, payload, score, p_value."""
    media = open_media(file)
    if media.modality is Modality.IMAGE:  # images need only the key: no database, no marker registry
        media.decode()
        result = ImageWatermarker(watermark_key(Settings.load())).detect(media.image()).to_dict()
    else:
        with core() as sg:
            media = sg.media(file)
            media.decode()
            reading = _marker(sg, media).read(media)
            result = dict(reading.data) | {"problems": list(reading.problems)}
    emit(result, as_json, N_("watermark"))


def _marker(sg: SynthGuard, media: Media) -> Marker:
    name = f"{media.modality.value}.watermark"
    if name not in sg.registry:
        raise UnsupportedMediaError("no robust watermark for {modality}", path=media.name,
                                    hint="Text is watermarked at generation time: see docs (text watermark hook).",
                                    values={"modality": media.modality.value})
    return sg.marker(name)
