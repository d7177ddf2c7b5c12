"""Public pages: the home page and sign-in (the sensor register and dashboards come later)."""
