"""What a page shows besides figures: its tables as Markdown, saved results, provenance lines."""
