"""Sales: orders, the submission queue and allocator, payment of orders, refunds and changes."""
