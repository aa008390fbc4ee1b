"""The demo's knowledge base: about fifty articles per tenant a service desk
would really keep, some for agents only, some for the Security team only, a
few overdue for review, most with a revision or two, some linked to tickets."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kb import services
from kb.models import Article, Audience
from servicedesk.models import Membership, Role, Team
from servicedesk.registry import DemoSeed
from tickets.models import Ticket

R, A, S = Audience.REQUESTERS, Audience.AGENTS, Audience.TEAMS

# (title, category, tags, audience, steps)
ARTICLES: list[tuple[str, str, list[str], str, list[str]]] = [
    (
        "Connect to the VPN from home",
        "Network",
        ["vpn", "remote"],
        R,
        [
            "Install the VPN client from the Software Centre.",
            "Open it and sign in with your work e-mail address.",
            "Approve the sign-in in your authenticator app.",
            "Wait until the icon turns green before opening internal sites.",
        ],
    ),
    (
        "VPN drops every few minutes",
        "Network",
        ["vpn", "wifi"],
        R,
        [
            "Switch from Wi-Fi to a cable if you can, or sit nearer the router.",
            "Turn off 'Power saving' for the network adapter.",
            "Update the VPN client to the latest version.",
            "If it still drops, report it with the time it happened.",
        ],
    ),
    (
        "VPN client on a Mac says 'certificate expired'",
        "Network",
        ["vpn", "mac"],
        R,
        [
            "Open Keychain Access and delete the old 'corp-vpn' certificate.",
            "Restart the VPN client; it fetches a new certificate.",
        ],
    ),
    (
        "VPN split tunnelling: which traffic goes through the tunnel",
        "Network",
        ["vpn"],
        A,
        [
            "Internal ranges 10.0.0.0/8 and the SaaS list go through the tunnel.",
            "Video calls go direct. Change the firewall's VPN profile only with a change.",
        ],
    ),
    (
        "Set up multi-factor authentication (MFA)",
        "Accounts",
        ["mfa", "security"],
        R,
        [
            "Install the authenticator app on your phone.",
            "Go to the account portal and choose 'Add sign-in method'.",
            "Scan the QR code and type the six-digit code shown.",
        ],
    ),
    (
        "New phone: move your MFA to it",
        "Accounts",
        ["mfa", "phone"],
        R,
        [
            "Before you wipe the old phone, add the new one in the account portal.",
            "Lost the old phone already? Call the service desk to reset your MFA.",
        ],
    ),
    (
        "Reset a user's MFA after identity check",
        "Accounts",
        ["mfa"],
        A,
        [
            "Verify identity with a video call and the staff ID card.",
            "In the identity admin, revoke all MFA methods and require re-registration.",
            "Note the check in the ticket as an internal note.",
        ],
    ),
    (
        "Reset your password",
        "Accounts",
        ["password"],
        R,
        [
            "Go to the sign-in page and choose 'Forgot password'.",
            "Use at least 14 characters; a sentence is easier to remember.",
        ],
    ),
    (
        "Account locked after too many sign-in attempts",
        "Accounts",
        ["password", "lockout"],
        R,
        [
            "Wait 15 minutes: the lock lifts by itself.",
            "Check your phone and other devices for an old saved password.",
        ],
    ),
    (
        "Add a printer on Windows",
        "Printing",
        ["printer", "windows"],
        R,
        [
            "Open Settings → Printers and choose 'Add device'.",
            "Pick the printer by its floor and room, e.g. 'FL3-EAST'.",
        ],
    ),
    (
        "Printer jams on every second page",
        "Printing",
        ["printer", "hardware"],
        R,
        [
            "Fan the paper and load no more than the line in the tray.",
            "Use 80 g/m² paper; thicker paper goes in the manual feed.",
            "Still jamming? Report it with the printer's name on its label.",
        ],
    ),
    (
        "Print jobs stuck in the queue",
        "Printing",
        ["printer"],
        R,
        [
            "Cancel all documents in the printer's queue.",
            "Restart your computer and print again.",
        ],
    ),
    (
        "Replace a toner cartridge",
        "Printing",
        ["printer", "toner"],
        R,
        [
            "Open the front cover, pull the old cartridge out and shake the new one.",
            "Spare cartridges are in the supply cupboard on each floor.",
        ],
    ),
    (
        "Print server restart procedure",
        "Printing",
        ["printer", "server"],
        A,
        [
            "Drain the spooler: pause all queues in the print management console.",
            "Restart the spooler service, then resume the queues one by one.",
        ],
    ),
    (
        "Set up e-mail on your phone",
        "E-mail",
        ["email", "phone"],
        R,
        [
            "Install the official mail app; the built-in app is not supported.",
            "Sign in with your work e-mail and approve the MFA prompt.",
        ],
    ),
    (
        "Mailbox is full",
        "E-mail",
        ["email", "quota"],
        R,
        [
            "Empty 'Deleted items' and 'Junk'.",
            "Turn on the online archive: older mail moves there by itself.",
        ],
    ),
    (
        "Share a mailbox or calendar",
        "E-mail",
        ["email", "calendar"],
        R,
        [
            "Right-click the calendar, choose 'Sharing permissions' and add a colleague.",
            "For a team mailbox, ask for access with a request.",
        ],
    ),
    (
        "Suspicious e-mail? Report phishing",
        "E-mail",
        ["email", "phishing", "security"],
        R,
        [
            "Do not click links or open attachments.",
            "Use the 'Report phishing' button in the mail app.",
        ],
    ),
    (
        "Out-of-office replies",
        "E-mail",
        ["email"],
        R,
        [
            "Settings → Automatic replies; set the dates and a short message.",
        ],
    ),
    (
        "Mail flow troubleshooting: message trace",
        "E-mail",
        ["email"],
        A,
        [
            "Run a message trace for the sender and the last 48 hours.",
            "Quarantined? Release only after checking the headers.",
        ],
    ),
    (
        "Connect to the office Wi-Fi",
        "Network",
        ["wifi"],
        R,
        [
            "Choose the network 'corp' and sign in with your work account.",
            "Guests use 'corp-guest' with the code at reception.",
        ],
    ),
    (
        "Wi-Fi is slow in a meeting room",
        "Network",
        ["wifi"],
        R,
        [
            "Check you're on 'corp', not 'corp-guest'.",
            "Report the room name; we check the access point.",
        ],
    ),
    (
        "Wi-Fi access point reboot and channel plan",
        "Network",
        ["wifi", "network"],
        A,
        [
            "Reboot the AP from the controller, never by pulling power.",
            "Channels 36-48 for meeting rooms; avoid DFS channels near the airport.",
        ],
    ),
    (
        "Order a new laptop",
        "Hardware",
        ["laptop", "hardware"],
        R,
        [
            "Ask for a laptop with the 'Hardware request' form; your manager approves.",
            "Standard models ship in three working days.",
        ],
    ),
    (
        "Laptop won't turn on",
        "Hardware",
        ["laptop"],
        R,
        [
            "Plug in the original charger and wait 10 minutes.",
            "Hold the power button for 20 seconds, then press it once.",
        ],
    ),
    (
        "Laptop battery drains fast",
        "Hardware",
        ["laptop", "battery"],
        R,
        [
            "Lower the screen brightness and close browser tabs you don't use.",
            "Check Battery settings for apps using the most power.",
        ],
    ),
    (
        "Encrypt a laptop with BitLocker",
        "Hardware",
        ["laptop", "encryption"],
        A,
        [
            "The device policy turns BitLocker on; check its status in the endpoint console.",
            "Recovery keys are in the directory; read them only for the device's owner.",
        ],
    ),
    (
        "Return a laptop when someone leaves",
        "Hardware",
        ["laptop", "offboarding"],
        A,
        [
            "Collect the laptop and charger; wipe it from the endpoint console.",
            "Close the asset in the CMDB.",
        ],
    ),
    (
        "Docking station: external screens stay black",
        "Hardware",
        ["dock", "laptop"],
        R,
        [
            "Unplug the dock's power for 30 seconds.",
            "Update the dock's firmware from the Software Centre.",
        ],
    ),
    (
        "Ask for access to a shared drive",
        "Access",
        ["access", "files"],
        R,
        [
            "Use 'Ask for something' and name the drive and the kind of access.",
            "The drive's owner approves; access follows within a working day.",
        ],
    ),
    (
        "Ask for access to an application",
        "Access",
        ["access"],
        R,
        [
            "Name the application and why you need it; your manager approves.",
        ],
    ),
    (
        "Grant access: approval rules by system",
        "Access",
        ["access", "approvals"],
        A,
        [
            "Finance systems need the data owner's approval as well as the manager's.",
            "Admin rights need a change and expire after 30 days.",
        ],
    ),
    (
        "Remove access when someone moves team",
        "Access",
        ["access", "offboarding"],
        A,
        [
            "Run the access review report for the person; remove what the new role doesn't need.",
        ],
    ),
    (
        "Install software from the Software Centre",
        "Software",
        ["software"],
        R,
        [
            "Open Software Centre, search for the application and choose 'Install'.",
            "Not listed? Ask for it; we check the licence.",
        ],
    ),
    (
        "Teams: no sound in calls",
        "Software",
        ["teams", "audio"],
        R,
        [
            "In the call, open Device settings and pick the right speaker.",
            "Unplug and plug in the headset again.",
        ],
    ),
    (
        "Browser says a site's certificate is not trusted",
        "Software",
        ["browser", "certificate"],
        R,
        [
            "Do not continue to the site. Report it with the address.",
        ],
    ),
    (
        "Security incident first response",
        "Security",
        ["security", "incident"],
        S,
        [
            "Isolate the device from the network in the endpoint console.",
            "Preserve evidence: do not reboot; capture memory if asked.",
            "Open a confidential incident and page the security on-call.",
        ],
    ),
    (
        "Phishing campaign: purge messages from all mailboxes",
        "Security",
        ["security", "phishing", "email"],
        S,
        [
            "Search all mailboxes for the sender and subject.",
            "Purge with a soft delete; record the count in the incident.",
        ],
    ),
    (
        "Compromised account containment",
        "Security",
        ["security", "accounts", "mfa"],
        S,
        [
            "Revoke sessions, reset the password and the MFA methods.",
            "Review sign-in logs for the last 30 days and mailbox rules.",
        ],
    ),
    (
        "Lost or stolen device",
        "Security",
        ["security", "laptop", "phone"],
        R,
        [
            "Report it at once, day or night: call the service desk.",
            "We lock and wipe it remotely; your files are safe in the cloud.",
        ],
    ),
    (
        "Firewall rule change procedure",
        "Network",
        ["firewall", "change"],
        S,
        [
            "Every rule change needs a change ticket with the business owner.",
            "Test in the staging ruleset first.",
        ],
    ),
    (
        "Escalate a P1 incident",
        "Service desk",
        ["incident", "escalation"],
        A,
        [
            "Page the on-call of the owning team and post in the incident channel.",
            "Update the ticket every 30 minutes, even to say there is no news.",
        ],
    ),
    (
        "Write a good ticket update",
        "Service desk",
        ["process"],
        A,
        [
            "Say what you did, what you found and what happens next.",
            "Keep internal notes for internal detail; replies are read by the requester.",
        ],
    ),
    (
        "Working from home: checklist",
        "Remote work",
        ["vpn", "remote", "wifi"],
        R,
        [
            "Connect to the VPN before opening internal sites.",
            "Lock your screen when you step away.",
        ],
    ),
    (
        "Book a meeting room screen",
        "Facilities",
        ["meeting", "screen"],
        R,
        [
            "Rooms with screens are marked with a monitor icon in the calendar.",
        ],
    ),
    (
        "Old intranet guide (retired)",
        "Software",
        ["intranet"],
        R,
        [
            "The old intranet was switched off; use the new portal.",
        ],
    ),
]

INTRO = (
    "This article explains what to do, step by step. "
    "If the steps don't help, report the problem and mention this article."
)


def _body(steps: list[str], extra: str = "") -> str:
    lines = [INTRO, "", "## Steps", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(steps, start=1)]
    if extra:
        lines += ["", "## Good to know", "", extra]
    return "\n".join(lines)


def seed_demo_articles(seed: DemoSeed) -> int:
    tenant = seed.tenant
    if Article.objects.for_tenant(tenant).exists():
        return 0
    staff = list(
        Membership.objects.for_tenant(tenant)
        .filter(role__in=[Role.AGENT, Role.LEAD, Role.ADMIN], is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    if not staff:
        return 0
    lead = next((m for m in staff if m.role == Role.LEAD), staff[0])
    authors = [m for m in staff if m.role == Role.AGENT] or staff
    teams = {t.name: t for t in Team.objects.for_tenant(tenant)}
    security = teams.get("Security")
    desk_team = teams.get("Service Desk")
    tickets = list(Ticket.objects.for_tenant(tenant).only("pk", "title").order_by("pk")[:400])
    today = timezone.localdate()
    made = 0
    with transaction.atomic():
        for number, (title, category, tags, audience, steps) in enumerate(ARTICLES):
            if audience == S and security is None:
                audience = A
            author = authors[number % len(authors)]
            article = services.article_create(
                actor=author,
                fields=services.ArticleFields(
                    title=title,
                    body=_body(steps),
                    category=category,
                    tags=tags,
                    audience=audience,
                    teams=[security] if audience == S and security else [],
                    owner_team=security if audience == S else desk_team,
                ),
            )
            if number % 3 == 0:
                article = services.article_update(
                    actor=author,
                    article=article,
                    fields=services.ArticleFields(
                        title=title,
                        body=_body(steps, "Most people are done in five minutes."),
                        category=category,
                        tags=tags,
                        audience=audience,
                        teams=[security] if audience == S and security else [],
                        owner_team=article.owner_team,
                    ),
                )
            if number % 11 == 5:
                made += 1
                continue  # stays a draft
            services.article_submit(actor=author, article=article)
            if number % 13 == 7:
                services.article_review(
                    actor=lead,
                    article=article,
                    publish=False,
                    comment="Add a screenshot of the setting, please.",
                )
                made += 1
                continue
            article = services.article_review(actor=lead, article=article, publish=True)
            if title.endswith("(retired)"):
                services.article_archive(actor=lead, article=article)
            elif number % 9 == 4:
                # Overdue: its review date passed a while ago. The hourly sweep
                # tells the owner (the seed sends no mail).
                Article.objects.for_tenant(tenant).filter(pk=article.pk).update(
                    review_due=today - timedelta(days=10 + number),
                    last_reviewed_at=timezone.now() - timedelta(days=190 + number),
                    is_overdue=True,
                )
            stats = Article.objects.for_tenant(tenant).filter(pk=article.pk)
            stats.update(
                views=(number * 37) % 400 + 12,
                helpful_yes=(number * 7) % 40 + 2,
                helpful_no=(number * 3) % 9,
                deflections=(number * 5) % 30,
            )
            words = {t.lower() for t in tags}
            for ticket in [t for t in tickets if words & set(t.title.lower().split())][:3]:
                services.article_link(actor=author, article=article, ticket=ticket)
            made += 1
    return made
