"""The outside world: database, data files, caches."""
