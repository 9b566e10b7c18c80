"""The one exception type for user errors: the CLI prints its message as a single line."""


class UserError(Exception):
    """Bad input or environment the user can fix; the message says what is wrong and what to do. Characters
    that would break the line or hide in it (newlines, NEL, control codes), often echoed from the input, are
    written as escapes, so the message stays one readable line."""

    def __init__(self, message: str):
        super().__init__(one_line(message))


def one_line(text: str) -> str:
    """`text` with every unprintable character (line breaks included) as its Python escape."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
