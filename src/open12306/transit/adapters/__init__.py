"""Transit settlement's tables and store in SQL."""
