"""Callback delivery: the outbox dispatcher and the rules for one delivery."""
