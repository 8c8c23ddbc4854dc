"""Herald's domain: everything app.py routes to."""
