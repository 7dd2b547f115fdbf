"""Consent gate and likeness registry for faces and voices (DSP Art. 14(2) / DS-15; PIPL Arts. 28-29 / PI-06, PI-07).

- :mod:`~synthguard.consent.registry`: subjects, encrypted biometric templates, grants, revocation;
- :mod:`~synthguard.consent.rights`: export and erasure (PIPL 44-47, GDPR 15/17/20);
- :mod:`~synthguard.consent.gate`: the provider-side check before a face or voice edit;
- :mod:`~synthguard.consent.protected`: the platform-side check of AI uploads against protected persons;
- :mod:`~synthguard.consent.faces` / :mod:`~synthguard.consent.voices`: offline embeddings (dlib; resemblyzer in numpy);
- ``policy.yaml``: purposes, the unknown-face rule per profile, protected-person actions.
"""

from synthguard.consent.gate import ConsentDeniedError, GateResult
from synthguard.consent.registry import Registry

__all__ = ["ConsentDeniedError", "GateResult", "Registry"]
