"""The HTTP API and the passenger web app, one module of routes per context."""
