"""Building the book: the chapter runner, the data page and the re-derivation check."""


class ChapterError(RuntimeError):
    """A chapter stopped with an error; the message is one line (cell, exception, reason).
    Defined here, outside the runner, so that the command line catches it without importing
    Papermill for every command."""
