"""Read resemblyzer's ``pretrained.pt`` into numpy without torch, with a restricted unpickler.

Why: the speaker encoder's weights ship inside the ``resemblyzer`` wheel (Apache-2.0), but loading them with
``torch.load`` would make torch a run-time dependency and would execute whatever the pickle names.  The file is
torch's legacy serialization (before 1.6): three small pickles (magic number, protocol, system info), the state
dict pickle whose tensors point at storages by key, a pickle with the storage keys in order, then each storage's
raw bytes (an int64 element count followed by the elements).  The unpickler below resolves exactly three globals
(``OrderedDict``, ``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``); anything else is refused.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthguard.errors import ConfigError, UnsupportedMediaError
from synthguard.i18n import N_

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_HINT = N_("Install the voice extra: pip install 'synthguard[voice]' (resemblyzer is installed with "
           "--no-deps).")


@dataclass(frozen=True)
class _TensorRef:
    key: str
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild(storage: tuple[str, str], offset: int, size: tuple[int, ...], stride: tuple[int, ...],
             *_: Any) -> _TensorRef:
    return _TensorRef(storage[1], int(offset), tuple(size), tuple(stride))


class _Restricted(pickle.Unpickler):
    _ALLOWED: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild,
        ("torch", "FloatStorage"): "float32",
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> tuple[str, str]:
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and pid[1] == "float32"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return ("float32", str(pid[2]))


def locate_weights() -> Path:
    """``resemblyzer/pretrained.pt`` from the installed package (never downloaded)."""
    from importlib.util import find_spec

    spec = find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise UnsupportedMediaError("voice matching needs the resemblyzer package's weights, which are not installed",
                                    hint=_HINT)
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise ConfigError("resemblyzer is installed without pretrained.pt", path=path, hint=_HINT)
    return path


def load_state_dict(path: str | Path) -> tuple[dict[str, np.ndarray], str]:
    """The state dict as float32 arrays, and the file's SHA-256 (recorded with every voice template)."""
    raw = Path(path).read_bytes()
    f = io.BytesIO(raw)
    try:
        if pickle.load(f) != LEGACY_MAGIC:  # noqa: S301 - ints only; safe_load below for the rest
            raise ValueError("not a legacy torch file")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info (a dict of ints)
        state = _Restricted(f).load()
        keys = _Restricted(f).load()
        storages: dict[str, np.ndarray] = {}
        for key in keys:
            (count,) = struct.unpack("<q", f.read(8))
            storages[str(key)] = np.frombuffer(f.read(4 * count), dtype="<f4", count=count)
        model = state["model_state"]
        out = {name: _view(storages[ref.key], ref) for name, ref in model.items() if isinstance(ref, _TensorRef)}
    except (pickle.UnpicklingError, ValueError, KeyError, struct.error, EOFError) as exc:
        raise ConfigError("cannot read the speaker-encoder weights: {exc}", path=path,
                          hint="Reinstall resemblyzer (pip install --no-deps --force-reinstall resemblyzer).",
                          values={"exc": exc}) from exc
    return out, hashlib.sha256(raw).hexdigest()


def _view(storage: np.ndarray, ref: _TensorRef) -> np.ndarray:
    item = storage.itemsize
    arr = np.lib.stride_tricks.as_strided(storage[ref.offset:], shape=ref.size,
                                          strides=tuple(s * item for s in ref.stride))
    return np.array(arr, dtype=np.float32)  # a contiguous copy
