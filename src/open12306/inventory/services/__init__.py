"""Inventory use cases: sell and release seats of a run, the demo's random sales."""
