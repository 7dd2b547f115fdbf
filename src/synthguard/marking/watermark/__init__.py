"""Robust invisible watermarks (DS-15): payload framing/ECC and the image watermark."""

from synthguard.marking.watermark.image import FALSE_POSITIVE_RATE, ImageWatermarker, WatermarkResult
from synthguard.marking.watermark.payload import PAYLOAD_BYTES

__all__ = ["FALSE_POSITIVE_RATE", "PAYLOAD_BYTES", "ImageWatermarker", "WatermarkResult"]
