"""Everything that imports botbuilder: the app, authentication, the router, the connector."""
