"""One object-store interface for plate images, with S3 behind it."""
