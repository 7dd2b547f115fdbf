"""The vault subject of a likeness subject: its templates, kept media and grant evidence are encrypted under that
subject's own key (PI-06), which erasure destroys (PI-13).  Apart from the registry so that ``rights`` (export,
erasure) and ``registry`` both name it without importing each other (issue 23)."""

from __future__ import annotations


def vault_id(subject_key: str) -> str:
    """The vault subject of a consent subject, by its key (``ConsentSubject.id``)."""
    return f"likeness:{subject_key}"


__all__ = ["vault_id"]
