"""The pure core: plain typed Python, no I/O, no SDK imports."""
