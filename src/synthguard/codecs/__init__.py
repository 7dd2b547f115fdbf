"""The codec layer: reading and writing media containers, below ``media``, ``marking`` and ``fingerprint`` (issue 23).

``formats`` (what a file is, from its first bytes), ``image`` (Pillow under our pixel limit), ``audio`` (soundfile /
PyAV PCM), ``video`` (PyAV probe, packets, frames), ``av`` (the fingerprint and consent decoders: sampled frames and
resampled mono PCM), ``text`` (plain text, Markdown and OOXML packages as words).  Nothing here imports ``media``
at run time (only for annotations), ``marking`` or ``fingerprint``; optional libraries (PyAV, soundfile, lxml,
Pillow) are imported inside the functions that need them, so importing the layer stays cheap.
"""
