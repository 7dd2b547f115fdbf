"""HTTP routes, one module per group: public, provider, lookup (trace and records), pages."""
