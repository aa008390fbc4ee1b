"""The search layer on PostgreSQL: ranking on a fixed corpus, the query
language, hostile input, snippets, cursors and visibility by kind."""

from __future__ import annotations

import pytest

from servicedesk.models import Role
from servicedesk.search import engine
from tests.search import corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def probe(world):
    corpus.register_probe_kind()
    corpus.index_corpus(world.tenant.pk)
    yield world
    engine.kinds.unregister(corpus.KIND)


def test_ranking_sanity_on_the_fixed_corpus(probe):
    cases = corpus.ranking_cases(
        probe.tenant.pk, probe.members[Role.REQUESTER], probe.members[Role.AGENT]
    )
    corpus.assert_ranking(cases)


@pytest.mark.parametrize(
    "query",
    [
        "&",
        "|",
        "!",
        "(",
        ")",
        ":",
        "*",
        "&|!():*",
        '"',
        '"vpn',
        "vpn\"'",
        "a" * 10_000,
        "vpn\x00drops",
        "-",
        "- -",
        "or",
        "vpn or",
        "\\",
        "'; drop table x; --",
        "%",
        "_%_",
    ],
)
def test_hostile_queries_give_results_or_a_message(probe, query):
    result = engine.search(probe.tenant.pk, probe.members[Role.AGENT], query, kinds=[corpus.KIND])
    assert result.hits or result.message or result.hits == []
    if query.strip("&|!():*-\\%_'\" ") == "" or query in ("or",):
        assert result.message


def test_an_empty_or_exclusion_only_query_says_why():
    assert engine.parse_query("   ").is_empty
    assert engine.parse_query("-vpn").excluded
    assert engine.parse_query("-vpn").is_empty


def test_a_long_query_is_cut_and_says_so(probe):
    result = engine.search(
        probe.tenant.pk, probe.members[Role.AGENT], "vpn " * 3000, kinds=[corpus.KIND]
    )
    assert result.message == "Only the start of a long search was used."
    assert 1 in result.ids


def test_cursor_pages_through_and_rejects_forgeries(probe):
    agent = probe.members[Role.AGENT]
    first = engine.search(probe.tenant.pk, agent, "vpn", kinds=[corpus.KIND], limit=2)
    assert len(first.hits) == 2
    assert first.next_cursor
    second = engine.search(
        probe.tenant.pk, agent, "vpn", kinds=[corpus.KIND], limit=2, cursor=first.next_cursor
    )
    assert second.ids
    assert not set(second.ids) & set(first.ids)
    for forged in ("nope", "b1234", engine.encode_cursor(10**6)):
        with pytest.raises(engine.SearchInputError):
            engine.search(probe.tenant.pk, agent, "vpn", kinds=[corpus.KIND], cursor=forged)
    with pytest.raises(engine.SearchInputError):
        engine.search(probe.tenant.pk, agent, "vpn", kinds=["nonsense"])


def test_another_tenants_documents_are_never_found(probe, foreign):
    corpus.index_corpus(foreign.tenant.pk)
    engine.index_document(
        tenant_id=foreign.tenant.pk,
        kind=corpus.KIND,
        object_id=99,
        document=engine.Document(title="Foreign zebra"),
    )
    assert engine.search(probe.tenant.pk, probe.members[Role.ADMIN], "zebra").hits == []
    assert engine.search(probe.tenant.pk, probe.members[Role.ADMIN], "zebar").hits == []


def test_safe_snippet_marks_only_its_own_sentinels():
    raw = f"<b>{engine.MARK_START}vpn{engine.MARK_STOP}</b> {engine.MARK_STOP}&"
    assert str(engine.safe_snippet(raw)) == "&lt;b&gt;<mark>vpn</mark>&lt;/b&gt; &amp;"
