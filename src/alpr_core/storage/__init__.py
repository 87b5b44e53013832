"""The storage service: Kafka → decode → validate → images → rows → offsets, with a DLQ."""
