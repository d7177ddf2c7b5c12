"""Sensor types, sensors, areas, deployments and the public sensor register."""
