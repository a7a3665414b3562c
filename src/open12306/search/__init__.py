"""Search: city and station pairs on a date, answered from an in-process read model."""
