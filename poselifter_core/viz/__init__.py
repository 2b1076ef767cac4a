"""Figures (matplotlib, Agg backend): written to files, never shown."""
