"""``synthguard label`` and ``synthguard inspect``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synthguard.cli import app
from synthguard.cli.common import JsonOpt, core, emit
from synthguard.config import Settings
from synthguard.i18n import N_, _
from synthguard.inspection import Inspector


@app.command()
def label(
    source: Annotated[Path, typer.Argument(help="The generated file to label: image, audio, video or text.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the labeled file.")],
    user: Annotated[str, typer.Option(help="The service user who generated it (pseudonymous id).")],
    producer: Annotated[Optional[str], typer.Option(help="Provider code (GB-14); default SYNTHGUARD_PRODUCER.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model name and version.")] = None,
    no_visible: Annotated[bool, typer.Option("--no-visible", help="Skip the visible label (LM-20 duties apply).")] = False,
    no_watermark: Annotated[bool, typer.Option("--no-watermark", help="Skip the invisible watermark.")] = False,
    no_c2pa: Annotated[bool, typer.Option("--no-c2pa", help="Skip the C2PA manifest.")] = False,
    source_media: Annotated[Optional[list[Path]], typer.Option("--source", help="Media the edit used (faces/voices): "
                                                                                "the consent gate checks them (DS-15).")] = None,
    purpose: Annotated[Optional[str], typer.Option(help="With --source: face_swap, voice_clone, avatar, ...")] = None,
    technique: Annotated[Optional[str], typer.Option(help="DS-26 technique recorded with the output (default: the "
                                                          "purpose), e.g. text_to_image, face_swap.")] = None,
    tenant: Annotated[Optional[str], typer.Option(help="The user's tenant (needed when several tenants use the "
                                                       "id).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Label a generated file (image, audio, video, text): visible label, watermark, metadata, C2PA; record it."""
    with core() as sg:
        result = sg.label(source, user=user, producer=producer, output=output, visible=not no_visible,
                          watermark=False if no_watermark else None, c2pa=False if no_c2pa else None, model=model,
                          sources=list(source_media) if source_media else None, purpose=purpose,
                          technique=technique, tenant=tenant)
    data = result.to_dict()
    emit(data if as_json else {k: v for k, v in data.items() if k != "visible_label"}, as_json, N_("labeled"))


@app.command()
def inspect(file: Annotated[Path, typer.Argument(help="Any image.")], as_json: JsonOpt = False) -> None:
    """Read every AI label on a file: GB 45438 metadata, IPTC, C2PA, watermark, visible label."""
    # no database: reading labels is local; the marks are read side by side (issue 22 speed)
    data = Inspector(Settings.load(), threads=4).inspect(file)
    emit(data, as_json, _("labels on {file}", file=file))
