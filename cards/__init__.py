"""Adaptive Cards from Jinja2 templates and typed views."""
