"""What every context uses: errors, clocks, the run key, the database engine and metadata."""
