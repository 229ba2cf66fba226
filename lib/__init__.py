"""Constructs and the config schema of the AWS web platform (see DESIGN.md for the layering rules)."""
