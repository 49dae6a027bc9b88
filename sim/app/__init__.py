"""Web app for planners: ``run.py app`` (Solara, in Mesa's SolaraViz convention)."""
