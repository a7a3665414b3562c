"""Travel use cases: issue codes, gate bundles and taps, the conductor, on-board sales."""
