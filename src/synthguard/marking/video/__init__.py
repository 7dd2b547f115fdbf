"""Video labels: explicit label, AIGC container tag, C2PA, robust watermark (LM-06, LM-10, LM-11, GB-05, GB-16)."""
