"""Numbers and verdicts from tidy result tables: summaries, the study's claims, pilots.

No Markdown and no figures here: :mod:`bnnoise.pages` and :mod:`bnnoise.figures` show them."""
