"""Notify: watches inquiry deadlines on the log and raises an alert when one passes unanswered."""
