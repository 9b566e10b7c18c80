"""The one exception type for user errors: the CLI prints its message as a single line."""


class UserError(Exception):
    """Bad input or environment the user can fix; the message says what is wrong and what to do."""
