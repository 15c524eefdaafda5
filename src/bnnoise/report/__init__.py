"""Putting results into the book: published numbers, tables, figures, the chapter runner."""
