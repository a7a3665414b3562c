"""The catalog on real components: SQL tables and store, shipped data files, GTFS, holidays."""
