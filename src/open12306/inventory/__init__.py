"""The seat inventory of a run: segments, seats, quotas, standing room, its store and cache."""
