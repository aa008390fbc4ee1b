"""The catalog: what each member may order, ordering in the portal and
through the API, the answers kept with their form, and what pages cost."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from catalog import services
from catalog.models import CatalogItem, Order, Visibility
from servicedesk.models import Role
from tests.conftest import client_for
from tests.servicedesk.factories import ApiTokenFactory
from tickets.models import Ticket, TicketKind

pytestmark = pytest.mark.django_db

LAPTOP_FORM = [
    {
        "key": "model",
        "type": "choice",
        "label": "Model",
        "required": True,
        "choices": [
            {"value": "std", "label": "Standard 14″"},
            {"value": "perf", "label": "Performance 16″"},
        ],
    },
    {"key": "cost", "type": "number", "label": "Cost (€)", "min": 0, "integer": True},
    {
        "key": "justification",
        "type": "long_text",
        "label": "Business justification",
        "required": True,
        "show_when": {"field": "cost", "op": "gt", "value": 1000},
    },
    {"key": "manager", "type": "person", "label": "Manager"},
]


def make_item(world, name="New laptop", **fields):
    values = {
        "category": "Hardware",
        "short_description": "A laptop",
        "status": "published",
        "team": world.team,
        "form_schema": LAPTOP_FORM,
        **fields,
    }
    return services.item_create(tenant=world.tenant, name=name, **values)


def url(world, suffix=""):
    return f"/t/{world.tenant.slug}/portal/catalog/{suffix}"


class TestWhatMembersSee:
    def test_requesters_see_published_items_for_everyone_only(self, world):
        shown = make_item(world, "Laptop")
        make_item(world, "Draft thing", status="draft")
        make_item(world, "Old thing", status="retired")
        hidden = make_item(world, "Server access", visibility=Visibility.AGENTS)
        requester = client_for(world.user(Role.REQUESTER))
        page = requester.get(url(world)).content.decode()
        assert "Laptop" in page
        assert "Draft thing" not in page
        assert "Old thing" not in page
        assert "Server access" not in page
        assert requester.get(url(world, f"{shown.pk}/")).status_code == 200
        assert requester.get(url(world, f"{hidden.pk}/")).status_code == 404
        agent_page = client_for(world.user(Role.AGENT)).get(url(world)).content.decode()
        assert "Server access" in agent_page
        assert "Draft thing" not in agent_page

    def test_an_agents_only_service_hides_its_items_from_requesters(self, world):
        service = services.service_create(
            tenant=world.tenant, name="Ops tooling", visibility=Visibility.AGENTS
        )
        item = make_item(world, "Pager", service=service)
        requester = client_for(world.user(Role.REQUESTER))
        assert requester.get(url(world, f"{item.pk}/")).status_code == 404

    def test_search_and_category_narrow_the_catalog(self, world):
        make_item(world, "Laptop")
        make_item(world, "VPN access", category="Access", short_description="Remote network")
        page = client_for(world.user(Role.REQUESTER)).get(url(world), {"q": "remote"})
        text = page.content.decode()
        assert "VPN access" in text
        assert "Laptop</a>" not in text
        assert "1 of 2 items match" in text
        by_category = client_for(world.user(Role.REQUESTER)).get(
            url(world), {"category": "Hardware"}
        )
        assert "Laptop" in by_category.content.decode()
        assert "VPN access</a>" not in by_category.content.decode()

    def test_labels_and_help_are_escaped(self, world):
        item = make_item(
            world,
            form_schema=[
                {
                    "key": "a",
                    "type": "text",
                    "label": "<script>alert(1)</script>",
                    "help": "<img src=x onerror=alert(2)>",
                }
            ],
        )
        page = (
            client_for(world.user(Role.REQUESTER)).get(url(world, f"{item.pk}/")).content.decode()
        )
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)" in page
        assert "<img src=x" not in page


class TestOrdering:
    def test_an_order_opens_a_routed_request_with_its_answers(self, world):
        item = make_item(world)
        requester = world.user(Role.REQUESTER)
        response = client_for(requester).post(
            url(world, f"{item.pk}/"),
            {
                "a-model": "perf",
                "a-cost": "1900",
                "a-justification": "Builds take 40 min",
                "a-manager": str(world.user(Role.LEAD).pk),
            },
        )
        ticket = Ticket.objects.for_tenant(world.tenant).get()
        assert response.status_code == 302
        assert response["Location"].endswith(f"/portal/tickets/{ticket.key}/")
        assert (ticket.kind, ticket.requester, ticket.team) == (
            TicketKind.REQUEST,
            requester,
            world.team,
        )
        order = Order.objects.for_tenant(world.tenant).get()
        assert order.answers == {
            "model": "perf",
            "cost": 1900,
            "justification": "Builds take 40 min",
            "manager": world.user(Role.LEAD).pk,
        }
        assert (order.schema_version, order.form_schema) == (1, LAPTOP_FORM)
        portal = client_for(requester).get(f"/t/{world.tenant.slug}/portal/tickets/{ticket.key}/")
        desk = client_for(world.user(Role.AGENT)).get(
            f"/t/{world.tenant.slug}/desk/tickets/{ticket.key}/"
        )
        for page in (portal, desk):
            text = page.content.decode()
            assert 'id="ticket-catalog_order"' in text
            assert "Performance 16″" in text
            assert "Builds take 40 min" in text
            assert world.user(Role.LEAD).display_name in text

    def test_a_wrong_answer_is_a_form_error_and_nothing_is_written(self, world):
        item = make_item(world)
        response = client_for(world.user(Role.REQUESTER)).post(
            url(world, f"{item.pk}/"), {"a-model": "perf", "a-cost": "1900", "a-manager": "999999"}
        )
        text = response.content.decode()
        assert response.status_code == 400
        assert "This field is required." in text  # the justification, shown by the cost
        assert "Choose a person of this organisation." in text
        assert 'value="1900"' in text  # what was typed is kept
        assert not Ticket.objects.for_tenant(world.tenant).exists()
        assert not Order.objects.for_tenant(world.tenant).exists()

    def test_the_form_redraws_for_the_answers_so_far(self, world):
        item = make_item(world)
        requester = client_for(world.user(Role.REQUESTER))
        first = requester.get(url(world, f"{item.pk}/")).content.decode()
        assert 'id="field-justification" hidden' in first
        redrawn = requester.post(
            url(world, f"{item.pk}/form/"), {"a-cost": "1500"}
        ).content.decode()
        assert 'id="field-justification" hidden' not in redrawn
        assert 'id="field-justification"' in redrawn
        # Without JavaScript: the "Update the form" button does the same round trip.
        no_js = requester.post(url(world, f"{item.pk}/"), {"a-cost": "1500", "refresh": "1"})
        assert no_js.status_code == 200
        assert 'id="field-justification" hidden' not in no_js.content.decode()
        assert not Ticket.objects.for_tenant(world.tenant).exists()

    def test_a_retired_item_cannot_be_ordered(self, world):
        item = make_item(world)
        services.item_update(item=item, status="retired")
        response = client_for(world.user(Role.REQUESTER)).post(
            url(world, f"{item.pk}/"), {"a-model": "std"}
        )
        assert response.status_code == 404

    def test_an_old_order_reads_with_its_own_form_after_an_edit(self, world):
        item = make_item(world)
        services.order_place(
            membership=world.members[Role.REQUESTER],
            item=item,
            answers={"model": "std", "cost": 900},
        )
        services.item_update(
            item=item,
            form_schema=[
                {"key": "colour", "type": "choice", "label": "Colour", "choices": ["red"]}
            ],
        )
        item.refresh_from_db()
        assert item.schema_version == 2
        ticket = Ticket.objects.for_tenant(world.tenant).get()
        desk = client_for(world.user(Role.AGENT)).get(
            f"/t/{world.tenant.slug}/desk/tickets/{ticket.key}/"
        )
        text = desk.content.decode()
        assert "Standard 14″" in text
        assert "Cost (€)" in text
        assert "Colour" not in text

    def test_a_broken_form_is_refused_when_saved(self, world):
        item = make_item(world)
        with pytest.raises(ValidationError) as caught:
            services.item_update(
                item=item, form_schema=[{"key": "a", "type": "text", "label": "A"}] * 2
            )
        assert "form_schema" in caught.value.message_dict
        item.refresh_from_db()
        assert item.schema_version == 1


class TestApi:
    def api(self, world, role=Role.REQUESTER):
        token = ApiTokenFactory(
            tenant=world.tenant, user=world.user(role), scopes=["tickets:read", "tickets:write"]
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")

    def test_items_list_what_the_caller_may_order_with_the_form(self, world):
        make_item(world, "Laptop")
        make_item(world, "Server access", visibility=Visibility.AGENTS)
        body = self.api(world).get("/api/v1/catalog/items/").json()
        rows = body["results"] if isinstance(body, dict) else body
        assert [row["name"] for row in rows] == ["Laptop"]
        assert rows[0]["form_schema"][0]["key"] == "model"

    def test_an_order_is_201_with_the_ticket_and_its_answers(self, world):
        item = make_item(world)
        response = self.api(world).post(
            f"/api/v1/catalog/items/{item.pk}/order/",
            json.dumps({"answers": {"model": "perf", "cost": 1200, "justification": "Data work"}}),
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["kind"] == "request"
        answers = {a["key"]: a for a in body["catalog_order"]["answers"]}
        assert answers["model"]["value"] == "Performance 16″"
        assert answers["cost"]["raw"] == 1200

    def test_wrong_answers_are_400_by_field_and_nothing_is_written(self, world):
        item = make_item(world)
        response = self.api(world).post(
            f"/api/v1/catalog/items/{item.pk}/order/",
            json.dumps({"answers": {"model": ["perf"], "cost": 5000, "colour": "red"}}),
            content_type="application/json",
        )
        assert response.status_code == 400
        assert response.json() == {
            "answers": {
                "colour": ["This form has no such field."],
                "model": ["Choose one of the options."],
                "justification": ["This field is required."],
            }
        }
        assert not Ticket.objects.for_tenant(world.tenant).exists()

    @pytest.mark.parametrize("body", ['{"answers": [1, 2]}', '{"answers": "x"}', "[]"])
    def test_malformed_bodies_are_400(self, world, body):
        item = make_item(world)
        response = self.api(world).post(
            f"/api/v1/catalog/items/{item.pk}/order/", body, content_type="application/json"
        )
        assert response.status_code == 400

    def test_a_hidden_item_is_404(self, world):
        item = make_item(world, visibility=Visibility.AGENTS)
        assert (
            self.api(world)
            .post(f"/api/v1/catalog/items/{item.pk}/order/", "{}", content_type="application/json")
            .status_code
            == 404
        )


class TestQueryCounts:
    def count(self, django_assert_max_num_queries, client, path):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.get(path)  # the session's first read is not the page's cost
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    def test_the_catalog_page_costs_the_same_for_5_and_50_items(
        self, world, django_assert_max_num_queries
    ):
        requester = client_for(world.user(Role.REQUESTER))
        for i in range(5):
            make_item(world, f"Item {i}", category=f"Cat {i % 3}")
        few = self.count(django_assert_max_num_queries, requester, url(world))
        for i in range(5, 50):
            make_item(world, f"Item {i}", category=f"Cat {i % 7}")
        many = self.count(django_assert_max_num_queries, requester, url(world))
        assert few == many

    def test_the_item_page_costs_the_same_for_a_small_and_a_large_form(
        self, world, django_assert_max_num_queries
    ):
        requester = client_for(world.user(Role.REQUESTER))
        small = make_item(world, "Small", form_schema=LAPTOP_FORM[:2])
        big_form = [{"key": f"f{i}", "type": "text", "label": f"Field {i}"} for i in range(50)]
        big = make_item(world, "Big", form_schema=big_form + LAPTOP_FORM[3:])
        assert self.count(django_assert_max_num_queries, requester, url(world, f"{small.pk}/")) == (
            self.count(django_assert_max_num_queries, requester, url(world, f"{big.pk}/"))
        )

    def test_the_ticket_api_list_reads_orders_once_for_the_page(
        self, world, django_assert_max_num_queries
    ):
        item = make_item(world)
        member = world.members[Role.REQUESTER]
        api = TestApi().api(world)

        def place(n):
            for _ in range(n):
                services.order_place(
                    membership=member,
                    item=item,
                    answers={"model": "std", "manager": world.user(Role.LEAD).pk},
                )

        place(2)
        few = self.count(django_assert_max_num_queries, api, "/api/v1/tickets/")
        place(10)
        many = self.count(django_assert_max_num_queries, api, "/api/v1/tickets/")
        assert few == many


def test_catalog_items_are_unique_by_name_in_a_tenant(world):
    make_item(world, "Laptop")
    with pytest.raises(ValidationError) as caught:
        make_item(world, "laptop")
    assert "name" in caught.value.message_dict
    assert CatalogItem.objects.for_tenant(world.tenant).count() == 1


class TestAdminApi:
    def api(self, world, role=Role.ADMIN, scopes=("catalog:admin",)):
        token = ApiTokenFactory(tenant=world.tenant, user=world.user(role), scopes=list(scopes))
        return Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")

    def send(self, client, method, path, body):
        return getattr(client, method)(
            f"/api/v1/catalog/admin/{path}", json.dumps(body), content_type="application/json"
        )

    def test_an_admin_builds_a_service_and_an_item_then_edits_its_form(self, world):
        admin = self.api(world)
        service = self.send(
            admin, "post", "services/", {"name": "Phones", "owner_team": world.team.slug}
        )
        assert service.status_code == 201, service.content
        created = self.send(
            admin,
            "post",
            "items/",
            {"name": "Desk phone", "category": "Hardware", "short_description": "A phone",
             "service": service.json()["id"], "team": world.team.slug, "form_schema": LAPTOP_FORM},
        )  # fmt: skip
        assert created.status_code == 201, created.content
        item_id = created.json()["id"]
        assert created.json()["status"] == "draft"
        edited = self.send(
            admin, "patch", f"items/{item_id}/",
            {"status": "published", "form_schema": LAPTOP_FORM[:2]},
        )  # fmt: skip
        assert edited.status_code == 200
        assert edited.json()["schema_version"] == 2
        listed = admin.get("/api/v1/catalog/admin/items/").json()
        assert [row["name"] for row in listed["results"]] == ["Desk phone"]

    def test_a_broken_form_is_400_with_the_reason_and_nothing_saved(self, world):
        item = make_item(world)
        response = self.send(
            self.api(world), "patch", f"items/{item.pk}/",
            {"form_schema": [{"key": "a", "type": "text", "label": "A"}] * 2},
        )  # fmt: skip
        assert response.status_code == 400
        assert "used twice" in response.json()["form_schema"][0]
        item.refresh_from_db()
        assert (item.schema_version, item.form_schema) == (1, LAPTOP_FORM)

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "X", "category": "C", "short_description": "S", "team": "no-such-team"},
            {"name": "X", "category": "C", "short_description": "S", "service": 10**15},
            {"name": "X", "category": "C", "short_description": "S", "icon": "skull"},
            {"name": "X", "category": "C", "short_description": "S", "form_schema": "text"},
            {"name": ["X"], "category": "C", "short_description": "S"},
        ],
    )
    def test_bad_items_are_400(self, world, body):
        response = self.send(self.api(world), "post", "items/", body)
        assert response.status_code == 400
        assert not CatalogItem.objects.for_tenant(world.tenant).exists()

    def test_agents_and_other_scopes_are_refused(self, world):
        assert (
            self.api(world, role=Role.AGENT).get("/api/v1/catalog/admin/items/").status_code == 403
        )
        wrong_scope = self.api(world, scopes=("tickets:read",))
        assert wrong_scope.get("/api/v1/catalog/admin/items/").status_code == 403
