"""Catalog use cases: load a timetable, materialise runs, look at a run."""
