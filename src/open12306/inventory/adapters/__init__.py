"""Run inventories in SQL with optimistic versions and a change sequence."""
