#!/usr/bin/env bash
# Extract the public-domain test photos the face_recognition sdist ships (tests/test_images: official US
# government portraits of Barack Obama and Joe Biden) into DIR, for bench/consent.py --extra-faces DIR.
# Uses pip (the registry's ordinary client) once, by hand; nothing in SynthGuard downloads data at run time.
set -euo pipefail
dir=${1:?usage: scripts/bench_faces.sh DIR}
pip=${PIP:-.venv/bin/pip}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$pip" download -q --no-deps --no-binary :all: face_recognition==1.3.0 -d "$tmp"
mkdir -p "$dir"
tar -xzf "$tmp"/face_recognition-1.3.0.tar.gz -C "$tmp"
for f in obama.jpg obama2.jpg obama3.jpg biden.jpg; do
  cp "$tmp/face_recognition-1.3.0/tests/test_images/$f" "$dir/$f"
done
ls -l "$dir"
