"""The package's one error hierarchy: every failure a user can meet is a JourneyError."""

from __future__ import annotations


class JourneyError(Exception):
    """Base of every journeychain error; its message is one plain sentence."""

    exit_code = 1


class ToolchainError(JourneyError):
    """The compiler or the local chain could not be set up."""


class ConfigError(JourneyError):
    """A bad argument, file or setting given by the user."""

    exit_code = 2


class PlaybookError(ConfigError):
    """A playbook file that does not validate."""
