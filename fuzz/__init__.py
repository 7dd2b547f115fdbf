"""Fuzz targets for every parser SynthGuard owns (run by `make fuzz`; mirrored by tests/test_fuzz_parsers.py)."""
