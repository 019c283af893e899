class ApplicationError(Exception):
    """An error whose message is meant for the person who caused it.

    Services raise it (or a subclass) for bad input or a refused action; views, the API and
    management commands show `message` as it is."""

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
