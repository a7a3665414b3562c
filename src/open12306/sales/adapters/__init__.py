"""Orders, payments, the ledger and the checkout's books in SQL."""
