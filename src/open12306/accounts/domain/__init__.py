"""Account rules: usernames and passwords, travel documents, saved passengers, attempt limits."""
