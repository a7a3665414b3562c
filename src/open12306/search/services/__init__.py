"""Search use cases: the read model, the query at the edge, the answer."""
