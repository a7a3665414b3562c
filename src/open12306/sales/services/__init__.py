"""Sales use cases: submit, allocate, pay, refund, change, and retry refunds owed."""
