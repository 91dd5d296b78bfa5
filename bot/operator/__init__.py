"""Operator commands behind `kivett`: export, the Teams package, SharePoint setup."""
