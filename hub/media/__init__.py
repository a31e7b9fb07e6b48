"""Media: what the hub makes of a camera stream for those who watch it (``fmp4``: live over MSE)."""
