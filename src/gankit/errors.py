"""Errors a user can cause. Each message names the offending value and what is allowed."""

from __future__ import annotations


class GankitError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with code 2."""


class ConfigError(GankitError, ValueError):
    """An unknown name, a bad value or an unknown key in a configuration."""


class DataError(GankitError, ValueError):
    """A dataset, folder or file that cannot be read as asked."""


class CheckpointError(GankitError):
    """A checkpoint that is missing, incomplete, corrupt or unsafe to load."""


class RunError(GankitError):
    """A run directory that does not exist or does not hold what is needed."""
