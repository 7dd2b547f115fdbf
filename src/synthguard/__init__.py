"""SynthGuard."""
