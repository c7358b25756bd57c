"""The one failure type sandbox handlers raise: it becomes ``success: false`` with the message."""


class SandboxError(Exception):
    """A request the sandbox refuses, with a message that says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
