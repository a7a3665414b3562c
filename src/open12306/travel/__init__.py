"""Travel with a ticket: signed ticket and ride codes, gates, conductors and on-board sales."""
