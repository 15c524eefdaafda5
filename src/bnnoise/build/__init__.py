"""Building the book: the chapter runner, the data page and the re-derivation check."""
