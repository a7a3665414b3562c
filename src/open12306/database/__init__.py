"""The one database every context's tables live in: all tables, migrations, the run store."""
