"""Label every image a Hugging Face ``DiffusionPipeline`` returns, before the caller sees it (issue 26).

``LabeledPipeline(pipe, sg, user="u-42")`` is called exactly like the pipeline.  Each returned image goes through
the provider journey of ``synthguard label`` (visible label, watermark, GB 45438 metadata, C2PA, ledger: DS-16..19,
LM-03..10) for a user with a verified identity (DS-07); the generation event records the model id and revision
and the scheduler.  Image-to-image and inpainting inputs (``image=``) are the edit's sources: they go through the
consent gate (DS-15), so an edit of a face nobody consented to is refused and its output never returned.

diffusers and torch are not dependencies of SynthGuard: the pipeline object is only duck-typed here.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from synthguard.errors import ValidationError
from synthguard.media import Media

LABELABLE = ("pil", "np")


def model_string(pipe: Any) -> str:
    """``<model id>@<revision> scheduler=<class>``: what the ledger records about the generator (DS-16)."""
    config = getattr(pipe, "config", None) or {}
    name = getattr(pipe, "name_or_path", None) or (config.get("_name_or_path") if hasattr(config, "get") else None)
    revision = getattr(pipe, "_synthguard_revision", None) or (config.get("_revision") if hasattr(config, "get")
                                                               else None)
    model = f"{name or type(pipe).__name__}@{revision or 'local'}"
    scheduler = getattr(pipe, "scheduler", None)
    return f"{model} scheduler={type(scheduler).__name__}" if scheduler is not None else model


def _pil_list(value: Any) -> list[Any]:
    from PIL import Image

    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [x for x in items if isinstance(x, Image.Image)]


def _png(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


class LabeledPipeline:
    """A pipeline whose outputs are labeled: ``LabeledPipeline(pipe, sg, user=...)(prompt=...)``.

    ``purpose`` names what an edit does to the people in its sources (default ``face_edit``; ``face_swap`` for a
    swap): the consent gate checks each face in ``image=`` against grants for that purpose.  The returned output
    object is the pipeline's own, with ``images`` replaced by the labeled images and ``synthguard`` added (one
    dict per image: content id, marks, ledger index, and ``file``: the labeled PNG's bytes).  Publish ``file``:
    an image object keeps the visible label and the watermark in its pixels, but saving it with PIL drops the
    metadata label and the C2PA manifest, which live in the file (LM-10)."""

    def __init__(self, pipe: Any, sg: Any, *, user: str, producer: str | None = None, purpose: str = "face_edit",
                 revision: str | None = None, tenant: str | None = None):
        self.pipe, self.sg, self.user, self.producer, self.purpose = pipe, sg, user, producer, purpose
        self.tenant = tenant  # the user's tenant: needed when several tenants use the id (issue 18 finding 13)
        if revision:
            pipe._synthguard_revision = revision

    def __getattr__(self, name: str) -> Any:  # scheduler, components, to(), ... stay the pipeline's
        return getattr(self.pipe, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        output_type = kwargs.get("output_type", "pil")
        if output_type not in LABELABLE:
            raise ValidationError("output_type {t!r} cannot be labeled; use pil or np", values={"t": output_type},
                                  hint="Latents and tensors are not media: decode them to images first.")
        sources = [Media.from_bytes(_png(im), "source.png") for im in _pil_list(kwargs.get("image"))]
        out = self.pipe(*args, **kwargs)
        images = out.images if hasattr(out, "images") else out[0]
        labeled, info = [], []
        for image in _as_pil(images):
            data, result = self._label(_png(image), sources)
            labeled.append(data)
            info.append(result)
        new_images = _like(images, labeled)
        if hasattr(out, "images"):
            out.images = new_images
            out.synthguard = info
            return out
        return (new_images, *out[1:]) if isinstance(out, tuple) else new_images

    def _label(self, png: bytes, sources: list[Media]) -> tuple[Any, dict[str, Any]]:
        from PIL import Image

        media = Media.from_bytes(png, "generated.png", max_bytes=self.sg.settings.max_bytes,
                                 max_pixels=self.sg.settings.max_pixels)
        with tempfile.TemporaryDirectory(prefix="sg-diffusers-") as tmp:
            path = Path(tmp) / "generated.png"
            result = self.sg.label(media, user=self.user, tenant=self.tenant, producer=self.producer,
                                   model=model_string(self.pipe), output=path, sources=sources or None,
                                   purpose=self.purpose if sources else None, technique=self.purpose if sources
                                   else "text_to_image")
            data = path.read_bytes()
        image = Image.open(io.BytesIO(data))
        image.load()
        return image, {"content_id": result.content_id, "marks": list(result.marks),
                       "ledger_index": result.ledger_index, "file": data}


def _as_pil(images: Any) -> list[Any]:
    """PIL images from a pipeline's ``images``: a list of PIL images, or a float array (N, H, W, C) in [0, 1]."""
    import numpy as np
    from PIL import Image

    if isinstance(images, list) and all(isinstance(x, Image.Image) for x in images):
        return images
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise ValidationError("the pipeline returned images of shape {shape}; expected (N, H, W, C)",
                              values={"shape": tuple(arr.shape)})
    u8 = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    return [Image.fromarray(x[..., 0] if x.shape[-1] == 1 else x) for x in u8]


def _like(original: Any, labeled: list[Any]) -> Any:
    """Labeled images in the form the pipeline returned (PIL list, or float array in [0, 1])."""
    import numpy as np
    from PIL import Image

    if isinstance(original, list) and all(isinstance(x, Image.Image) for x in original):
        return labeled
    channels = np.asarray(original).shape[-1]
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    arr = np.stack([np.asarray(im.convert(mode)) for im in labeled]).astype(np.float32) / 255.0
    return arr[..., None] if channels == 1 else arr
