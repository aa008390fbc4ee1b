"""The full-text machinery each database searches with (see ``servicedesk.search.engine``).

PostgreSQL: weighted ``tsvector`` columns filled by a trigger in the writing
transaction, GIN indexes on them, and a trigram index on titles for the typo
fallback (``pg_trgm``).
SQLite: an FTS5 table over the documents, kept by triggers, and its vocabulary.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """ALTER TABLE search_searchdocument
        ADD COLUMN vector tsvector NOT NULL DEFAULT ''::tsvector,
        ADD COLUMN internal_vector tsvector NOT NULL DEFAULT ''::tsvector""",
    """CREATE FUNCTION search_document_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.vector :=
            setweight(to_tsvector(NEW.language::regconfig, NEW.title), 'A')
            || setweight(to_tsvector('simple', NEW.title), 'A')
            || setweight(to_tsvector('simple', NEW.keywords), 'B')
            || setweight(to_tsvector(NEW.language::regconfig, NEW.body), 'C');
        NEW.internal_vector := setweight(to_tsvector(NEW.language::regconfig, NEW.internal), 'C');
        RETURN NEW;
    END
    $$""",
    """CREATE TRIGGER search_document_vectors
        BEFORE INSERT OR UPDATE OF title, keywords, body, internal, language
        ON search_searchdocument FOR EACH ROW EXECUTE FUNCTION search_document_vectors()""",
    # Not led by the tenant: measured, a (tenant_id, vector) GIN costs the
    # largest tenant a scan of its whole posting list and the planner shuns
    # it; the match finds few rows and the tenant filter drops the others.
    "CREATE INDEX search_document_vector_idx ON search_searchdocument USING gin (vector)",
    """CREATE INDEX search_document_internal_idx ON search_searchdocument
        USING gin (internal_vector)""",
    """CREATE INDEX search_document_title_trgm_idx ON search_searchdocument
        USING gin (title gin_trgm_ops)""",
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_document_vectors ON search_searchdocument",
    "DROP FUNCTION IF EXISTS search_document_vectors()",
    "DROP INDEX IF EXISTS search_document_title_trgm_idx",
    "DROP INDEX IF EXISTS search_document_internal_idx",
    "DROP INDEX IF EXISTS search_document_vector_idx",
    "ALTER TABLE search_searchdocument DROP COLUMN vector, DROP COLUMN internal_vector",
]

_COLUMNS = "title, keywords, body, internal"
_NEW = "new.id, new.title, new.keywords, new.body, new.internal"
_OLD = "'delete', old.id, old.title, old.keywords, old.body, old.internal"

SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE search_fts USING fts5({_COLUMNS},
        content='search_searchdocument', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    "CREATE VIRTUAL TABLE search_fts_vocab USING fts5vocab(search_fts, 'row')",
    f"""CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_fts(rowid, {_COLUMNS}) VALUES ({_NEW}); END""",
    f"""CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_COLUMNS}) VALUES ({_OLD}); END""",
    f"""CREATE TRIGGER search_fts_update AFTER UPDATE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_COLUMNS}) VALUES ({_OLD});
        INSERT INTO search_fts(rowid, {_COLUMNS}) VALUES ({_NEW}); END""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TABLE IF EXISTS search_fts_vocab",
    "DROP TABLE IF EXISTS search_fts",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
