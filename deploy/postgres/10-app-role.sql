-- Runs once, when the PostgreSQL container initialises its data directory.
-- The application connects as an ordinary role that owns its database: a
-- superuser (like the image's POSTGRES_USER) would pass every row-level
-- security policy, and the tenant wall would not stand.
CREATE ROLE servicedesk LOGIN PASSWORD 'servicedesk' NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
CREATE DATABASE servicedesk OWNER servicedesk;
