"""The SharePoint list of learning cards, through Microsoft Graph."""
