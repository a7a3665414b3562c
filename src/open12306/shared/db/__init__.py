"""The database engine and the one metadata every context's tables are declared on."""
