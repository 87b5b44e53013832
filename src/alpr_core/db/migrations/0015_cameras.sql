-- The camera registry: the cameras an operator has registered, each at one site. With
-- INGEST_KNOWN_CAMERAS_ONLY, reads from cameras not here (or disabled) are rejected as
-- `unknown_camera` (docs/decisions.md#camera-registry).

CREATE TABLE cameras (
    camera_id   text PRIMARY KEY,
    site_id     text NOT NULL,
    name        text,
    direction   text,  -- a free-form label: "northbound", "N", "270"
    latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX cameras_site_idx ON cameras (site_id);
