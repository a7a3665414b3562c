"""HTTP API, CLI and workers."""
