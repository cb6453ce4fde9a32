"""Casefile: the read side. Folds the log into case summaries, inquiries and timelines."""
