"""The edge simulator: realistic synthetic plate reads published through Kafka and the registry."""
