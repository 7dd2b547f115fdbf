"""Where providers and platforms already work (issue 26): an OpenAI-compatible labeling gateway (``gateway``)
and its API keys (``keys``). Each integration is a thin edge over the core journeys (label, scan)."""
