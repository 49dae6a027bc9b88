"""smartcommute: agent-based simulation of commuting, CO2 and stress under smart-working adoption."""

__version__ = "0.1.0"
