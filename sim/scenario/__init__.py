"""The scenario: its schema (every key with unit, range and source), loading and validation, and the docs."""
