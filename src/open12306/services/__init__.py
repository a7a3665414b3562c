"""Use cases: they orchestrate the domain through ports that adapters implement."""
