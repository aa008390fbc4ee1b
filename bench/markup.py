"""What rendering markdown costs: a typical comment cold and warm, the desk
ticket page with a 50-comment timeline, and the slowest texts of a comment's
size we know.

Prints:

* a typical 2 KB comment (headings, a list, a table, code, links): the
  rendering itself (cold) and a cache hit (warm), in the embedded default's
  per-process memory or, with ``--redis URL``, in Redis as in production;
* the desk ticket page with COMMENTS such comments, in-process (Django test
  client, no network): p50 with every rendering cached, and with the cache
  emptied before each request (what every view cost before the cache);
* the worst-case texts, each rendered once, cold, with its size and the
  length of the HTML.

``--python-markdown`` puts Python-Markdown (the renderer before markdown-it-py,
same extensions and cleaning) in place of the renderer, where it is still
installed, to print the figures from before; its worst cases take from
seconds to minutes, and each is stopped after ``--cap`` seconds.

    DATABASE_URL=postgres://servicedesk:servicedesk@127.0.0.1:5432/servicedesk \\
        .venv/bin/python bench/markup.py [--comments 50] [--redis redis://127.0.0.1:6379/8]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

TYPICAL_COMMENT = """\
## What we found

The VPN client on **three** laptops drops the tunnel every hour, always at
`:17` past. The gateway log shows the re-key failing:

```
ike: rekey failed for peer 10.20.0.4: NO_PROPOSAL_CHOSEN
ike: tearing down SA 0x4f2a (lifetime 3600s)
```

| Laptop | Client | Drops |
|--------|--------|------:|
| LT-0412 | 5.2.1 | 11 |
| LT-0419 | 5.2.1 | 9 |
| LT-0533 | 5.1.8 | 0 |

Steps taken so far:

1. Compared the proposals on both sides (see [the runbook](https://wiki.example.test/vpn)).
2. Rolled LT-0533 back to *5.1.8*: no drops since.
3. Opened a case with the vendor: <https://support.example.test/case/88123>.

> Lifetimes must match on both ends, or the side with the shorter one
> re-keys with a proposal the other refuses.

Next: push 5.1.8 to the other two, then ask the vendor for a fixed 5.2.x.
Ping me if a drop happens **after** the rollback.

### Rollout plan

- [x] LT-0533 on 5.1.8 (Monday)
- [ ] LT-0412 and LT-0419: *Tuesday evening*, after the backups
- [ ] Pin 5.1.8 in the software centre so the nightly update leaves it alone

If the vendor confirms the bug, the fix goes out with the March release;
until then keep `ike.lifetime` at **3600** on the gateway and do not touch
the client profiles. Users who see the tunnel drop can reconnect from the
tray icon; nothing is lost but the open SSH sessions, which we have told
them about in the announcement.

Related: the printers on floor 3 also lost their spooler connection at :17,
which points at the same re-key. Tracking that separately, see the linked
incident; close this one once all three laptops have run a full day.
"""


def fill(unit: str, prefix: str = "", size: int = 64_000) -> str:
    return prefix + unit * ((size - len(prefix)) // len(unit))


WORST_CASES = {
    "rules ---": fill("---\n"),
    "rules * * *": fill("* * *\n"),
    "setext headings a / =": fill("a\n=\n"),
    "headings # a": fill("# a\n"),
    "fences ~~~x": fill("~~~x\n"),
    "fence, then backtick lines": fill("`\n", "```\n"),
    "open autolinks <http://x": fill("<http://x"),
    "closed autolinks": fill("<http://x.y> "),
    "html-ish <a ": fill("<a "),
    "html comments <!--": fill("<!--"),
    "brackets [": fill("["),
    "brackets []( ": fill("[]("),
    "brackets ![]( ": fill("![]("),
    "brackets [x](y) ": fill("[x](y) "),
    "reference definitions and uses": fill(
        "[a]\n", "".join(f"[r{i}]: /u{i}\n" for i in range(2000))
    ),
    "emphasis *a": fill("*a"),
    "emphasis **a": fill("**a"),
    "emphasis *_ ": fill("*_ "),
    "strikethrough ~~a": fill("~~a"),
    "backticks `a``": fill("`a``"),
    "backtick runs rising": "".join("`" * i + "a" for i in range(1, 350)),
    "entities &#1;": fill("&#1;"),
    "entities &": fill("&"),
    "escapes \\": fill("\\"),
    "lines a": fill("a\n"),
    "hard breaks a··": fill("a  \n"),
    "list items - a": fill("- a\n"),
    "empty list items -": fill("-\n"),
    "list items - a, 5,000": "- a\n" * 5_000 + "a" * 44_000,
    "list markers, 32 a line": fill("- " * 32 + "a\n"),
    "list nested - - - …": fill("- ") + "x",
    "quotes nested > > > …": fill("> ") + "x",
    "quote 32 deep, lazy lines": fill("a\n", ">" * 32 + " a\n"),
    "quote 3 deep, lazy lines": fill("a\n", ">" * 3 + " a\n"),
    "quote 32 deep, 2,900 lazy lines": ">" * 32 + " a\n" + ("a" * 19 + "\n") * 2900,
    "table rows |a|b|": fill("|a|b|\n", "|a|b|\n|-|-|\n"),
    "table 15,000 columns": "|" + "a|" * 15_000 + "\n|" + "-|" * 15_000 + "\n",
    "table 100 columns, empty rows": fill("|\n", "|" + "a|" * 100 + "\n|" + "-|" * 100 + "\n"),
    "tables 181 x 362, 44 of them": fill(
        "|" + "a|" * 181 + "\n|" + "-|" * 181 + "\n" + "|\n" * 362 + "\n"
    ),
}


class Stopped(Exception):
    pass


def stop(*_: object) -> None:
    raise Stopped


def best_of(rounds: int, call: Callable[[], object]) -> float:
    """Seconds, the best of ``rounds`` calls."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def python_markdown_renderer() -> Callable[[str], str]:
    """The renderer before markdown-it-py, without its own bounds."""
    import markdown  # type: ignore[import-untyped]
    import nh3

    from servicedesk import markup

    def render(source: str) -> str:
        html = markdown.markdown(
            source, extensions=["fenced_code", "tables", "sane_lists", "nl2br"]
        )
        return nh3.clean(
            html,
            tags=markup.ALLOWED_TAGS,
            attributes=markup.ALLOWED_ATTRIBUTES,
            url_schemes=markup.URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )

    return render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--redis", default="", help="cache in this Redis, as in production")
    parser.add_argument("--python-markdown", action="store_true")
    parser.add_argument("--cap", type=float, default=30.0, help="seconds per worst case")
    parser.add_argument("--no-page", action="store_true")
    args = parser.parse_args()
    os.environ["REDIS_URL"] = args.redis

    import django

    django.setup()

    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from servicedesk import markup

    if args.python_markdown:
        markup._render = python_markdown_renderer()
    name = "Python-Markdown" if args.python_markdown else "markdown-it-py"
    print(f"renderer: {name}; cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[1]}")

    cache.clear()
    size = len(TYPICAL_COMMENT.encode())
    cold = best_of(50, lambda: markup._render(TYPICAL_COMMENT))
    markup.render_markdown(TYPICAL_COMMENT)
    warm = best_of(50, lambda: markup.render_markdown(TYPICAL_COMMENT))
    print(f"typical comment ({size:,} bytes): cold {cold * 1e3:.2f} ms, warm {warm * 1e3:.3f} ms")

    if not args.no_page:
        from servicedesk.models import Role
        from tests.servicedesk.factories import MembershipFactory, TenantFactory, UserFactory
        from tickets.services import Actor, comment_add, notifications_muted, ticket_create

        setup_test_environment()
        settings.ALLOWED_HOSTS = ["testserver"]
        connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_servicedesk_markup"
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            tenant = TenantFactory(slug="bench-markup", name="Bench")
            agent = MembershipFactory(tenant=tenant, role=Role.AGENT, user=UserFactory())
            requester = MembershipFactory(tenant=tenant, role=Role.REQUESTER, user=UserFactory())
            with notifications_muted():
                ticket = ticket_create(
                    actor=Actor.of(requester), kind="incident", title="VPN drops hourly",
                    description=TYPICAL_COMMENT,
                )  # fmt: skip
                for n in range(args.comments):
                    # Each comment its own text, as on a real ticket.
                    body = f"Update {n}.\n\n{TYPICAL_COMMENT}"
                    comment_add(actor=Actor.of(agent), ticket=ticket, body=body)
            client = Client()
            client.force_login(agent.user, backend="django.contrib.auth.backends.ModelBackend")
            url = reverse("tickets:desk_ticket", args=[tenant.slug, ticket.key])
            assert client.get(url).status_code == 200

            def page(*, clear: bool) -> float:
                samples = []
                for _ in range(args.requests):
                    if clear:
                        cache.clear()
                    started = time.perf_counter()
                    response = client.get(url)
                    samples.append(time.perf_counter() - started)
                    assert response.status_code == 200
                return statistics.median(samples) * 1e3

            # Sessions live in the database: emptying the cache keeps the login.
            uncached = page(clear=True)
            cached = page(clear=False)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            print(
                f"desk ticket page, {args.comments} comments of ~{size:,} bytes: "
                f"p50 {uncached:.1f} ms rendering every text, {cached:.1f} ms cached; "
                f"{len(queries)} queries"
            )
        finally:
            connection.creation.destroy_test_db(test_db, verbosity=0)

    print(f"worst cases, cold (stopped after {args.cap:.0f} s):")
    signal.signal(signal.SIGALRM, stop)
    for label, source in WORST_CASES.items():
        signal.setitimer(signal.ITIMER_REAL, args.cap)
        try:
            started = time.perf_counter()
            html = markup._render(source)
            figure = f"{(time.perf_counter() - started) * 1e3:8.0f} ms  {len(html):>10,} chars"
        except Stopped:
            figure = f"  > {args.cap:.0f} s"
        except RecursionError:
            figure = "  RecursionError"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        print(f"  {label:<34} {len(source):>7,} bytes {figure}", flush=True)


if __name__ == "__main__":
    main()
