"""Normalization theory: signal propagation at initialisation, elimination singularities."""
