"""Accounts: who may log in, their role and team, their sessions; signs access tokens."""
