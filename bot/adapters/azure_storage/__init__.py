"""Every store Protocol on Azure Blob Storage and Storage Queues."""
