"""Analog noise: target sets and seeding, injection, and the collapse of BatchNorm."""
