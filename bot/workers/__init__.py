"""The slow, durable work: broadcasts, the SharePoint outbox, weekly lessons."""
