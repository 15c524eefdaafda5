"""Cached, resumable steps, one per kind of result: trained models, sweep cells, theory runs."""
