"""Herald\x27s domain: everything app.py routes to."""
