"""Issue 26: every image a real diffusers pipeline returns is labeled before the caller sees it.

Skipped where torch or diffusers is missing (SynthGuard's own venv never has them); run it in the side venv:
``bash scripts/hf_venv.sh && .venv-hf/bin/python -m pytest -q tests/hf``.  Nothing is downloaded: the UNet is a
tiny ``UNet2DModel`` built from a config with a fixed seed, the scheduler ``DDPMScheduler``; the image-to-image
pipeline is a small SDEdit-style ``DiffusionPipeline`` defined here (noise the input, denoise it), so the consent
gate sees a real ``image=`` input.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from synthguard.errors import ConsentRequiredError
from synthguard.integrations.diffusers import LabeledPipeline
from synthguard.media import Media
from tests.conftest import kodak

os.environ["HF_HUB_OFFLINE"] = "1"
torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

SIZE = 128  # the watermark needs >= 96 px


def tiny_unet():
    torch.manual_seed(0)
    return diffusers.UNet2DModel(sample_size=SIZE, in_channels=3, out_channels=3, layers_per_block=1,
                                 block_out_channels=(8, 16), norm_num_groups=4,
                                 down_block_types=("DownBlock2D", "DownBlock2D"),
                                 up_block_types=("UpBlock2D", "UpBlock2D"))


class Img2Img(diffusers.DiffusionPipeline):
    """SDEdit: noise the input image to step ``strength`` of the schedule, then denoise it."""

    def __init__(self, unet, scheduler):
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)

    @torch.no_grad()
    def __call__(self, image, strength: float = 0.5, num_inference_steps: int = 4, output_type: str = "pil"):
        x = torch.from_numpy(np.asarray(image.convert("RGB").resize((SIZE, SIZE)), dtype=np.float32) / 127.5 - 1)
        x = x.permute(2, 0, 1)[None]
        self.scheduler.set_timesteps(num_inference_steps)
        steps = self.scheduler.timesteps[int(num_inference_steps * (1 - strength)):]
        x = self.scheduler.add_noise(x, torch.randn_like(x), steps[:1])
        for t in steps:
            x = self.scheduler.step(self.unet(x, t).sample, t, x).prev_sample
        arr = ((x.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).numpy()
        images = [Image.fromarray((a * 255).round().astype(np.uint8)) for a in arr] if output_type == "pil" else arr
        return diffusers.ImagePipelineOutput(images=images)


def _check_labeled(sg, image, info, user):
    report = json.dumps(sg.inspect(Media.from_bytes(info["file"], "out.png")), default=str)
    assert info["content_id"] in report  # GB 45438 ProduceID read back from the file
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(info["file"])).convert("RGB")),
                          np.asarray(image.convert("RGB")))  # the returned image is the labeled file's pixels
    traced = sg.trace(Media.from_bytes(_png(image), "stripped.png"))  # metadata gone: the watermark still traces
    assert json.dumps(traced, default=str).count(info["content_id"]) >= 1
    rec = sg.record(info["content_id"])["record"]
    assert rec["user"] == user
    return rec


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_every_generated_image_is_labeled_and_recorded(sg, verified_user):
    pipe = diffusers.DDPMPipeline(unet=tiny_unet(), scheduler=diffusers.DDPMScheduler(num_train_timesteps=20))
    labeled = LabeledPipeline(pipe, sg, user=verified_user, producer="ACME", revision="r1")
    out = labeled(batch_size=2, num_inference_steps=3, generator=torch.manual_seed(1))
    assert len(out.images) == 2 and len(out.synthguard) == 2
    ids = set()
    for image, info in zip(out.images, out.synthguard, strict=True):
        assert image.size == (SIZE, SIZE)
        rec = _check_labeled(sg, image, info, verified_user)
        assert rec["model"].endswith("@r1 scheduler=DDPMScheduler") and rec["technique"] == "text_to_image"
        ids.add(info["content_id"])
    assert len(ids) == 2
    assert labeled.scheduler is pipe.scheduler  # the wrapper is transparent


def test_numpy_outputs_come_back_as_labeled_arrays(sg, verified_user):
    pipe = diffusers.DDPMPipeline(unet=tiny_unet(), scheduler=diffusers.DDPMScheduler(num_train_timesteps=20))
    plain = pipe(batch_size=1, num_inference_steps=3, generator=torch.manual_seed(2), output_type="np").images
    out = LabeledPipeline(pipe, sg, user=verified_user, producer="ACME")(
        batch_size=1, num_inference_steps=3, generator=torch.manual_seed(2), output_type="np")
    assert out.images.shape == plain.shape and out.images.dtype == np.float32
    assert not np.allclose(out.images, plain)  # the visible label and the watermark are in the pixels
    _check_labeled(sg, Image.fromarray((out.images[0] * 255).round().astype(np.uint8)), out.synthguard[0],
                   verified_user)


def test_an_edit_of_an_unconsented_face_is_refused_and_never_returned(sg, verified_user):
    pipe = Img2Img(tiny_unet(), diffusers.DDPMScheduler(num_train_timesteps=20))
    labeled = LabeledPipeline(pipe, sg, user=verified_user, producer="ACME", purpose="face_swap")
    face = Image.open(kodak("kodim04.png"))  # a portrait: a face nobody enrolled, so no grant (DS-15)
    with pytest.raises(ConsentRequiredError):
        labeled(image=face, strength=0.6)
    landscape = Image.fromarray(np.tile(np.linspace(0, 255, SIZE, dtype=np.uint8)[None, :, None], (SIZE, 1, 3)))
    out = labeled(image=landscape, strength=0.6)  # no face in the source: nothing to consent to
    rec = _check_labeled(sg, out.images[0], out.synthguard[0], verified_user)
    assert rec["technique"] == "face_swap"
