"""Structured logs: JSON in production, readable on a terminal; never personal data."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(service: str, *, fmt: str = "auto", level: str = "info") -> None:
    renderer = (structlog.dev.ConsoleRenderer()
                if fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
                else structlog.processors.JSONRenderer())
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr), cache_logger_on_first_use=False)
    structlog.contextvars.bind_contextvars(service=service)
