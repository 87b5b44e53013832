"""The database: versioned migrations, the SQL the services run, and retention."""
