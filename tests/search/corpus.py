"""A small fixed corpus the ranking tests run on, on PostgreSQL in the suite
and on SQLite through ``tests/search/sqlite_ranking.py``."""

from __future__ import annotations

from django.db.models import Q

from servicedesk.search import engine

KIND = "probe"

# (object id, title, keywords, body, internal)
DOCUMENTS = [
    (1, "VPN drops every few minutes", "network remote", "Reconnect the client.", ""),
    (2, "Printer on the third floor jams", "printer hardware", "Paper tray. Not the VPN.", ""),
    (3, "Mailbox is full", "email quota", "Archive old mail <script>x</script>.", "vpn secret"),
    (4, "Wi-Fi in meeting room B", "wifi", "The access point reboots on a mac.", ""),
    (5, "New laptop for a starter", "hardware", "Order the standard laptop, vpn profile.", ""),
]


def register_probe_kind() -> None:
    engine.register_kind(
        engine.Kind(
            name=KIND,
            order=999,
            label="Probes",
            restrict=lambda membership: Q(),
            sees_internal=lambda membership: membership.is_agent,
            reindex=lambda tenant_id: 0,
        )
    )


def index_corpus(tenant_id: int) -> None:
    for object_id, title, keywords, body, internal in DOCUMENTS:
        engine.index_document(
            tenant_id=tenant_id,
            kind=KIND,
            object_id=object_id,
            document=engine.Document(title=title, keywords=keywords, body=body, internal=internal),
        )


def ranking_cases(tenant_id: int, requester, agent) -> dict[str, object]:
    """What the ranking tests assert, computed on whatever database is connected."""

    def ids(query: str, viewer=requester) -> list[int]:
        return engine.search(tenant_id, viewer, query, kinds=[KIND]).ids

    result = engine.search(tenant_id, requester, "vpn", kinds=[KIND])
    typo = engine.search(tenant_id, requester, "pritner", kinds=[KIND])
    return {
        "vpn": [hit.object_id for hit in result.hits],
        "vpn_snippets": [str(hit.snippet) for hit in result.hits],
        "vpn_not_mac": ids("vpn -printer"),
        "phrase": ids('"every few minutes"'),
        "typo": [hit.object_id for hit in typo.hits],
        "typo_fuzzy": [hit.is_fuzzy for hit in typo.hits],
        "requester_internal": ids("secret"),
        "agent_internal": ids("secret", agent),
        "stemmed": ids("printers"),
        "keyword": ids("quota"),
        "script": [str(h.snippet) for h in engine.search(tenant_id, requester, "archive").hits],
    }


def assert_ranking(cases: dict) -> None:
    """The same expectations on both databases."""
    # A title match outranks a keyword or body match.
    assert cases["vpn"][0] == 1
    assert set(cases["vpn"]) == {1, 2, 5}
    assert "<mark>" in " ".join(cases["vpn_snippets"])
    assert set(cases["vpn_not_mac"]) == {1, 5}
    assert cases["phrase"] == [1]
    # A typo still finds the article, marked as a fuzzy hit.
    assert cases["typo"] == [2]
    assert cases["typo_fuzzy"] == [True]
    # Internal text is found only by those who may see it.
    assert cases["requester_internal"] == []
    assert cases["agent_internal"] == [3]
    assert cases["stemmed"] == [2]
    assert cases["keyword"] == [3]
    # Snippets are escaped before they are marked.
    assert all("<script>" not in s for s in cases["script"])
    assert any("<mark>Archive</mark>" in s for s in cases["script"])
