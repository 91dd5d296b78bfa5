"""KI-vett: a Microsoft Teams bot that helps municipal employees use AI safely."""
