"""Accounts on real components: SQL tables and store, scrypt passwords, face embeddings."""
