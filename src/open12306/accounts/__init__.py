"""Accounts: logins and sessions, saved real-name passengers, their documents and faces."""
