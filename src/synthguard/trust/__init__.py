"""Many deployments, little trust (issue 19): witness cosignatures on other logs' checkpoints (``cosign``,
``witness``), so a provider cannot show one history of its log to a court and another to a regulator."""
