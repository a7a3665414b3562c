"""The ``open12306`` command, one Typer app per context, on services built by ``bootstrap``."""
