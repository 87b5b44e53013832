"""HTTP ingest: turn posted events (JSON or Confluent-framed Avro) into stored reads, through the
same validation (:mod:`alpr_core.events.parse`) and the same sink as the Kafka path."""
