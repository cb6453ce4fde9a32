"""Intake: the write side. Turns what caseworkers record into validated events on the log."""
