"""The Teams app manifest template and icons (package data for `kivett package`)."""
