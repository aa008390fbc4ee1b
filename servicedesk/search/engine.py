"""One search for every kind of object, on PostgreSQL and on SQLite.

``search(tenant, viewer, query, kinds=..., limit=..., cursor=...)`` is the one
way in: the desk, the portal, the API and the knowledge base all call it and
get typed hits back (kind, object id, title, a safe highlighted snippet, a
rank). What is searchable comes from the kinds apps register
(``register_kind``): each writes its objects' documents with
``index_document`` in the transaction that changed them, and says which of
its documents a reader may find (``restrict``) and whether the reader may
find and see its internal text (``sees_internal``).

PostgreSQL: ``websearch_to_tsquery`` in the tenant's language OR-ed with
``simple`` (so stemmed prose and exact tokens both match), ``ts_rank`` over
the weighted vector (title A, keywords B, body and internal text C),
``ts_headline`` for the snippet, and when full text finds fewer than a few
hits, ``pg_trgm`` word similarity on titles for the typos.

SQLite: the same query language parsed here into an FTS5 expression (never a
syntax error), ``bm25`` with the same column weights, ``snippet``, and for the
typos each word is corrected against the index's own vocabulary.

Snippets are built from sentinels: the database marks matches with two
control characters (stripped from everything indexed), the text is escaped,
and only then do the sentinels become ``<mark>`` elements.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from servicedesk.registry import Registry
from servicedesk.search.models import Language, SearchDocument, SearchSettings

if TYPE_CHECKING:
    from servicedesk.models import Membership, Tenant
    from servicedesk.registry import DemoSeed

# A query longer than this is cut: nobody types more, and the cost of a
# tsquery grows with its terms.
MAX_QUERY_CHARS = 256
MAX_TERMS = 16
MAX_LIMIT = 100
MAX_OFFSET = 1000
# Fewer full-text hits than this on the first page and the typo fallback runs.
FUZZY_BELOW = 3
# pg_trgm word similarity a title needs to count as a typo of the query.
TRIGRAM_THRESHOLD = 0.35
# difflib ratio a vocabulary term needs to count as a typo of a word (SQLite).
VOCABULARY_CUTOFF = 0.75
SNIPPET_CHARS = 240

MARK_START = "\x02"
MARK_STOP = "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')

# bm25 weights of SQLite's columns: title, keywords, body, internal. Their
# ratio follows PostgreSQL's default ts_rank weights for A, B, C, C.
BM25_WEIGHTS = (10.0, 5.0, 2.0, 2.0)


class SearchInputError(ValueError):
    """A parameter of the search (not its text) is malformed: a cursor, a kind."""


# --- What a kind registers --------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """The searchable text of one object, by weight."""

    title: str
    keywords: str = ""
    body: str = ""
    internal: str = ""
    is_restricted: bool = False
    is_public: bool = False


@dataclass(frozen=True)
class Kind:
    """A kind of searchable object.

    ``restrict(membership)`` returns a condition on ``SearchDocument``
    (``object_id``, ``is_restricted``) selecting the kind's documents the
    member may find, ``Q()`` for all of them, or ``None`` for none.
    ``sees_internal(membership)`` says whether their internal text counts
    and shows. ``reindex(tenant_id)`` rebuilds every document of the kind in
    a tenant and returns how many it wrote."""

    name: str
    order: int
    label: str
    restrict: Callable[[Membership], Q | None]
    sees_internal: Callable[[Membership], bool]
    reindex: Callable[[int], int]


kinds: Registry[Kind] = Registry("search kind")


def register_kind(kind: Kind) -> Kind:
    return kinds.register(kind)


# --- What a search returns --------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    kind: str
    object_id: int
    title: str
    snippet: SafeString
    rank: float
    # Found by the typo fallback rather than by the words as typed.
    is_fuzzy: bool = False


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    next_cursor: str | None = None
    # Said to the reader instead of (or beside) the hits: why nothing was searched.
    message: str = ""

    @property
    def ids(self) -> list[int]:
        return [hit.object_id for hit in self.hits]


# --- Parsing what was typed -------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    words: tuple[str, ...]
    is_negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """The cleaned text (what PostgreSQL's parser gets) and its clauses: a
    list of OR-groups that must all match, and clauses that must not."""

    text: str
    groups: tuple[tuple[Clause, ...], ...]
    excluded: tuple[Clause, ...]
    was_cut: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def words(self) -> list[str]:
        return [word for group in self.groups for clause in group for word in clause.words]


def clean_text(text: str) -> str:
    """Text as it may be indexed or searched: no NUL or control characters
    (PostgreSQL refuses NUL; the others are the snippets' sentinels)."""
    return _CONTROL.sub(" ", text or "")


def parse_query(raw: str) -> ParsedQuery:
    """``websearch_to_tsquery``'s language, leniently: words, ``"quoted
    phrases"``, ``-excluded`` and ``or``; any other punctuation separates
    words, an unbalanced quote quotes to the end. Never fails."""
    text = clean_text(raw).strip()
    was_cut = len(text) > MAX_QUERY_CHARS
    text = text[:MAX_QUERY_CHARS]
    groups: list[list[Clause]] = []
    excluded: list[Clause] = []
    join_next = False
    terms = 0
    # An unbalanced quote runs to the end, as websearch_to_tsquery reads it.
    balanced = text if text.count('"') % 2 == 0 else text + '"'
    for match in _TOKEN.finditer(balanced):
        if terms >= MAX_TERMS:
            break
        if match.group(3) is not None:
            token = match.group(3)
            if token.lower() == "or":
                join_next = bool(groups)
                continue
            negated = token.startswith("-")
            words = tuple(w.lower() for w in _WORD.findall(token.lstrip("-")))
        else:
            negated = match.group(1) == "-"
            words = tuple(w.lower() for w in _WORD.findall(match.group(2)))
        if not words:
            continue
        terms += 1
        clause = Clause(words=words, is_negated=negated)
        if negated:
            excluded.append(clause)
        elif join_next:
            groups[-1].append(clause)
        else:
            groups.append([clause])
        join_next = False
    return ParsedQuery(
        text=text,
        groups=tuple(tuple(group) for group in groups),
        excluded=tuple(excluded),
        was_cut=was_cut,
    )


def _fts5_phrase(clause: Clause) -> str:
    # Words hold only \w characters, so quoting them cannot break the expression.
    return '"' + " ".join(clause.words) + '"'


def fts5_expression(
    parsed: ParsedQuery, alternatives: Mapping[str, Sequence[str]] | None = None
) -> str:
    """The FTS5 expression of a parsed query; ``alternatives`` adds, for a
    one-word clause, other words that also match (the typo corrections)."""
    parts = []
    for group in parsed.groups:
        options = []
        for clause in group:
            options.append(_fts5_phrase(clause))
            if alternatives and len(clause.words) == 1:
                options += [f'"{word}"' for word in alternatives.get(clause.words[0], ())]
        parts.append("(" + " OR ".join(options) + ")")
    expression = " AND ".join(parts)
    for clause in parsed.excluded:
        expression = f"({expression}) NOT {_fts5_phrase(clause)}"
    return expression


# --- Writing documents ------------------------------------------------------------------


def tenant_language(tenant: Tenant | int) -> str:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    found = SearchSettings.objects.for_tenant(tenant_id).values_list("language", flat=True).first()
    return found or Language.ENGLISH


def _row(tenant_id: int, kind: str, object_id: int, document: Document, language: str) -> Any:
    return SearchDocument(
        tenant_id=tenant_id,
        kind=kind,
        object_id=object_id,
        title=clean_text(document.title)[:300],
        keywords=clean_text(document.keywords),
        body=clean_text(document.body),
        internal=clean_text(document.internal),
        language=language,
        is_restricted=document.is_restricted,
        is_public=document.is_public,
        updated_at=timezone.now(),
    )


_held: ContextVar[bool] = ContextVar("search_indexing_held", default=False)


@contextmanager
def indexing_held(*_: object) -> Iterator[None]:
    """Skip writing single documents while bulk work runs (the demo seed);
    whoever holds it rebuilds the documents with ``reindex`` at the end."""
    token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(token)


def index_document(*, tenant_id: int, kind: str, object_id: int, document: Document) -> None:
    """Store (or replace) one object's document, in the caller's transaction:
    one upsert statement (the language comes from the tenant's settings)."""
    if _held.get():
        return
    row = _row(tenant_id, kind, object_id, document, tenant_language(tenant_id))
    SearchDocument.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["tenant", "kind", "object_id"],
        update_fields=[
            "title",
            "keywords",
            "body",
            "internal",
            "language",
            "is_restricted",
            "is_public",
            "updated_at",
        ],
    )


def index_documents(*, tenant_id: int, kind: str, documents: Mapping[int, Document]) -> int:
    """Replace many documents of one kind at once (a reindex, the demo)."""
    language = tenant_language(tenant_id)
    with transaction.atomic():
        existing = SearchDocument.objects.for_tenant(tenant_id).filter(kind=kind)
        ids = list(documents)
        for start in range(0, len(ids), 1000):
            existing.filter(object_id__in=ids[start : start + 1000]).delete()
        SearchDocument.objects.bulk_create(
            [_row(tenant_id, kind, oid, doc, language) for oid, doc in documents.items()],
            batch_size=500,
        )
    return len(documents)


def remove_document(*, tenant_id: int, kind: str, object_id: int) -> None:
    SearchDocument.objects.for_tenant(tenant_id).filter(kind=kind, object_id=object_id).delete()


def reindex(tenant_id: int, kind_names: Iterable[str] | None = None) -> dict[str, int]:
    names = set(kind_names) if kind_names is not None else None
    return {
        kind.name: kind.reindex(tenant_id) for kind in kinds if names is None or kind.name in names
    }


def seed_demo_index(seed: DemoSeed) -> int:
    """The demo's documents, whatever path the other seeders wrote their rows by."""
    return sum(reindex(seed.tenant.pk).values())


# --- Searching --------------------------------------------------------------------------


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SearchInputError("Invalid cursor.") from None
    if not raw.startswith("o") or not raw[1:].isdigit() or int(raw[1:]) > MAX_OFFSET:
        raise SearchInputError("Invalid cursor.")
    return int(raw[1:])


def safe_snippet(raw: str) -> SafeString:
    """Escape the database's snippet, then turn its sentinels into marks."""
    text = escape(raw or "")
    opened = False
    out = []
    for part in re.split(f"([{MARK_START}{MARK_STOP}])", text):
        if part == MARK_START:
            if not opened:
                out.append("<mark>")
                opened = True
        elif part == MARK_STOP:
            if opened:
                out.append("</mark>")
                opened = False
        else:
            out.append(part)
    if opened:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - escaped above; only our marks are added


@dataclass(frozen=True)
class _Scope:
    where: str
    params: list[Any]
    internal_kinds: tuple[str, ...]


def _scope(tenant_id: int, viewer: Membership, kind_names: Sequence[str]) -> _Scope | None:
    """The WHERE clause over ``search_searchdocument`` of what the viewer may
    find among ``kind_names``, compiled by the ORM so a kind's rules are
    ordinary querysets."""
    condition = Q()
    allowed = []
    internal = []
    for name in kind_names:
        kind = kinds.get(name)
        if kind is None:
            continue
        restriction = kind.restrict(viewer)
        if restriction is None:
            continue
        allowed.append(Q(kind=name) & restriction)
        if kind.sees_internal(viewer):
            internal.append(name)
    if not allowed:
        return None
    for part in allowed:
        condition |= part
    queryset = SearchDocument.objects.for_tenant(tenant_id).filter(condition)
    query = queryset.query
    compiler = query.get_compiler(connection=connection)
    where, params = compiler.compile(query.where)
    return _Scope(where=where, params=list(params), internal_kinds=tuple(internal))


def _kind_names(requested: Iterable[str] | None) -> list[str]:
    names = kinds.names()
    if requested is None:
        return names
    wanted = [name for name in requested if name]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise SearchInputError(f"Unknown kind: {', '.join(unknown)}.")
    return [name for name in names if name in wanted]


def search(
    tenant: Tenant | int,
    viewer: Membership,
    query: str,
    *,
    kinds: Iterable[str] | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> SearchResult:
    """What ``viewer`` may find for ``query`` among ``kinds`` (all when
    ``None``), best first, ``limit`` at a time from ``cursor``.

    Raises ``SearchInputError`` for an unknown kind or a malformed cursor;
    any text gives hits or a ``message``."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    names = _kind_names(kinds)
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = decode_cursor(cursor)
    parsed = parse_query(query)
    if parsed.is_empty:
        message = (
            "Add a word to look for: excluding words alone finds nothing."
            if parsed.excluded
            else "Type a word to search for."
        )
        return SearchResult(hits=[], message=message)
    scope = _scope(tenant_id, viewer, names)
    if scope is None:
        return SearchResult(hits=[])
    backend = _backend()
    language = tenant_language(tenant_id)
    hits = backend.full_text(scope, parsed, language, limit + 1, offset)
    if offset == 0 and len(hits) < FUZZY_BELOW:
        seen = {(hit.kind, hit.object_id) for hit in hits}
        extra = [
            hit
            for hit in backend.fuzzy(scope, parsed, language, limit + 1)
            if (hit.kind, hit.object_id) not in seen
        ]
        hits = (hits + extra)[: limit + 1]
    next_cursor = encode_cursor(offset + limit) if len(hits) > limit else None
    if offset + limit > MAX_OFFSET:
        next_cursor = None
    message = "Only the start of a long search was used." if parsed.was_cut else ""
    return SearchResult(hits=hits[:limit], next_cursor=next_cursor, message=message)


def matching_ids_sql(
    *, tenant_id: int, kind: str, query: str, include_internal: bool
) -> tuple[str, list[Any]] | None:
    """SQL selecting the ``object_id`` of every ``kind`` document of the
    tenant that matches ``query`` by full text, for a queryset filter that
    combines with others (``pk__in=RawSQL(...)``); ``None`` when the query
    has nothing to look for. Visibility is the caller's queryset's job."""
    parsed = parse_query(query)
    if parsed.is_empty:
        return None
    return _backend().matching_ids(
        tenant_id, kind, parsed, tenant_language(tenant_id), include_internal
    )


# --- The two engines --------------------------------------------------------------------


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


class _Postgres:
    TABLE = "search_searchdocument"
    HEADLINE = (
        f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords=24, MinWords=10, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )

    @staticmethod
    def _query_sql() -> str:
        return "(websearch_to_tsquery(%s::regconfig, %s) || websearch_to_tsquery('simple', %s))"

    def _match(self, scope: _Scope) -> tuple[str, list[Any]]:
        table = self.TABLE
        if not scope.internal_kinds:
            return f'"{table}"."vector" @@ tsq.q', []
        return (
            f'("{table}"."vector" @@ tsq.q OR ("{table}"."kind" IN '
            f'({_placeholders(scope.internal_kinds)}) AND "{table}"."internal_vector" @@ tsq.q))',
            list(scope.internal_kinds),
        )

    def full_text(
        self, scope: _Scope, parsed: ParsedQuery, language: str, limit: int, offset: int
    ) -> list[SearchHit]:
        table = self.TABLE
        match, match_params = self._match(scope)
        internal = list(scope.internal_kinds) or [""]
        sql = f"""
            WITH tsq AS (SELECT {self._query_sql()} AS q),
            ranked AS (
                SELECT "{table}"."id", "{table}"."kind", "{table}"."object_id",
                       "{table}"."title", "{table}"."body", "{table}"."internal",
                       ts_rank(
                           CASE WHEN "{table}"."kind" IN ({_placeholders(internal)})
                                THEN "{table}"."vector" || "{table}"."internal_vector"
                                ELSE "{table}"."vector" END,
                           tsq.q) AS rank
                FROM "{table}", tsq
                WHERE {scope.where} AND {match}
                ORDER BY rank DESC, "{table}"."id" DESC
                LIMIT %s OFFSET %s
            )
            SELECT ranked.kind, ranked.object_id, ranked.title, ranked.rank,
                   ts_headline(%s::regconfig,
                       CASE WHEN ranked.kind IN ({_placeholders(internal)})
                            THEN ranked.body || ' ' || ranked.internal ELSE ranked.body END,
                       tsq.q, %s)
            FROM ranked, tsq
            ORDER BY ranked.rank DESC, ranked.id DESC
        """
        params = [
            language,
            parsed.text,
            parsed.text,
            *internal,
            *scope.params,
            *match_params,
            limit,
            offset,
            language,
            *internal,
            self.HEADLINE,
        ]
        return [
            SearchHit(kind=k, object_id=o, title=t, rank=float(r), snippet=safe_snippet(s))
            for k, o, t, r, s in _fetch(sql, params)
        ]

    def fuzzy(
        self, scope: _Scope, parsed: ParsedQuery, language: str, limit: int
    ) -> list[SearchHit]:
        table = self.TABLE
        words = " ".join(parsed.words)
        sql = f"""
            SELECT "{table}"."kind", "{table}"."object_id", "{table}"."title",
                   word_similarity(%s, "{table}"."title") AS rank,
                   left("{table}"."body", {SNIPPET_CHARS})
            FROM "{table}"
            WHERE {scope.where} AND %s <%% "{table}"."title"
            ORDER BY rank DESC, "{table}"."id" DESC
            LIMIT %s
        """
        with transaction.atomic(), connection.cursor() as cursor:
            # Local to this transaction: the index's operator reads the threshold.
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                [str(TRIGRAM_THRESHOLD)],
            )
            cursor.execute(sql, [words, *scope.params, words, limit])
            rows = cursor.fetchall()
        return [
            SearchHit(
                kind=k, object_id=o, title=t, rank=float(r), snippet=safe_snippet(s), is_fuzzy=True
            )
            for k, o, t, r, s in rows
        ]

    def matching_ids(
        self, tenant_id: int, kind: str, parsed: ParsedQuery, language: str, internal: bool
    ) -> tuple[str, list[Any]]:
        table = self.TABLE
        vector = f'("{table}"."vector" @@ {self._query_sql()}'
        params: list[Any] = [language, parsed.text, parsed.text]
        if internal:
            vector += f' OR "{table}"."internal_vector" @@ {self._query_sql()}'
            params += [language, parsed.text, parsed.text]
        vector += ")"
        sql = (
            f'SELECT "{table}"."object_id" FROM "{table}" '
            f'WHERE "{table}"."tenant_id" = %s AND "{table}"."kind" = %s AND {vector}'
        )
        return sql, [tenant_id, kind, *params]


class _Sqlite:
    TABLE = "search_searchdocument"

    def _select(self, scope: _Scope, internal: bool) -> str:
        table = self.TABLE
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        # Readers without internal text search the other three columns only,
        # and their snippet comes from the body.
        column = -1 if internal else 2
        kinds = _placeholders(scope.internal_kinds) if scope.internal_kinds else "''"
        return f"""
            SELECT "{table}"."id" AS id, "{table}"."kind" AS kind,
                   "{table}"."object_id" AS object_id, "{table}"."title" AS title,
                   -bm25(search_fts, {weights}) AS rank,
                   snippet(search_fts, {column}, '{MARK_START}', '{MARK_STOP}', ' … ', 24)
                       AS snippet
            FROM search_fts JOIN "{table}" ON "{table}"."id" = search_fts.rowid
            WHERE search_fts MATCH %s AND {scope.where}
              AND "{table}"."kind" {"IN" if internal else "NOT IN"} ({kinds})
        """

    def _run(
        self, scope: _Scope, expression: str, limit: int, offset: int, fuzzy: bool
    ) -> list[SearchHit]:
        public = "{title keywords body} : (" + expression + ")"
        internal_kinds = list(scope.internal_kinds)
        parts = [self._select(scope, internal=False)]
        params: list[Any] = [public, *scope.params, *internal_kinds]
        if internal_kinds:
            parts.append(self._select(scope, internal=True))
            params += [expression, *scope.params, *internal_kinds]
        sql = (
            "SELECT kind, object_id, title, rank, snippet FROM ("
            + " UNION ALL ".join(parts)
            + ") ORDER BY rank DESC, id DESC LIMIT %s OFFSET %s"
        )
        params += [limit, offset]
        return [
            SearchHit(
                kind=k, object_id=o, title=t, rank=float(r), snippet=safe_snippet(s), is_fuzzy=fuzzy
            )
            for k, o, t, r, s in _fetch(sql, params)
        ]

    def full_text(
        self, scope: _Scope, parsed: ParsedQuery, language: str, limit: int, offset: int
    ) -> list[SearchHit]:
        return self._run(scope, fts5_expression(parsed), limit, offset, fuzzy=False)

    def corrections(self, words: Iterable[str]) -> dict[str, list[str]]:
        """Terms of the index close to each word (the index holds Porter
        stems, which difflib compares well enough with typed words)."""
        found: dict[str, list[str]] = {}
        for word in words:
            if len(word) < 3:
                continue
            first = word[0]
            rows = _fetch(
                "SELECT term FROM search_fts_vocab WHERE term >= %s AND term < %s",
                [first, first + "\U0010ffff"],
            )
            terms = [row[0] for row in rows if row[0] != word]
            close = difflib.get_close_matches(word, terms, n=3, cutoff=VOCABULARY_CUTOFF)
            if close:
                found[word] = close
        return found

    def fuzzy(
        self, scope: _Scope, parsed: ParsedQuery, language: str, limit: int
    ) -> list[SearchHit]:
        alternatives = self.corrections(parsed.words)
        if not alternatives:
            return []
        return self._run(scope, fts5_expression(parsed, alternatives), limit, 0, fuzzy=True)

    def matching_ids(
        self, tenant_id: int, kind: str, parsed: ParsedQuery, language: str, internal: bool
    ) -> tuple[str, list[Any]]:
        table = self.TABLE
        expression = fts5_expression(parsed)
        if not internal:
            expression = "{title keywords body} : (" + expression + ")"
        sql = (
            f'SELECT "{table}"."object_id" FROM search_fts JOIN "{table}" '
            f'ON "{table}"."id" = search_fts.rowid '
            f'WHERE search_fts MATCH %s AND "{table}"."tenant_id" = %s AND "{table}"."kind" = %s'
        )
        return sql, [expression, tenant_id, kind]


_ENGINES: dict[str, _Postgres | _Sqlite] = {"postgresql": _Postgres(), "sqlite": _Sqlite()}


def _backend() -> _Postgres | _Sqlite:
    engine = _ENGINES.get(connection.vendor)
    if engine is None:
        raise RuntimeError(f"No search engine for the {connection.vendor} database.")
    return engine
