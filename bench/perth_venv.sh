#!/usr/bin/env bash
# Build a venv with resemble-perth, the audio peer of bench/watermark_audio.py (--peer-python DIR/bin/python).
#
# resemble-perth 1.0.1 (MIT, Resemble AI) ships its PerthNet weights inside the wheel, so it runs offline: the
# one neural audio watermark found that does (AudioSeal and WavMark fetch theirs from a model hub at run time).
# It needs torch and torchaudio.  torch 2.13.0 is the CPU build this workplace installs from local disk; PyPI's
# newest torchaudio is 2.11.1, whose compiled extension does not load against torch 2.13, so it is installed
# without dependencies and its .so files are removed: Perth uses only Spectrogram, InverseSpectrogram and
# TimeStretch, which are plain PyTorch.  Perth 1.0.1 imports pkg_resources, which setuptools 81 dropped.
#
# Usage: bash bench/perth_venv.sh [DIR]      (default /tmp/perth-venv)
set -euo pipefail
dir=${1:-/tmp/perth-venv}
python3 -m venv "$dir"
"$dir/bin/pip" install -q torch==2.13.0
"$dir/bin/pip" install -q resemble-perth==1.0.1 librosa soundfile pyyaml matplotlib "setuptools<81"
"$dir/bin/pip" install -q --no-deps torchaudio==2.11.1
rm -f "$dir"/lib/python3*/site-packages/torchaudio/lib/*.so
"$dir/bin/python" -c "import perth; perth.PerthImplicitWatermarker(); print('resemble-perth ready:', '$dir/bin/python')"
