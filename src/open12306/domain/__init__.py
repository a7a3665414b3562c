"""Pure domain rules: standard library only, no I/O, no clock reads."""
