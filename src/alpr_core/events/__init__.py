"""The PlateEvent contract: Avro schemas, decoding, validation and the in-memory model."""
