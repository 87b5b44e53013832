"""alpr-core: the core backend of an automatic licence-plate recognition system."""
