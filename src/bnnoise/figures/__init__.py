"""The book's figures, drawn with seaborn in one style from tidy tables."""
