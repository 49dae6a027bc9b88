"""The world a run happens in: the city (zones, roads, transit, routes) and the synthetic population."""
