"""Errors the infrastructure manager reports; each message says what to do about it."""


class InfraError(RuntimeError):
    """A local server could not be set up or started; the message tells the operator what to do."""
