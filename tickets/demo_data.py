"""Demo tickets: a desk that looks lived in.

``seed_tickets(tenant, count=300)`` files a few hundred incidents, requests,
problems and changes over the last ninety days -- conversations between
requesters and agents, internal notes, files, escalations, priority
overrides, watchers, problems with their incidents, changes, merged
duplicates and confidential security incidents -- as the tenant's own people.

Every write goes through ``tickets.services`` (with ``now=`` set to the
moment in the past it happened), with notifications muted so nobody is
mailed about history. The story is drawn from one ``random.Random`` seeded
with the tenant's slug, so a seed is the same every time; a tenant that has
tickets already is left alone.
"""

from __future__ import annotations

import bisect
import heapq
import random
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from servicedesk.models import Membership, Role, Team, Tenant
from servicedesk.registry import DemoSeed
from servicedesk.rls import tenant_context
from tickets import services
from tickets.models import (
    Category,
    Level,
    Priority,
    ResolutionCode,
    Source,
    Status,
    Ticket,
    TicketKind,
)
from tickets.selectors import ticket_settings
from tickets.services import Actor

T = TypeVar("T")

DEFAULT_TICKETS = 300
HISTORY_DAYS = 90

# --- The corpus ------------------------------------------------------------------------------
#
# Placeholders, filled per ticket: {first} (the requester's first name), {site}, {floor},
# {room}, {printer}, {server}, {fileserver}, {asset}, {share}, {newstarter}, {colleague},
# {day}, {n}, {ip}.

SERVICE_DESK = "service-desk"
PLATFORM = "platform"
NETWORK = "network"
SECURITY = "security"

HARDWARE = "Hardware"
SOFTWARE = "Software"
NETWORKING = "Network & VPN"
ACCESS = "Access & Identity"
MAIL = "E-mail & Collaboration"
PRINTING = "Printing & Scanning"
SERVERS = "Servers & Storage"
BUSINESS_APPS = "Business applications"
ONBOARDING = "Onboarding & Offboarding"
LICENSING = "Licensing"
SECURITY_CATEGORY = "Security"

CATEGORIES = (
    HARDWARE,
    SOFTWARE,
    NETWORKING,
    ACCESS,
    MAIL,
    PRINTING,
    SERVERS,
    BUSINESS_APPS,
    ONBOARDING,
    LICENSING,
    SECURITY_CATEGORY,
)

H, M, L = Level.HIGH, Level.MEDIUM, Level.LOW


def _md(text: str) -> str:
    return textwrap.dedent(text).strip()


@dataclass(frozen=True)
class Scenario:
    """One believable incident or request, with the conversation it usually has."""

    kind: str
    titles: tuple[str, ...]
    description: str
    category: str
    tags: tuple[str, ...]
    team: str = SERVICE_DESK
    impact: int = L
    urgency: int = M
    ask: str = ""  # the agent's first public reply
    answer: str = ""  # the requester's answer
    fix: str = ""  # the agent's public reply as they resolve
    note: str = ""  # an internal note
    resolution: str = ""
    code: str = ResolutionCode.SOLVED
    attachment: tuple[str, str] | None = None  # (file name, text) the requester sends
    evidence: tuple[str, str] | None = None  # (file name, text) an agent attaches internally
    outage: bool = False  # several people report it: where duplicates come from


INC, REQ = TicketKind.INCIDENT, TicketKind.REQUEST

SCENARIOS: tuple[Scenario, ...] = (
    # --- Network and VPN
    Scenario(
        INC,
        ("VPN drops every few minutes when working from home", "VPN keeps disconnecting"),
        _md("""
            Since this morning my VPN connection drops every 5–10 minutes. Teams calls freeze
            and I lose whatever I was typing in the ERP.

            - Home Wi-Fi, other devices are fine
            - Client shows **"Reconnecting…"** and then *"Connection lost (error 809)"*
            - Restarted the laptop twice already
            """),
        NETWORKING,
        ("vpn", "remote-work"),
        team=NETWORK,
        impact=L,
        urgency=H,
        ask="Hi {first}, sorry about that. Could you send us the VPN client log? In the client: "
        "*Settings → Diagnostics → Export log*. Also: are you on 5 GHz or 2.4 GHz at home?",
        answer="Log attached. I'm on 5 GHz, router is from my provider. It dropped again twice "
        "while I was exporting it.",
        fix="Thanks {first}. Your client was still on 9.17, which has a known keep-alive bug. "
        "I pushed 9.18.3 to your laptop — after a restart it should hold. Let us know if it "
        "drops again.",
        note="Log shows DPD timeouts every ~300 s, matches the keep-alive bug in 9.17. "
        "Pushed 9.18.3 via Intune.",
        resolution="Upgraded the VPN client from 9.17 to 9.18.3 (keep-alive fix).",
        attachment=(
            "vpn-client.log",
            "2024-05-14 08:02:11 INFO  tunnel up, gateway vpn-gw2, cipher AES-256-GCM\n"
            "2024-05-14 08:07:13 WARN  DPD: no response from peer (1/3)\n"
            "2024-05-14 08:07:43 WARN  DPD: no response from peer (2/3)\n"
            "2024-05-14 08:08:13 ERROR DPD: peer dead, tearing down tunnel\n"
            "2024-05-14 08:08:14 INFO  reconnecting (attempt 1)\n"
            "2024-05-14 08:08:19 ERROR connection lost (809)\n",
        ),
    ),
    Scenario(
        INC,
        ('VPN: "certificate has expired" when connecting', "Can't connect to VPN since Monday"),
        "The VPN client says *The certificate presented by the server has expired* and won't "
        "connect. Colleagues in the office say it works for them.",
        NETWORKING,
        ("vpn", "certificate"),
        team=NETWORK,
        impact=L,
        urgency=H,
        ask="Hi {first}, this is usually the machine certificate on your laptop, not the server. "
        "Could you connect to the office network once (or the guest Wi-Fi plus a cable at "
        "your desk) so the laptop can renew it?",
        answer="I was in {site} today and plugged in at my desk for an hour. Still the same error "
        "at home.",
        fix="Found it: the auto-enrolment task was disabled on your laptop. I re-enabled it and "
        "renewed the certificate remotely — please try again.",
        note="Cert template LaptopAuth expired 3 days ago on {asset}; auto-enrol scheduled task "
        "disabled (old GPO leftover). Renewed manually with certreq.",
        resolution="Renewed the laptop's machine certificate and re-enabled auto-enrolment.",
    ),
    Scenario(
        INC,
        ("Wi-Fi keeps dropping on floor {floor} in {site}", "No Wi-Fi in the {site} office"),
        "The office Wi-Fi on floor {floor} drops out every few minutes. Several of us are "
        "affected, Teams calls are impossible. Cable is fine.",
        NETWORKING,
        ("wifi", "outage"),
        team=NETWORK,
        impact=M,
        urgency=H,
        ask="Thanks for reporting — we see two access points on floor {floor} rebooting. "
        "Someone from the network team is looking at it now.",
        answer="It's better since lunch but still drops now and then in the meeting rooms.",
        fix="The access points on floor {floor} are on new firmware now and have been stable "
        "for a day. Please tell us if you still see drops.",
        note="AP-{floor}-03 and AP-{floor}-05 crash-looping (watchdog reset). Same firmware bug "
        "as last month. Upgraded both, monitoring.",
        resolution="Upgraded the firmware of the floor's access points; stable since.",
        outage=True,
    ),
    Scenario(
        INC,
        ("Guest Wi-Fi vouchers don't work", "Visitors can't get on the guest Wi-Fi"),
        "We have customers in meeting room {room} today and the guest Wi-Fi vouchers from "
        'reception are rejected ("invalid code").',
        NETWORKING,
        ("wifi", "guest"),
        team=NETWORK,
        impact=L,
        urgency=H,
        fix="The voucher printer at reception had the wrong date after a power cut, so every "
        "voucher was already expired. Fixed the clock and printed a fresh batch.",
        resolution="Reception voucher printer had a wrong clock; corrected and reprinted vouchers.",
    ),
    Scenario(
        INC,
        ("Internal sites don't resolve from the {site} office", "DNS problems in {site}"),
        "From the {site} office, intranet and ERP don't load (*DNS_PROBE_FINISHED_NXDOMAIN*). "
        "Public websites work.",
        NETWORKING,
        ("dns", "outage"),
        team=NETWORK,
        impact=H,
        urgency=H,
        ask="Thanks {first}. Can you run `nslookup intranet` and paste the output here?",
        answer=_md("""
            Here you go:

            ```
            Server:  UnKnown
            Address:  {ip}

            *** UnKnown can't find intranet: Non-existent domain
            ```
            """),
        fix="The branch router handed out the ISP's DNS server after last night's maintenance. "
        "Corrected the DHCP options; a reconnect (or `ipconfig /renew`) fixes it.",
        note="DHCP scope option 6 on the {site} router reverted to ISP resolvers after the "
        "firmware upgrade. Fixed and saved to startup config.",
        resolution="Restored the DHCP DNS option on the branch router.",
        outage=True,
    ),
    # --- Mail and collaboration
    Scenario(
        INC,
        ('Outlook stuck on "Updating inbox"', "Outlook not syncing new e-mails"),
        "Outlook hasn't shown new mail since yesterday afternoon. The status bar says "
        "*Updating this folder* forever. Webmail shows the new mails fine.",
        MAIL,
        ("email", "outlook"),
        impact=L,
        urgency=M,
        ask="Hi {first}, could you close Outlook, then start it with `outlook.exe /resetnavpane` "
        "from the Run dialog (Win+R)? If that doesn't help we'll rebuild your profile.",
        answer="Tried it, no change. Still stuck.",
        fix="I rebuilt your Outlook profile remotely; the offline cache is re-downloading now, "
        "so give it 30 minutes for older folders. New mail is coming in again.",
        note="OST at 48 GB, corrupt header. Renamed OST, new profile. Office build "
        "2405 — see the Office update problem.",
        resolution="Rebuilt the Outlook profile and OST cache.",
    ),
    Scenario(
        INC,
        ("Outlook keeps asking for my password", "Password prompt in Outlook every few minutes"),
        "Outlook pops up a password window every few minutes. I type my password and it "
        "comes back. Changed my password on Monday.",
        MAIL,
        ("email", "outlook", "password"),
        ask="Thanks {first}. Please open *Credential Manager*, remove every entry starting with "
        "`MicrosoftOffice`, and restart Outlook. Does the prompt come back?",
        answer="That did it, no prompts since. Thank you!",
        fix="Great, closing this then. Old cached credentials after a password change are the "
        "usual culprit.",
        resolution="Removed stale cached Office credentials after a password change.",
        code=ResolutionCode.USER_ERROR,
    ),
    Scenario(
        INC,
        ("Shared mailbox disappeared from Outlook", "Can't see the team mailbox any more"),
        "The shared mailbox *{site} Office* vanished from my Outlook folder list today. I still "
        "need to answer the customer mails in there.",
        MAIL,
        ("email", "shared-mailbox", "access"),
        ask="Hi {first}, can you still open it in webmail (*Open another mailbox*)?",
        answer="Yes, webmail works.",
        fix="Your permissions were intact, but auto-mapping had been switched off during a "
        "clean-up. I re-added the mapping; restart Outlook and it will show up again.",
        resolution="Re-enabled auto-mapping for the shared mailbox.",
    ),
    Scenario(
        INC,
        ("Teams calls drop after a few minutes", "Bad audio and dropped Teams calls"),
        "Teams calls with customers freeze and drop after 2–3 minutes, both in the office and "
        "at home. Chat works.",
        MAIL,
        ("teams", "outage"),
        impact=M,
        urgency=H,
        ask="Could you send us the call ID of the last dropped call (*Settings → Help → Call "
        "health*)? And which network were you on?",
        answer="Office Wi-Fi on floor {floor}. I don't see the call ID any more, sorry. It "
        "happened again at 14:10.",
        fix="We found the firewall was blocking Teams' media ports on the office network. That's "
        "fixed now; calls should be stable.",
        note="Call analytics: media via TCP fallback, relay on 3478 UDP blocked since the "
        "firewall policy change. Network team is on it.",
        resolution="Opened UDP 3478–3481 to the Teams media relays on the office firewall.",
        outage=True,
    ),
    Scenario(
        INC,
        ("Meeting room {room}: screen doesn't show the Teams meeting",),
        "The Teams room panel in {room} says *Offline* and the big screen stays black. We have "
        "a board meeting there at 10:00.",
        HARDWARE,
        ("meeting-room", "teams"),
        impact=M,
        urgency=H,
        fix="The room PC had installed updates and was waiting at a login screen. Restarted it "
        "and checked a test call; the room works again.",
        resolution="Restarted the Teams room PC after a stuck update.",
    ),
    Scenario(
        INC,
        ("Room bookings are not accepted", "Meeting room invitations get no answer"),
        "When I book meeting room {room} in Outlook, the room never accepts or declines. "
        "Last week it worked.",
        MAIL,
        ("email", "calendar", "meeting-room"),
        fix="The room's booking policy had lost its delegate after a colleague left. Restored "
        "automatic processing; your pending invitations have been accepted.",
        resolution="Restored automatic booking processing on the room mailbox.",
    ),
    Scenario(
        INC,
        ("Company e-mail stopped on my iPhone",),
        "Since the iOS update on the weekend, the Outlook app on my phone says *Your "
        "organization's data cannot be pasted here* and then no mail loads at all.",
        MAIL,
        ("mobile", "email"),
        ask="Hi {first}, could you open the Company Portal app and tell us what it shows for your "
        "device (compliant / not compliant)?",
        answer='It says not compliant – "OS version not allowed".',
        fix="Our compliance policy didn't know the new iOS version yet. I've updated it; open the "
        "Company Portal and tap *Check status*, then Outlook works again.",
        resolution="Added the new iOS version to the compliance policy.",
    ),
    Scenario(
        INC,
        ("OneDrive shows sync conflicts on every file", "OneDrive not syncing"),
        "OneDrive has a red cross and says *{n} sync problems*. It creates copies like "
        "`Budget-{first}-LAPTOP.xlsx` for every file I open.",
        SOFTWARE,
        ("onedrive",),
        ask="Could you check the OneDrive version (*Settings → About*) and send a screenshot of "
        "the sync problems list?",
        answer="Version 23.0 something. Screenshot is a bit hard, the list has file names of a "
        "confidential project. The files are all in the *Projects* library.",
        fix="Thanks. The library had a required column added, which OneDrive can't fill in, so "
        "every save conflicted. The site owner made it optional; I reset your sync client.",
        resolution="Library had a new required column; made optional, sync client reset.",
    ),
    # --- Hardware
    Scenario(
        INC,
        ("Laptop asks for a BitLocker recovery key", "BitLocker recovery screen after update"),
        "My laptop ({asset}) shows a blue BitLocker screen asking for a 48-digit recovery key. "
        "I don't have one. I'm at home and can't work.",
        HARDWARE,
        ("laptop", "bitlocker"),
        impact=L,
        urgency=H,
        fix="Called {first} and read out the recovery key after verifying identity. Laptop "
        "booted. A firmware update had reset the TPM measurements.",
        note="Identity verified via callback to the number in HR system. Key for {asset} "
        "retrieved from Entra ID.",
        resolution="Recovery key provided after identity check; firmware update had tripped "
        "BitLocker.",
    ),
    Scenario(
        INC,
        ("Laptop extremely slow since the last update", "Laptop slow, fan always on"),
        "Since Tuesday my laptop takes 10 minutes to start and Excel freezes constantly. The "
        "fan is loud the whole time.",
        HARDWARE,
        ("laptop", "performance"),
        ask="Hi {first}, could you open Task Manager (Ctrl+Shift+Esc) and tell us which process "
        "is at the top of the CPU column?",
        answer="It's *Antimalware Service Executable* at 60–90 %.",
        fix="The antivirus was scanning a huge export folder on your desktop over and over. I "
        "moved the folder to your OneDrive and the scan settled. Your laptop should be fast "
        "again.",
        note="Defender full scan looping over 400k small CSVs in Desktop\\exports. Moved to "
        "OneDrive (not synced locally).",
        resolution="Antivirus rescanning a large export folder; moved it, performance normal.",
    ),
    Scenario(
        INC,
        ("Blue screen when I connect the docking station",),
        "Every time I plug my laptop into the dock at my desk in {site} it crashes with a blue "
        "screen (*DRIVER_IRQL_NOT_LESS_OR_EQUAL*).",
        HARDWARE,
        ("laptop", "docking-station"),
        urgency=M,
        ask="Which dock is it — the black USB-C one or the older grey one?",
        answer="The grey one with the round power plug.",
        fix="The old grey docks need a display-link driver that doesn't work with the current "
        "build. I've left a new USB-C dock on your desk; the old one is going back to stores.",
        resolution="Replaced the legacy dock with a USB-C dock.",
        code=ResolutionCode.WORKAROUND,
    ),
    Scenario(
        INC,
        ("Second monitor not detected", "External screen stays black"),
        "My second monitor in {room} stays black. It says *No signal*. I tried the other cable.",
        HARDWARE,
        ("monitor",),
        fix="Swapped the monitor for a spare — the old one's HDMI port was broken. Should be "
        "working now.",
        resolution="Monitor with a broken input replaced.",
    ),
    Scenario(
        INC,
        ("Laptop battery not charging", "Laptop battery bulging"),
        "My laptop battery stays at 0 % and the laptop dies as soon as I unplug it. The "
        "touchpad is also lifting a bit.",
        HARDWARE,
        ("laptop", "battery"),
        impact=L,
        urgency=H,
        ask="Please stop using the laptop on battery and don't leave it charging unattended — a "
        "lifting touchpad can mean a swollen battery. Can you bring it to the IT desk in "
        "{site} today? We'll give you a loaner.",
        answer="Dropped it off at the IT desk, thanks for the loaner.",
        fix="Battery was swollen; the vendor replaced it under warranty. Your laptop is ready for "
        "pickup at the IT desk.",
        resolution="Swollen battery replaced under warranty.",
    ),
    Scenario(
        INC,
        ("Webcam not working in Teams",),
        "In Teams my camera shows a black picture. The little light is off. It worked yesterday.",
        HARDWARE,
        ("webcam", "teams"),
        answer="Found it — there's a tiny slider over the camera. Sorry!",
        fix="No problem at all, happens to everyone. Closing.",
        resolution="Privacy shutter was closed.",
        code=ResolutionCode.USER_ERROR,
    ),
    # --- Printing
    Scenario(
        INC,
        ("Printer {printer} jams on every job", "{printer} paper jam", "{printer} offline"),
        "Printer {printer} on floor {floor} jams on every print job and shows *Error 13.A2*. "
        "There's a queue of people waiting.",
        PRINTING,
        ("printer",),
        urgency=M,
        ask="Thanks {first}. We've called the vendor. In the meantime please use the printer "
        "next to the kitchen on the same floor.",
        fix="The vendor replaced the fuser unit. {printer} is back in service.",
        note="Vendor ticket opened, SLA next business day. Fuser at 180k pages.",
        resolution="Vendor replaced the fuser unit.",
        outage=True,
    ),
    Scenario(
        INC,
        ("Can't print to Secure Print from my Mac",),
        "From my MacBook, jobs to *SecurePrint* show as sent but never appear at the printer "
        "when I badge in.",
        PRINTING,
        ("printer", "mac"),
        ask="Which macOS version are you on? And did you add the printer through Self Service "
        "or by hand?",
        answer="macOS 14, I added it by hand with the IP address.",
        fix="Added by IP, jobs go past the print server and never get released. Please remove "
        "that printer and install *SecurePrint* from Self Service — I've checked your account "
        "has the right to.",
        resolution="Printer was added directly by IP; reinstalled via Self Service.",
        code=ResolutionCode.USER_ERROR,
    ),
    Scenario(
        INC,
        ("Scan to e-mail doesn't arrive",),
        "Scanning to e-mail on {printer} says *sent*, but nothing arrives in my inbox, not even "
        "in junk.",
        PRINTING,
        ("scanner", "email"),
        fix="The scanner's SMTP password had expired. Replaced it with an app-specific relay "
        "connector; scans arrive again.",
        note="Scanner used a service account with basic auth; moved to the SMTP relay connector "
        "restricted by IP.",
        resolution="Scanner moved to the SMTP relay connector.",
    ),
    # --- Access and identity
    Scenario(
        INC,
        ("New phone – can't approve MFA sign-ins", "MFA reset needed after phone change"),
        "I got a new phone and the Authenticator app on it has no accounts. My old phone is "
        "already reset, so I can't sign in to anything.",
        ACCESS,
        ("mfa", "access"),
        impact=L,
        urgency=H,
        ask="Hi {first}, we'll need to verify it's you before resetting MFA. We'll call you on the "
        "number in the HR system in the next few minutes.",
        answer="Got the call, thanks.",
        fix="MFA methods reset after the call-back check. Sign in at aka.ms/mfasetup and register "
        "the new phone; the temporary access pass is valid for 8 hours.",
        note="Identity verified via call-back. Issued TAP, 8 h lifetime.",
        resolution="MFA reset and temporary access pass issued after identity check.",
    ),
    Scenario(
        INC,
        ("Account locked out", "Locked out after password change"),
        "My account keeps getting locked, even right after the desk unlocks it. I changed my "
        "password last week.",
        ACCESS,
        ("password", "access"),
        urgency=H,
        ask="Lockouts after a change are almost always an old password saved somewhere. Do you "
        "have company mail on a phone or tablet, or a mapped drive with saved credentials?",
        answer="My old iPad still has my mail on it, I hadn't thought about that.",
        fix="That's the one — the lockout source is the iPad. Please update the password there "
        "(or remove the account). I've unlocked you again.",
        note="Lockout source in DC logs: ActiveSync from an iPad, 20 bad attempts/min.",
        resolution="Old password saved on a tablet caused lockouts; requester updated it.",
        code=ResolutionCode.USER_ERROR,
    ),
    Scenario(
        INC,
        ("HR portal: endless login loop", "Can't log in to the HR portal (SSO)"),
        "When I open the HR portal it redirects to the login page, then back, then login again, "
        "forever. I need to approve my team's holidays today.",
        ACCESS,
        ("sso", "access"),
        team=PLATFORM,
        urgency=H,
        ask="Which browser do you use? Does it work in a private window or in Edge?",
        answer="Safari. In Edge it works!",
        fix="Safari blocks the portal's SSO cookie. Please use Edge for the HR portal for now; "
        "we're fixing the cookie settings with the vendor.",
        resolution="Workaround: use Edge; SSO cookie fix tracked in a problem.",
        code=ResolutionCode.WORKAROUND,
    ),
    # --- Servers, storage, apps
    Scenario(
        INC,
        ("Shared drive {share} not reachable", "Can't open files on {share}"),
        "Nobody in our team can open {share} since about 9:00 — Explorer says *The network path "
        "was not found*.",
        SERVERS,
        ("shared-drive", "outage"),
        team=PLATFORM,
        impact=H,
        urgency=H,
        ask="Thanks for the quick report. We see the file server {fileserver} isn't answering — "
        "we're on it and will update here.",
        fix="{fileserver} is back. The nightly snapshot had hung and held the SMB sessions. All "
        "shares are reachable again; please reopen your files.",
        note="{fileserver}: SMB service hung during VSS snapshot, 100% disk queue. Restarted "
        "LanmanServer after the snapshot job was killed.",
        resolution="File server restarted after a hung snapshot; shares reachable again.",
        outage=True,
        evidence=(
            "smb-sessions.txt",
            "PS> Get-SmbSession | Measure-Object\nCount : 0\n\n"
            "PS> Get-Service LanmanServer\nStatus   Name          DisplayName\n"
            "------   ----          -----------\nStopPending LanmanServer Server\n\n"
            "PS> vssadmin list writers | Select-String State\n"
            "   State: [5] Waiting for completion\n",
        ),
    ),
    Scenario(
        INC,
        ("Disk almost full on {server}", "[Monitoring] /var on {server} at 95%"),
        _md("""
            Monitoring alert forwarded:

            > **FIRING** disk usage `/var` on `{server}` above 95 % for 15 minutes

            The app on that server is the order import; if it fills up, imports stop.
            """),
        SERVERS,
        ("disk-space", "monitoring"),
        team=PLATFORM,
        impact=M,
        urgency=H,
        note="`du` says /var/log/app is 38 GB — logrotate isn't configured for the new app "
        "logs. Compressed and pruned the old logs manually.",
        fix="Freed 35 GB on {server} by pruning old application logs; usage is at 41 %. A "
        "permanent fix for log rotation is tracked separately.",
        resolution="Old application logs pruned; rotation to be fixed permanently.",
        code=ResolutionCode.WORKAROUND,
        evidence=(
            "df-h.txt",
            "Filesystem      Size  Used Avail Use% Mounted on\n"
            "/dev/sda1        20G  7.1G   12G  38% /\n"
            "/dev/sdb1        50G   48G  2.1G  96% /var\n"
            "tmpfs           3.9G     0  3.9G   0% /dev/shm\n\n"
            "# du -sh /var/log/* | sort -h | tail -3\n"
            "1.2G    /var/log/journal\n2.9G    /var/log/nginx\n 38G    /var/log/app\n",
        ),
    ),
    Scenario(
        INC,
        ("Payroll app very slow", "Payroll: timeouts when opening employee records"),
        "The payroll application takes over a minute to open an employee record and often "
        "ends with *Gateway timeout*. We have to finish the payroll run by {day}.",
        BUSINESS_APPS,
        ("payroll", "performance"),
        team=PLATFORM,
        impact=M,
        urgency=H,
        ask="Hi {first}, thanks — is it slow for everything, or mostly when opening records and "
        "running reports?",
        answer="Mostly opening records and the *Run preview* report. Search is fine.",
        fix="The database server was short on memory during the month-end load. We added memory "
        "and rebuilt two indexes; opening a record takes about 2 seconds now.",
        note="Payroll DB buffer cache hit ratio 71 %, PAGEIOLATCH waits. Index fragmentation 89 % "
        "on PayrollRunLine.",
        resolution="Added DB memory and rebuilt fragmented indexes.",
    ),
    Scenario(
        INC,
        ("CRM: error 500 when saving an opportunity",),
        "When I save an opportunity in the CRM with more than 10 products I get *500 Internal "
        "Server Error*. Smaller ones save fine.",
        BUSINESS_APPS,
        ("crm",),
        team=PLATFORM,
        ask="Could you tell us the opportunity number and roughly when you last tried?",
        answer="OPP-{n}418, just now at about 11:20.",
        fix="A field length limit on the product notes caused the error. The vendor patch is "
        "installed; please try saving again.",
        note="Stack trace: value too long for type character varying(255) on line_notes. "
        "Vendor hotfix 7.3.2 applied in test, then prod.",
        resolution="Vendor hotfix for the notes field length installed.",
        evidence=(
            "crm-error.txt",
            "ERROR 2024-06-03 11:20:14,882 [http-nio-8443-exec-7] o.crm.web.ErrorHandler\n"
            "org.postgresql.util.PSQLException: ERROR: value too long for type character "
            "varying(255)\n  Where: column line_notes of relation opportunity_line\n"
            "    at org.crm.sales.OpportunityService.save(OpportunityService.java:412)\n",
        ),
    ),
    Scenario(
        INC,
        ("Intranet is down", 'Intranet shows "Service unavailable"'),
        "The intranet shows *503 Service Unavailable* for everyone on our floor.",
        SERVERS,
        ("intranet", "outage"),
        team=PLATFORM,
        impact=H,
        urgency=M,
        ask="Thanks — we can see it too and are working on it.",
        fix="The intranet is back. An expired certificate on the backend stopped the proxy from "
        "connecting; it has been renewed.",
        note="Backend TLS cert expired at 00:00 UTC, proxy health checks failed. Renewed via "
        "ACME; adding expiry monitoring.",
        resolution="Renewed the expired backend certificate.",
        outage=True,
        evidence=(
            "proxy-health.log",
            "[error] upstream SSL certificate verify error: (10:certificate has expired) while "
            'SSL handshaking to upstream, upstream: "https://{server}:8443/health"\n'
            "[warn] upstream server temporarily disabled while SSL handshaking to upstream\n"
            '[error] no live upstreams while connecting to upstream "intranet_backend"\n',
        ),
    ),
    Scenario(
        INC,
        ("Backup job failed on {server}", "[Monitoring] Nightly backup of {server} failed"),
        "The nightly backup report shows *Failed* for {server} two nights in a row.",
        SERVERS,
        ("backup", "monitoring"),
        team=PLATFORM,
        impact=M,
        urgency=M,
        note="Backup agent can't quiesce the VM: VSS writer for SQL in failed state. "
        "Restarted SQL writer; re-running job.",
        fix="Re-ran the backup successfully and verified a test restore of one database.",
        resolution="Restarted the failed VSS writer; backup and test restore succeeded.",
        evidence=(
            "backup-job.log",
            "[02:00:03] Job 'Nightly-{server}' started\n"
            "[02:00:41] Creating VM snapshot\n"
            "[02:05:41] ERROR Failed to quiesce: VSS writer 'SqlServerWriter' state "
            "[8] Failed\n[02:05:42] Retrying without application-aware processing: disabled\n"
            "[02:05:42] Job finished: Failed\n",
        ),
    ),
    Scenario(
        INC,
        ('ERP: invoice postings stuck in "Pending"',),
        "Invoices we post in the ERP stay in status *Pending* since this morning, about {n}0 of "
        "them. Month-end is {day}.",
        BUSINESS_APPS,
        ("erp",),
        team=PLATFORM,
        impact=M,
        urgency=H,
        fix="The posting job queue was stopped after last night's restart. Started it again; "
        "the backlog has been processed.",
        note="Job queue entry 'Post batches' status On Hold since restart at 02:00. Set to "
        "Ready; backlog cleared in 4 minutes.",
        resolution="Restarted the ERP posting job queue.",
    ),
    Scenario(
        INC,
        ("Can't submit my timesheet", 'Timesheet app: "approval route not found"'),
        "Submitting this week's timesheet fails with *Approval route not found*.",
        BUSINESS_APPS,
        ("timesheet",),
        team=PLATFORM,
        ask="Did your manager change recently?",
        answer="Yes, I moved to {colleague}'s team two weeks ago.",
        fix="Your new manager wasn't set in the timesheet app yet. Updated; please submit again.",
        resolution="Manager updated in the timesheet app after a team move.",
    ),
    Scenario(
        INC,
        ("Excel crashes when opening a large workbook",),
        "Excel closes without a message when I open the quarterly forecast workbook (about "
        "80 MB). Colleagues can open it.",
        SOFTWARE,
        ("excel", "office"),
        ask="Are you on 32-bit or 64-bit Office? (*File → Account → About Excel*)",
        answer="It says 32-bit.",
        fix="32-bit Excel runs out of memory with files that size. I've switched you to 64-bit "
        "Office — your settings are kept.",
        resolution="Replaced 32-bit Office with 64-bit.",
    ),
    # --- Security (not confidential)
    Scenario(
        INC,
        ('Phishing e-mail: "Your mailbox is full"', "Suspicious e-mail about a DHL parcel"),
        "I got the attached e-mail. It looks like phishing, I didn't click anything. A few "
        "colleagues got it too.",
        SECURITY_CATEGORY,
        ("phishing", "email"),
        team=SECURITY,
        impact=M,
        urgency=M,
        fix="Thanks for reporting, {first} — it was phishing. We removed the message from all "
        "mailboxes and blocked the sender domain. Nobody needs to do anything.",
        note="Purged via content search ({n}4 mailboxes). Sender domain and URL blocked. No "
        "clicks in the proxy logs.",
        resolution="Phishing campaign purged from mailboxes; sender and URL blocked.",
        attachment=(
            "suspicious-message.eml",
            'From: "IT Helpdesk" <support@mail-quota-check.example>\n'
            "Subject: Your mailbox is 99% full\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "Your mailbox will stop receiving messages in 24 hours.\n"
            "Click here to increase your quota: http://mail-quota-check.example/login\n",
        ),
    ),
    Scenario(
        INC,
        ("MFA prompt I didn't request", "Got an MFA push at night"),
        "At 23:40 yesterday I got an Authenticator push I did not start. I denied it. Should I "
        "worry?",
        SECURITY_CATEGORY,
        ("mfa", "security"),
        team=SECURITY,
        impact=M,
        urgency=H,
        ask="Thanks for denying it — that was the right thing to do. We've forced a password "
        "change on your account; please set a new one now.",
        answer="Done, new password set.",
        fix="The sign-in attempt came from abroad with your old password, which was in a "
        "leaked list from another website. With the new password and MFA you're safe.",
        note="Sign-in logs: failed MFA from a foreign IP, password correct. Revoked sessions, "
        "forced reset. Password found in a public breach corpus.",
        resolution="Leaked password reset, sessions revoked; MFA blocked the attempt.",
    ),
    # --- Requests: onboarding and offboarding
    Scenario(
        REQ,
        ("New starter: laptop and accounts for {newstarter}", "Onboarding {newstarter}"),
        _md("""
            **{newstarter}** starts in our team on **{day}** in {site}.

            Please prepare:

            1. Laptop (standard build) and a headset
            2. Accounts: e-mail, Teams, ERP (read-only)
            3. Access to {share}
            4. Add to the distribution list *{site} – all staff*

            Manager: {first}
            """),
        ONBOARDING,
        ("onboarding", "laptop", "access"),
        impact=L,
        urgency=M,
        ask="Hi {first}, thanks for the notice. Does {newstarter} need any software beyond the "
        "standard build?",
        answer="Just Visio, please. And a second monitor if there's one spare.",
        fix="All set for {newstarter}: laptop {asset} with Visio, headset and monitor are on the "
        "desk, and the account details are with you in a separate e-mail.",
        note="Account created, licences assigned (E3 + Visio). Laptop {asset} imaged and enrolled.",
        resolution="Laptop, accounts, access and equipment prepared.",
    ),
    Scenario(
        REQ,
        ("Leaver: {colleague}'s last day is {day}", "Offboarding {colleague}"),
        "{colleague} leaves us on {day}. Please disable the accounts after 17:00 and forward "
        "their mail to me for 30 days. The laptop will be returned to the IT desk.",
        ONBOARDING,
        ("offboarding", "access"),
        urgency=M,
        fix="Accounts disabled after 17:00 on the last day, mail forwarded to you for 30 days, "
        "laptop received and queued for wiping.",
        note="Disabled in AD/Entra, removed from groups, mailbox converted to shared with "
        "forwarding. Laptop {asset} wiped and returned to stock.",
        resolution="Leaver process completed.",
    ),
    Scenario(
        REQ,
        ("Laptop for our intern", "Loan laptop for a 3-month internship"),
        "Our intern starts on {day} for three months. Can we get a loan laptop and a guest "
        "account?",
        ONBOARDING,
        ("onboarding", "laptop"),
        fix="Loan laptop {asset} is ready at the IT desk in {site}, account expires automatically "
        "after three months.",
        resolution="Loan laptop and time-limited account prepared.",
    ),
    # --- Requests: access
    Scenario(
        REQ,
        ("Access to {share}", "Please give me write access to {share}"),
        "I've joined the controlling team and need write access to {share}. My manager is "
        "{colleague}.",
        ACCESS,
        ("access", "shared-drive"),
        ask="We'll need an OK from the folder owner. I've asked {colleague} to approve here.",
        answer="{colleague} approved by e-mail this morning (forwarded to the service desk "
        "mailbox).",
        fix="Approval received — you now have write access to {share}. You may need to sign out "
        "and in again.",
        note="Added to group FS-Controlling-RW. Approval mail attached to the approval log.",
        resolution="Added to the folder's write group after owner approval.",
    ),
    Scenario(
        REQ,
        ("Add me to the {site} all-staff distribution list",),
        "Please add me to the *{site} – all staff* distribution list; I moved to {site} this "
        "month.",
        MAIL,
        ("email", "access"),
        fix="Done — you're on the list.",
        resolution="Added to the distribution list.",
    ),
    Scenario(
        REQ,
        ("VPN access for an external contractor",),
        "We have an external developer working with us until the end of the quarter. They "
        "need VPN access to the test environment only.",
        NETWORKING,
        ("vpn", "access", "contractor"),
        team=NETWORK,
        ask="Please send us the contractor's full name, company and the end date, and confirm "
        "you're their sponsor.",
        answer="Name and company are in the attached form, end date is the 30th, and yes, I'm "
        "the sponsor.",
        fix="The contractor account is created with VPN access restricted to the test network. "
        "It expires automatically on the end date.",
        resolution="Time-limited contractor account with restricted VPN profile.",
        attachment=(
            "contractor-access-form.txt",
            "External access request\n\nName: Alex Morgan\nCompany: Northwind Consulting\n"
            "Access: VPN, test environment only\nEnd date: 30th of this quarter's last month\n"
            "Sponsor: {first}\n",
        ),
    ),
    Scenario(
        REQ,
        ("Local admin rights to install software",),
        "I need admin rights on my laptop to install tools for data analysis.",
        ACCESS,
        ("access", "software"),
        ask="Which tools exactly? Most are in Self Service and install without admin rights.",
        answer="R, RStudio and a couple of Python packages.",
        fix="We don't hand out permanent admin rights, but R and RStudio are now in Self "
        "Service for you, and Python packages install per user without admin rights.",
        resolution="Admin rights declined; software made available via Self Service.",
        code=ResolutionCode.WONT_FIX,
    ),
    Scenario(
        REQ,
        ("Access to the payroll app for our new HR colleague",),
        "{newstarter} joined HR and needs the *Payroll clerk* role in the payroll app.",
        BUSINESS_APPS,
        ("payroll", "access"),
        team=PLATFORM,
        ask="This role needs the HR director's approval. Could you ask them to reply here?",
        answer="Approval from the HR director is in the attached mail.",
        fix="{newstarter} has the Payroll clerk role now.",
        resolution="Role granted after approval.",
        attachment=(
            "approval.eml",
            "From: HR Director\nSubject: RE: Payroll clerk role for {newstarter}\n\n"
            "Approved — please grant the Payroll clerk role.\n",
        ),
    ),
    Scenario(
        REQ,
        ("Badge access to the server room in {site}",),
        "I'm taking over the on-site hardware checks in {site} and need badge access to the "
        "server room.",
        SECURITY_CATEGORY,
        ("access", "badge"),
        team=SECURITY,
        ask="Server room access needs a short safety briefing first. Are you free on {day}?",
        answer="Yes, {day} works.",
        fix="Briefing done, your badge opens the server room now. Access is reviewed every six "
        "months.",
        resolution="Badge access granted after briefing.",
    ),
    # --- Requests: software and licences
    Scenario(
        REQ,
        ("Adobe Acrobat Pro licence", "Need to edit PDFs – Acrobat licence"),
        "I need to edit and sign PDFs for contracts. Could I get an Acrobat Pro licence?",
        LICENSING,
        ("license", "software"),
        fix="Licence assigned — open Acrobat and sign in with your company account to activate "
        "Pro features.",
        resolution="Acrobat Pro licence assigned.",
    ),
    Scenario(
        REQ,
        ("Visio licence", "Visio for process diagrams"),
        "I need Visio to draw the process maps for the ISO audit.",
        LICENSING,
        ("license", "software"),
        fix="Visio is assigned to you and will appear in the Start menu within the hour.",
        resolution="Visio licence assigned and installed.",
    ),
    Scenario(
        REQ,
        ("Power BI Pro licence",),
        "I'd like to publish the sales dashboard to the team workspace. It says I need Power BI "
        "Pro.",
        LICENSING,
        ("license", "power-bi"),
        ask="Could your manager confirm the cost centre for the licence?",
        answer="Cost centre 4{n}10, {colleague} confirmed.",
        fix="Power BI Pro is assigned. You can publish now.",
        resolution="Power BI Pro licence assigned.",
    ),
    Scenario(
        REQ,
        ("Install Visual Studio Code and Git",),
        "Please install VS Code and Git on my laptop {asset}.",
        SOFTWARE,
        ("software",),
        fix="Both are in Self Service now — click *Install* and they're there in a minute.",
        resolution="Pointed to Self Service.",
        code=ResolutionCode.USER_ERROR,
    ),
    # --- Requests: mail and collaboration
    Scenario(
        REQ,
        ("Shared mailbox for the trade fair project",),
        "We need a shared mailbox *fair@* for the trade fair team (5 people, list below) until "
        "the end of the year.",
        MAIL,
        ("email", "shared-mailbox"),
        fix="The shared mailbox is created and the five of you have full access; it shows up in "
        "Outlook automatically.",
        resolution="Shared mailbox created with the listed members.",
    ),
    Scenario(
        REQ,
        ("Bigger mailbox, please", "Mailbox almost full"),
        "Outlook warns that my mailbox is almost full. I need to keep the project mails.",
        MAIL,
        ("email",),
        fix="Your online archive is enabled: mails older than two years move there "
        "automatically and stay searchable.",
        resolution="Online archive enabled.",
    ),
    Scenario(
        REQ,
        ("Out-of-office for a colleague on sick leave",),
        "{colleague} is on sick leave for two weeks. Could you set an out-of-office reply "
        "pointing to me?",
        MAIL,
        ("email",),
        ask="We need HR or the manager to OK this. Are you {colleague}'s manager?",
        answer="Yes, I am.",
        fix="The out-of-office reply is on until the date you gave, pointing to you.",
        resolution="Out-of-office set with manager approval.",
    ),
    Scenario(
        REQ,
        ("New Teams team for the ERP upgrade project",),
        "Please create a Teams team *ERP upgrade 2.0* with me and {colleague} as owners.",
        MAIL,
        ("teams",),
        fix="Team created with the two of you as owners; you can add members yourselves.",
        resolution="Teams team created.",
    ),
    # --- Requests: hardware
    Scenario(
        REQ,
        ("Second monitor for my desk", "Request for an external monitor"),
        "Could I get a second monitor for my desk in {room}? I work with large spreadsheets "
        "all day.",
        HARDWARE,
        ("monitor", "hardware"),
        fix='A 27" monitor and cable are on your desk in {room}.',
        resolution="Monitor delivered and set up.",
    ),
    Scenario(
        REQ,
        ("Replacement laptop charger",),
        "My laptop charger stopped working (the light doesn't come on). Model is the 65 W USB-C "
        "one.",
        HARDWARE,
        ("laptop", "hardware"),
        fix="A new charger is waiting for you at the IT desk in {site}.",
        resolution="Replacement charger issued.",
    ),
    Scenario(
        REQ,
        ("Headset for calls",),
        "I'm doing a lot more customer calls now. Could I have a proper headset?",
        HARDWARE,
        ("headset", "hardware"),
        fix="Headset issued — pick it up at the IT desk.",
        resolution="Headset issued.",
    ),
    Scenario(
        REQ,
        ("New work phone", "Replacement phone – screen cracked"),
        "My work phone's screen is cracked and the touch doesn't work at the bottom.",
        HARDWARE,
        ("mobile", "hardware"),
        ask="Do you want the data moved over? Your contacts and mail sync anyway; WhatsApp "
        "chats would need a backup first.",
        answer="Only the standard stuff, thanks.",
        fix="Your new phone is enrolled and ready at the IT desk; please bring the old one.",
        resolution="Phone replaced and enrolled.",
    ),
    Scenario(
        REQ,
        ("Add printer {printer} to my laptop",),
        "Could you add printer {printer} on floor {floor} to my laptop? It doesn't show up.",
        PRINTING,
        ("printer",),
        fix="It's in Self Service under *Printers → Floor {floor}*; I installed it remotely for "
        "you as well.",
        resolution="Printer installed remotely.",
    ),
    # --- Requests: network and platform
    Scenario(
        REQ,
        ("Network port in room {room} doesn't work", "Patch a network socket in {room}"),
        "We moved desks. The network socket under my new desk in {room} gives no connection.",
        NETWORKING,
        ("network-port",),
        team=NETWORK,
        fix="Socket {room}-{n} is patched to the office VLAN now.",
        resolution="Network socket patched.",
    ),
    Scenario(
        REQ,
        ("Firewall rule for a vendor's SFTP upload", "Vendor needs SFTP access to {server}"),
        "Our logistics vendor needs to upload files by SFTP to {server}. Their IP is {ip}.",
        NETWORKING,
        ("firewall", "vendor"),
        team=NETWORK,
        ask="Firewall changes go through change management. We've raised a change and will "
        "update you when it's scheduled.",
        answer="OK, thanks. They'd like to start on {day} if possible.",
        fix="The rule is live: {ip} can reach {server} on port 22. Please ask the vendor to test.",
        resolution="Firewall rule implemented via change.",
    ),
    Scenario(
        REQ,
        ("DNS name for the new reporting server",),
        "We have a new reporting server and would like the name `reports` to point to it.",
        NETWORKING,
        ("dns",),
        team=NETWORK,
        fix="`reports` now resolves to {server}; give it up to an hour to reach every office.",
        resolution="DNS record created.",
    ),
    Scenario(
        REQ,
        ("Restore a deleted folder on {share}", "Restore yesterday's version of a file"),
        "I accidentally deleted the folder *Q3 forecasts* on {share} yesterday afternoon. "
        "Can it be restored?",
        SERVERS,
        ("backup", "shared-drive"),
        team=PLATFORM,
        ask="Yes — which time should we restore from? We have snapshots every 4 hours.",
        answer="Yesterday at noon would be perfect.",
        fix="Restored *Q3 forecasts* from yesterday 12:00 into the same place. Nothing else was "
        "touched.",
        resolution="Folder restored from snapshot.",
    ),
)


@dataclass(frozen=True)
class ProblemScenario:
    """A problem behind recurring incidents (tagged ``topic``) and the change that fixes it."""

    topic: str
    title: str
    description: str
    category: str
    team: str
    analysis: str  # internal note while investigating
    workaround: str  # note when it becomes a known error
    resolution: str
    change_title: str
    change_description: str
    change_plan: str  # internal note on the change
    change_done: str  # resolution notes of the change
    impact: int = M
    urgency: int = M


PROBLEMS: tuple[ProblemScenario, ...] = (
    ProblemScenario(
        "vpn",
        "Recurring VPN disconnects for home workers on client 9.17",
        _md("""
            Since the rollout of VPN client **9.17** we get several incidents a day about
            tunnels dropping after 5–10 minutes.

            - Only home workers, only client 9.17
            - Logs show dead-peer-detection timeouts
            """),
        NETWORKING,
        NETWORK,
        "Reproduced in the lab: 9.17 stops sending keep-alives when the NIC goes into power "
        "saving. Vendor case opened.",
        "Workaround: disable NIC power saving, or install 9.18.3 from Self Service.",
        "Client 9.18.3 rolled out to all laptops; no new disconnect incidents for two weeks.",
        "Roll out VPN client 9.18.3 to all laptops",
        "Staged rollout of VPN client 9.18.3 (keep-alive fix): pilot group, then everyone.",
        "CAB approved. Pilot 50 laptops Tuesday, rest Thursday evening via Intune. Rollback: "
        "re-assign the 9.17 package.",
        "Rolled out to all managed laptops; 3 failed installs fixed manually.",
    ),
    ProblemScenario(
        "outlook",
        "Outlook stops syncing after the monthly Office update",
        "After each monthly Office update, a handful of users report Outlook stuck on "
        "*Updating inbox*. Rebuilding the profile fixes it every time.",
        MAIL,
        SERVICE_DESK,
        "All affected users have OST files over 40 GB and cached mode set to *All*. Build 2405 "
        "changed the OST format migration.",
        "Workaround: rebuild the profile with cached mode set to 12 months.",
        "Cached mode limited to 12 months by policy and Office pinned to the fixed build.",
        "Set Outlook cached mode to 12 months and pin Office build",
        "Policy change: Outlook cached mode 12 months; pin Office to the fixed Monthly "
        "Enterprise build.",
        "Policy staged in the pilot ring first. Users won't notice except older mail loading "
        "from the server.",
        "Policy applied to all users; no new sync incidents after the following update.",
    ),
    ProblemScenario(
        "printer",
        "Print spooler on the print server crashes under load",
        "The print spooler on the print server crashes a few times a week around 9:00 and "
        "13:00; every floor loses printing for 10–15 minutes.",
        PRINTING,
        PLATFORM,
        "Crash dumps point to the driver of the old floor printers (type 3 driver loaded in "
        "the spooler process).",
        "Workaround: scheduled spooler restart at 06:00, driver isolation set to *isolated*.",
        "Old drivers removed, queues moved to the new print server with type 4 drivers.",
        "Move print queues to the new print server",
        "Migrate all floor print queues to the new print server with type 4 drivers.",
        "Queues migrate floor by floor over lunch; Self Service package updated first.",
        "All queues migrated; old print server decommissioned.",
    ),
    ProblemScenario(
        "payroll",
        "Payroll app slows down at every month end",
        "Every month end the payroll app gets very slow (record open > 60 s) and times out.",
        BUSINESS_APPS,
        PLATFORM,
        "Month-end batch and interactive users compete for a 16 GB buffer pool; the run-line "
        "table has no index on period + employee.",
        "Workaround: run the preview batch outside office hours.",
        "Index added and memory raised; month-end run finished without complaints.",
        "Add payroll index and raise database memory",
        "Add composite index on PayrollRunLine(period, employee) and raise DB memory to 48 GB.",
        "Index built online in test: 4 minutes. Memory change needs a restart — Saturday window.",
        "Index created, memory raised in the Saturday window; app verified by HR.",
        urgency=H,
    ),
    ProblemScenario(
        "wifi",
        "Access points reboot several times a day",
        "Access points on several floors reboot every few hours, dropping Wi-Fi for everyone "
        "nearby.",
        NETWORKING,
        NETWORK,
        "Controller logs show watchdog resets on firmware 8.10.2 when many clients roam at once.",
        "Workaround: lower the roaming threshold on affected floors.",
        "Firmware 8.10.4 installed on all access points; no reboots since.",
        "Firmware update for all office access points",
        "Update all office access points to firmware 8.10.4 (watchdog fix).",
        "Rolling update at night, 5 APs at a time, so coverage stays up.",
        "All access points on 8.10.4; stable for a week.",
    ),
    ProblemScenario(
        "sso",
        "SSO login loop for Safari users on the HR portal",
        "Safari users get stuck in a redirect loop when signing in to the HR portal.",
        ACCESS,
        PLATFORM,
        "Safari's tracking prevention drops the portal's session cookie (no SameSite=None).",
        "Workaround: use Edge or Chrome for the HR portal.",
        "Vendor updated the cookie settings; Safari users can sign in.",
        "Update SameSite cookie settings on the HR portal",
        "Apply the vendor's configuration change setting SameSite=None; Secure on the session "
        "cookie.",
        "Tested with Safari, Edge and Chrome in staging.",
        "Configuration applied; Safari login confirmed by three users.",
    ),
    ProblemScenario(
        "shared-drive",
        "File server drops SMB sessions during the snapshot",
        "Shares on the file server become unreachable some mornings; always after the nightly "
        "snapshot overran.",
        SERVERS,
        PLATFORM,
        "Snapshot job overlaps with the early backup; VSS freezes I/O long enough for SMB to hang.",
        "Workaround: on-call restarts the Server service when monitoring fires.",
        "Snapshot window moved and storage upgraded; no hang in four weeks.",
        "Move snapshot window and upgrade file server storage",
        "Move the snapshot to 01:00, backups to 03:00, and move the volume to SSD storage.",
        "Maintenance Saturday 20:00–22:00; shares read-only during the copy.",
        "Done; monitoring shows no SMB hang since.",
        impact=H,
    ),
    ProblemScenario(
        "disk-space",
        "App servers fill up because logs are never rotated",
        "/var on the app servers fills up every few weeks; each time someone prunes logs by hand.",
        SERVERS,
        PLATFORM,
        "The new app writes to /var/log/app, which no logrotate rule covers.",
        "Workaround: weekly manual prune (runbook updated).",
        "logrotate policy deployed to all app servers.",
        "Deploy a logrotate policy to all app servers",
        "Add a logrotate rule for /var/log/app (daily, 14 days, compress) to the server baseline.",
        "Rolled out via configuration management, app servers first.",
        "Policy deployed; disk usage flat for two weeks.",
    ),
    ProblemScenario(
        "mfa",
        "MFA prompts time out for users on Android",
        "Android users report that MFA push notifications arrive late or not at all.",
        ACCESS,
        SECURITY,
        "Battery optimisation on several Android models delays the Authenticator's notifications.",
        "Workaround: use the code from the app instead of the push.",
        "Number matching enabled and onboarding guide updated.",
        "Enable number matching for MFA",
        "Switch the MFA policy to number matching; update the user guide.",
        "Communication to all staff one week before.",
        "Number matching enabled for everyone.",
    ),
    ProblemScenario(
        "teams",
        "Teams calls drop on the office network",
        "Teams calls on the office network drop after a few minutes; at home they're fine.",
        MAIL,
        NETWORK,
        "Firewall policy from the last change blocks UDP 3478–3481; media falls back to TCP "
        "and drops.",
        "Workaround: use the guest Wi-Fi for important calls.",
        "UDP ports opened; call quality back to normal.",
        "Open UDP 3478–3481 to the Teams media relays",
        "Firewall change: allow UDP 3478–3481 outbound to Microsoft's media relay ranges.",
        "Standard change, low risk.",
        "Rule active; call analytics show UDP media again.",
    ),
)


@dataclass(frozen=True)
class ChangeScenario:
    """A change of its own, linked to the incidents or requests tagged ``topic``."""

    topic: str
    title: str
    description: str
    plan: str
    done: str
    team: str = PLATFORM
    category: str = SERVERS


CHANGES: tuple[ChangeScenario, ...] = (
    ChangeScenario(
        "firewall",
        "Firewall rule: vendor SFTP access to {server}",
        "Allow {ip} to reach {server} on TCP 22 for the logistics vendor's uploads.",
        "Standard change. Rule scoped to one source IP; review in 12 months.",
        "Rule implemented and tested with the vendor.",
        team=NETWORK,
        category=NETWORKING,
    ),
    ChangeScenario(
        "dns",
        "Add DNS records for new internal services",
        "Create A records and PTRs for the new reporting and intranet servers.",
        "Standard change; TTL 300 during the first week.",
        "Records created and verified from every office.",
        team=NETWORK,
        category=NETWORKING,
    ),
    ChangeScenario(
        "intranet",
        "Renew the intranet's backend certificates and add expiry monitoring",
        "Renew backend certificates and alert 30 days before any certificate expires.",
        "No downtime expected; the proxy reloads gracefully.",
        "Certificates renewed; expiry checks in monitoring.",
    ),
    ChangeScenario(
        "backup",
        "Extend backup retention for the finance share",
        "Keep daily backups of the finance share for 90 days instead of 30 (audit request).",
        "Storage impact about +1.2 TB; approved by finance.",
        "Retention changed; first 90-day chain verified.",
    ),
    ChangeScenario(
        "laptop",
        "Update the laptop build image",
        "New standard laptop image with the current OS release, Office build and drivers.",
        "Pilot with the service desk team for one week before switching the default.",
        "New image is the default for all new laptops.",
        team=SERVICE_DESK,
        category=HARDWARE,
    ),
)


# Handled confidentially: only the security team (and the requester) sees them.
SECURITY_INCIDENTS: tuple[Scenario, ...] = (
    Scenario(
        INC,
        ("Suspected compromise of a finance mailbox",),
        "{first} noticed replies to invoices that were never sent. There's an inbox rule "
        "forwarding mail with *invoice* in the subject to an external address.",
        SECURITY_CATEGORY,
        ("security-incident",),
        team=SECURITY,
        impact=M,
        urgency=H,
        ask="We've blocked sign-ins to your account for now and are looking at it. Please don't "
        "delete anything. We'll call you within the hour.",
        answer="Understood. I'm at my desk.",
        note="Sign-in from an unknown ASN 6 days ago after a phishing click. Forwarding rule "
        "created the same day. {n} invoices forwarded. Revoked sessions, removed rule, reset "
        "password + MFA. Informing finance and DPO.",
        fix="Your account is secure again: new password, new MFA registration, and the forwarding "
        "rule is removed. Finance has been informed about the affected invoices.",
        resolution="Account compromise contained; forwarding rule removed, credentials reset, "
        "finance and DPO informed.",
    ),
    Scenario(
        INC,
        ("Malware alert on laptop {asset}",),
        "Endpoint protection raised a high-severity alert on {asset} ({first}'s laptop): "
        "suspicious PowerShell launched from a macro.",
        SECURITY_CATEGORY,
        ("security-incident",),
        team=SECURITY,
        impact=M,
        urgency=H,
        ask="Your laptop has been isolated from the network as a precaution. Please bring it to "
        "the IT desk in {site}; we have a replacement for you.",
        answer="On my way.",
        note="Macro from a fake purchase order launched an encoded PowerShell downloader; blocked "
        "before payload. Isolated, collected triage package, reimaging.",
        fix="The laptop was reimaged; nothing left the company. Your replacement is yours to keep.",
        resolution="Blocked malware attempt; laptop isolated, investigated and reimaged.",
    ),
    Scenario(
        INC,
        ("Lost laptop with customer data",),
        "{first} lost a laptop ({asset}) on the train to {site}. It has customer contracts "
        "synced locally.",
        SECURITY_CATEGORY,
        ("security-incident",),
        team=SECURITY,
        impact=M,
        urgency=H,
        ask="Thanks for reporting so quickly. We've locked the laptop and will wipe it when it "
        "next comes online. Was it switched off or just asleep?",
        answer="Asleep, lid closed.",
        note="Disk encrypted (BitLocker, TPM+PIN), remote wipe queued. DPO assessed: low risk "
        "because of encryption; no notification required. Police report number on file.",
        fix="The laptop is encrypted and locked; the data protection officer assessed the risk as "
        "low. A replacement laptop is ready for you.",
        resolution="Encrypted device locked and wipe queued; risk assessed as low by the DPO.",
    ),
    Scenario(
        INC,
        ("Large upload to a personal cloud storage account",),
        "The proxy flagged {n} GB uploaded from {asset} to a personal cloud storage account "
        "over two days.",
        SECURITY_CATEGORY,
        ("security-incident",),
        team=SECURITY,
        impact=M,
        urgency=H,
        ask="We need to talk about some data transfers from your laptop. Could you call the "
        "security team today?",
        answer="Sure — I was backing up photos from my phone, I didn't realise that's an issue.",
        note="Interview with requester and manager: private photos, confirmed by sample review "
        "with consent. No company data. Reminder of acceptable use policy sent.",
        fix="Thanks for the quick call. Please use personal devices for private backups in future.",
        resolution="Upload reviewed: private data only, no company data involved.",
    ),
)

REQUESTER_NUDGES = (
    "Any news on this? It's holding me up.",
    "Quick follow-up — is anyone looking at this?",
    "Still happening this morning, just so you know.",
    "Hi, could someone have a look today? Thanks!",
)

# Follow-ups that fit any ticket.
SECOND_QUESTIONS = (
    "Thanks, {first}. Could you send us a screenshot of what you see, including any message?",
    "Is this still an issue for you today? If so, when can we give you a quick call?",
    "Just checking in — could you confirm whether you still need help with this?",
)

ACKNOWLEDGEMENTS: dict[str, tuple[str, ...]] = {
    TicketKind.INCIDENT: (
        "Thanks {first}, we're on it and will update you here.",
        "Thanks for letting us know, {first} — we're looking into it.",
    ),
    TicketKind.REQUEST: (
        "Thanks for the request, {first} — we've picked it up.",
        "Thanks {first}, we're on it and will let you know here when it's done.",
    ),
}

REOPEN_REPLIES = (
    "Sorry, it's happening again since this morning.",
    "It worked for a day, but the same problem is back.",
    "Unfortunately not fixed — same error again today.",
)

AFTER_REOPEN = (
    "Sorry about that — I've had another look and sorted out the underlying cause this time. "
    "Please tell us if it comes back.",
    "Thanks for letting us know. We found a second issue and fixed it; it should stay fixed now.",
)

REQUESTER_CANCELS = (
    "Please cancel — it started working again after a restart.",
    "Not needed any more, sorted it out with a colleague. Thanks anyway!",
    "I raised this twice by mistake, please ignore this one.",
    "My manager decided we don't need it after all. Please cancel.",
)

AGENT_CANCELS = (
    "Cancelled after a call with the requester: no longer needed.",
    "No answer for two weeks; the requester confirmed by phone that it's fine now.",
    "Handled as part of another request.",
)

PENDING_NOTES = (
    "Waiting for the requester to test.",
    "Waiting for the requester's answer.",
    "Waiting for the approval.",
)

DUPLICATE_REPORTS = (
    "Same problem here since this morning.",
    "Not sure if someone already reported this, but it's not working for me either.",
    "Same for me and the two people sitting next to me.",
)

ESCALATION_NOTES = (
    "Not something first line can fix — handing over to {team}.",
    "Needs server access; passing to {team}.",
    "Checked the basics with the requester, escalating to {team}.",
)

OVERRIDE_REASONS = (
    "Several people are blocked by this.",
    "Needed for a customer deadline this week.",
    "Agreed with the department head: it holds up month-end work.",
    "The requester is travelling and has no other way to work.",
)


# --- The tenant's look and people ------------------------------------------------------------


@dataclass(frozen=True)
class Flavour:
    """What makes one tenant's tickets sound like that tenant: asset prefix and sites."""

    prefix: str
    sites: tuple[str, ...]


FLAVOURS = {
    "acme": Flavour("ACM", ("Berlin", "Hamburg", "Munich")),
    "globex": Flavour("GLX", ("New York", "Boston", "Chicago")),
}

NEW_STARTERS = (
    "Mara Jovanović",
    "Felix Brandt",
    "Aisha Khan",
    "Daniel Ortiz",
    "Lena Fischer",
    "Omar Haddad",
    "Chloe Martin",
    "Jakob Weber",
    "Nina Kowalczyk",
    "Ravi Iyer",
)
# Drive letters, not UNC paths: a leading double backslash is an escape in markdown.
SHARES = ("S:\\Finance", "S:\\Controlling", "P:\\Projects", "S:\\Sales", "S:\\HR", "P:\\Marketing")
SERVER_ROLES = ("app01", "app02", "db01", "erp01", "web01", "app03")

# How likely each role is to pick up a ticket of their team.
ASSIGN_WEIGHT: dict[str, float] = {Role.AGENT: 3.0, Role.LEAD: 1.0, Role.ADMIN: 0.3}


@dataclass
class Cast:
    """The tenant's people and teams, as the story needs them."""

    requesters: list[Membership]
    staff: list[Membership]
    leads: list[Membership]  # leads and admins: they grant access and override priorities
    teams: dict[str, Team]
    team_staff: dict[str, list[Membership]]

    @classmethod
    def of(cls, tenant: Tenant) -> Cast | None:
        members = list(
            Membership.objects.for_tenant(tenant)
            .filter(is_active=True, user__is_active=True)
            .select_related("user")
            .order_by("pk")
        )
        requesters = [m for m in members if m.role == Role.REQUESTER]
        staff = [m for m in members if m.role != Role.REQUESTER]
        if not requesters or not staff:
            return None
        by_user = {m.user_id: m for m in staff}
        teams = {team.slug: team for team in Team.objects.for_tenant(tenant).order_by("pk")}
        team_staff = {
            slug: [
                by_user[pk]
                for pk in team.members.order_by("pk").values_list("pk", flat=True)
                if pk in by_user
            ]
            for slug, team in teams.items()
        }
        return cls(
            requesters=requesters,
            staff=staff,
            leads=[m for m in staff if Role.rank(m.role) >= Role.rank(Role.LEAD)],
            teams=teams,
            team_staff=team_staff,
        )

    def team(self, slug: str) -> Team | None:
        """The team of that name, else the first line, else any team."""
        found = self.teams.get(slug) or self.teams.get(SERVICE_DESK)
        return found or next(iter(self.teams.values()), None)

    def staff_of(self, team: Team | None) -> list[Membership]:
        members = self.team_staff.get(team.slug, []) if team is not None else []
        return members or self.staff


def planned(value: T | None) -> T:
    """A part of a plan that planning has set: missing, it is a bug here."""
    if value is None:
        raise RuntimeError("incomplete demo plan")
    return value


def first_name(member: Membership) -> str:
    name = member.user.full_name or member.user.email.split("@")[0]
    return name.split()[0]


def fill(text: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders; braces of anything else stay as they are."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


# --- Clocks -------------------------------------------------------------------------------------


class WorkingHours:
    """Working minutes (weekdays, 8:00 to 18:00 in the tenant's zone) counted
    from a first day. Steps spread on this clock happen while the desk is
    staffed: nobody answers a ticket at 3 a.m. on a Sunday."""

    OPENS = 8 * 60
    DAY = 10 * 60

    def __init__(self, zone: ZoneInfo, first_day: date, days: int) -> None:
        self.zone = zone
        self.first_day = first_day
        self.before = [0]  # working minutes before each day
        for index in range(days):
            weekday = (first_day + timedelta(days=index)).weekday()
            self.before.append(self.before[-1] + (self.DAY if weekday < 5 else 0))

    def minutes(self, moment: datetime) -> float:
        local = moment.astimezone(self.zone)
        index = min(max((local.date() - self.first_day).days, 0), len(self.before) - 2)
        if local.weekday() >= 5:
            return self.before[index]
        since_opening = local.hour * 60 + local.minute + local.second / 60 - self.OPENS
        return self.before[index] + min(max(since_opening, 0), self.DAY)

    def moment(self, minutes: float) -> datetime:
        """The earliest moment at which ``minutes`` of work have passed."""
        index = min(max(bisect.bisect_left(self.before, minutes) - 1, 0), len(self.before) - 2)
        day = self.first_day + timedelta(days=index)
        into = min(max(minutes - self.before[index], 0), self.DAY)
        opening = datetime.combine(day, time(), tzinfo=self.zone) + timedelta(minutes=self.OPENS)
        return (opening + timedelta(minutes=into)).astimezone(UTC)


class WallClock:
    """Plain minutes since the epoch: the clock of whoever is on call."""

    def __init__(self, zone: tzinfo | None) -> None:
        self.zone = zone or UTC

    def moment(self, minutes: float) -> datetime:
        return datetime.fromtimestamp(minutes * 60, tz=self.zone)


# --- The story --------------------------------------------------------------------------------

STEP = timedelta(minutes=2)
Action = Callable[[datetime], object]


@dataclass(eq=False)  # plans are told apart by identity
class Plan:
    """One ticket to be: what it is about, who asks, when, and where it ends up."""

    kind: str
    created_at: datetime
    status: str = ""
    scenario: Scenario | None = None
    problem: ProblemScenario | None = None
    change: ChangeScenario | None = None
    requester: Membership | None = None
    source: str = Source.PORTAL
    confidential: bool = False
    merge_target: bool = False
    untouched: bool = False  # nobody at the desk has looked at it yet
    values: dict[str, str] = field(default_factory=dict)
    ticket: Ticket | None = None
    # For problems: when work started and when it was resolved, as planned.
    started_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def tags(self) -> tuple[str, ...]:
        if self.scenario is not None:
            return self.scenario.tags
        if self.problem is not None:
            return (self.problem.topic,)
        if self.change is not None:
            return (self.change.topic,)
        return ()


class Story:
    """Plans a tenant's ninety days, then plays every step in time order."""

    def __init__(self, tenant: Tenant, cast: Cast, *, count: int, now: datetime) -> None:
        self.tenant = tenant
        self.cast = cast
        self.count = count
        self.now = now
        # Nothing happens in the last minutes: "now" belongs to whoever opens the desk.
        self.limit = now - timedelta(minutes=2)
        self.rng = random.Random(f"servicedesk-demo:{tenant.slug}")  # noqa: S311 - not security
        self.zone = ZoneInfo(tenant.timezone or "UTC")
        first_day = (now - timedelta(days=HISTORY_DAYS + 5)).astimezone(self.zone).date()
        self.clock = WorkingHours(self.zone, first_day, HISTORY_DAYS + 40)
        self.flavour = FLAVOURS.get(tenant.slug) or Flavour(
            tenant.slug[:3].upper(), ("Head office", "Branch office")
        )
        self.settings = ticket_settings(tenant)
        self.window = timedelta(days=self.settings.reopen_window_days)
        self.categories: dict[str, Category] = {}
        self.plans: list[Plan] = []
        self._queue: list[tuple[datetime, int, Action]] = []
        self._sequence = 0

    # --- Playing ------------------------------------------------------------------------------

    def at(self, when: datetime, action: Action) -> None:
        heapq.heappush(self._queue, (min(when, self.limit), self._sequence, action))
        self._sequence += 1

    def play(self) -> None:
        """Every step of every ticket in time order, so numbers follow creation
        and a merge or link finds its tickets as they were at that moment."""
        while self._queue:
            when, _, action = heapq.heappop(self._queue)
            action(when)

    # --- Casting ----------------------------------------------------------------------------

    def ensure_categories(self) -> None:
        existing = {c.name: c for c in Category.objects.for_tenant(self.tenant)}
        admins = [m for m in self.cast.staff if m.role == Role.ADMIN]
        if admins:
            actor = Actor.of(admins[0])
            for name in CATEGORIES:
                if name not in existing:
                    existing[name] = services.category_create(actor=actor, name=name)
        self.categories = existing

    def pick_agent(self, team: Team | None, *, not_: Membership | None = None) -> Membership:
        members = [m for m in self.cast.staff_of(team) if m != not_] or self.cast.staff
        weights = [ASSIGN_WEIGHT.get(m.role, 1.0) for m in members]
        return self.rng.choices(members, weights)[0]

    def pick_requester(self, *, not_: Membership | None = None) -> Membership:
        members = [m for m in self.cast.requesters if m != not_] or self.cast.requesters
        return self.rng.choice(members)

    def lead_of(self, team: Team | None) -> Membership | None:
        leads = [m for m in self.cast.staff_of(team) if m in self.cast.leads]
        found = leads or self.cast.leads
        return found[0] if found else None

    # --- Time ---------------------------------------------------------------------------------

    def business_moment(
        self, oldest: timedelta, newest: timedelta, *, recent_bias: float = 1.0
    ) -> datetime:
        """A moment between ``oldest`` and ``newest`` ago, on a working day
        between 7:00 and 19:00 in the tenant's zone (mostly). A ``recent_bias``
        above 1 favours recent moments: a demo desk needs work in its queues."""
        for _ in range(50):
            moment = self.now - newest - (oldest - newest) * self.rng.random() ** recent_bias
            local = moment.astimezone(self.zone)
            if local.weekday() >= 5 and self.rng.random() < 0.85:
                continue
            hour = self.rng.choices(range(7, 19), [1, 3, 4, 4, 3, 2, 3, 4, 3, 3, 2, 1])[0]
            if self.rng.random() < 0.05:
                hour = self.rng.choice((6, 19, 20, 21, 22))
            local = local.replace(hour=hour, minute=self.rng.randrange(60), second=0)
            candidate = local.astimezone(self.now.tzinfo)
            if self.now - oldest <= candidate <= self.now - newest:
                return candidate
        return self.now - newest

    def spread(self, start: datetime, end: datetime, count: int) -> list[datetime]:
        """``count`` moments after ``start``, the last at ``end``, at least
        ``STEP`` apart: the first soon after ``start`` (a desk answers
        quickly), the rest leaning early, all in working hours when they fit."""
        if count <= 0:
            return []
        clock: WorkingHours | WallClock = self.clock
        begin, finish = self.clock.minutes(start), self.clock.minutes(end)
        if finish - begin < count * 10:  # an evening's ticket: whoever is on call
            begin, finish = start.timestamp() / 60, end.timestamp() / 60
            clock = WallClock(start.tzinfo)
        first = begin + min(self.rng.expovariate(1 / 40) + 2, max((finish - begin) * 0.3, 2))
        cuts: list[datetime] = []
        if count > 1:
            cuts.append(clock.moment(first))
            cuts += [
                clock.moment(first + (finish - first) * self.rng.uniform(0.05, 0.95) ** 1.5)
                for _ in range(count - 2)
            ]
            cuts.sort()
        cuts.append(end)
        moments, previous = [], start
        for moment in cuts:
            moment = max(moment, previous + STEP)
            moments.append(moment)
            previous = moment
        return moments

    def at_work(self, moment: datetime, *, not_before: datetime) -> datetime:
        """``moment``, or if the desk was closed then, a while before closing
        time -- unless that is before ``not_before``."""
        minutes = self.clock.minutes(moment)
        earlier = self.clock.moment(minutes)
        if earlier < moment - STEP:
            earlier = self.clock.moment(minutes - self.rng.uniform(5, 150))
        return earlier if not_before <= earlier <= moment else moment

    def work_after(self, start: datetime, minutes: float, *, by: datetime) -> datetime:
        """``minutes`` of working time after ``start``, but no later than ``by``."""
        later = self.clock.moment(self.clock.minutes(start) + minutes)
        return min(max(later, start + STEP), max(by, start + STEP))

    def duration(self, kind: str) -> float:
        """How many working minutes a ticket of ``kind`` typically takes to resolve."""
        median_hours = {TicketKind.INCIDENT.value: 4, TicketKind.REQUEST.value: 16}.get(kind, 30)
        hours = self.rng.lognormvariate(0, 1.0) * median_hours
        return min(max(hours, 0.7), 80) * 60

    def status_for_age(self, age: timedelta) -> str:
        S = Status
        days = age / timedelta(days=1)
        if days < 0.3:
            table = {S.NEW: 55, S.IN_PROGRESS: 30, S.PENDING: 5, S.RESOLVED: 5, S.CANCELLED: 5}
        elif days < 3:
            table = {
                S.NEW: 28,
                S.IN_PROGRESS: 32,
                S.PENDING: 14,
                S.RESOLVED: 20,
                S.CANCELLED: 3,
                S.CLOSED: 3,
            }
        elif days < self.window.days:
            table = {
                S.NEW: 3,
                S.IN_PROGRESS: 20,
                S.PENDING: 15,
                S.RESOLVED: 40,
                S.CLOSED: 17,
                S.CANCELLED: 5,
            }
        elif days < 30:
            table = {S.IN_PROGRESS: 8, S.PENDING: 6, S.RESOLVED: 6, S.CLOSED: 73, S.CANCELLED: 7}
        else:
            table = {S.IN_PROGRESS: 2, S.PENDING: 2, S.CLOSED: 89, S.CANCELLED: 7}
        return self.rng.choices(list(table), list(table.values()))[0]

    # --- Planning -----------------------------------------------------------------------------

    def plan(self) -> None:
        """Decide every ticket, then schedule its steps."""
        rng = self.rng
        extras = self.count >= 20
        problems = (
            rng.sample(PROBLEMS, min(len(PROBLEMS), max(1, round(self.count * 0.03))))
            if extras
            else []
        )
        problem_plans = [self.problem_plan(p, forced=i == 0) for i, p in enumerate(problems)]
        # A change fixes every problem that got as far as a known error.
        fixing = [
            p
            for p in problem_plans
            if p.status in (Status.KNOWN_ERROR, Status.RESOLVED, Status.CLOSED)
        ]
        own_changes = (
            rng.sample(CHANGES, min(len(CHANGES), round(self.count * 0.015))) if extras else []
        )
        security = (
            rng.sample(SECURITY_INCIDENTS, min(len(SECURITY_INCIDENTS), max(1, self.count // 100)))
            if extras
            else []
        )
        merges = max(1, round(self.count / 75)) if extras and len(self.cast.requesters) > 1 else 0
        talks = self.count - len(problem_plans) - len(fixing) - len(own_changes) - len(security)
        talks -= merges

        talk_plans = self.talk_plans(max(talks, 0), merges, problems[:1])
        security_plans = [self.security_plan(s) for s in security]
        for plan in sorted(talk_plans + security_plans, key=lambda p: p.created_at):
            self.schedule_talk(plan)
        for plan in [p for p in talk_plans if p.merge_target]:
            self.schedule_duplicate(plan)
        for plan in problem_plans:
            self.schedule_problem(plan, talk_plans)
        for plan in fixing:
            self.schedule_problem_change(plan)
        for change in own_changes:
            self.schedule_own_change(change, talk_plans)

    def talk_plans(
        self, count: int, merges: int, forced_topics: Sequence[ProblemScenario]
    ) -> list[Plan]:
        """Incidents and requests: when, what and how far they got."""
        rng = self.rng
        plans = []
        for _ in range(count):
            kind = TicketKind.INCIDENT if rng.random() < 0.58 else TicketKind.REQUEST
            created = self.business_moment(
                timedelta(days=HISTORY_DAYS), timedelta(minutes=20), recent_bias=1.8
            )
            plans.append(Plan(kind=kind, created_at=created))
        for plan in plans:
            plan.status = self.status_for_age(self.limit - plan.created_at)
        # Outages somebody else reports too: merged into these.
        old_enough = [p for p in plans if self.limit - p.created_at > timedelta(days=3)]
        outages = [s for s in SCENARIOS if s.outage]
        for plan in rng.sample(old_enough, min(merges, len(old_enough))):
            plan.kind = TicketKind.INCIDENT
            plan.merge_target = True
            plan.scenario = rng.choice(outages)
            if plan.status in (Status.NEW, Status.CANCELLED):
                plan.status = Status.IN_PROGRESS
        # Every status shows up, however few tickets.
        ages = {
            Status.NEW: (timedelta(hours=1), timedelta(hours=20)),
            Status.IN_PROGRESS: (timedelta(hours=6), timedelta(days=5)),
            Status.PENDING: (timedelta(days=1), timedelta(days=6)),
            Status.RESOLVED: (timedelta(days=1), timedelta(days=5)),
            Status.CLOSED: (timedelta(days=10), timedelta(days=60)),
            Status.CANCELLED: (timedelta(days=1), timedelta(days=30)),
        }
        free = [p for p in plans if not p.merge_target]
        for status, (young, old) in ages.items():
            if len(free) < 2 or any(p.status == status for p in plans):
                continue
            plan = free.pop(rng.randrange(len(free)))
            plan.status = status
            plan.created_at = self.business_moment(old, young)
        # At least one waits in the "Unassigned" queue.
        waiting = [p for p in plans if p.status == Status.NEW]
        if waiting:
            rng.choice(waiting).untouched = True
        # What they are about; one incident for the first problem to be linked to.
        by_kind: dict[str, list[Scenario]] = {
            kind: [s for s in SCENARIOS if s.kind == kind]
            for kind in (TicketKind.INCIDENT, TicketKind.REQUEST)
        }
        for plan in plans:
            if plan.scenario is None:
                plan.scenario = rng.choice(by_kind[plan.kind])
        # Something a person attached, however few tickets.
        with_files = [s for s in by_kind[TicketKind.INCIDENT] if s.evidence is not None]
        worked = [
            p for p in plans if not p.merge_target and p.status in (Status.RESOLVED, Status.CLOSED)
        ]
        with_evidence = [p for p in worked if p.scenario and p.scenario.evidence]
        if worked and not with_evidence:
            plan = rng.choice(worked)
            plan.kind = TicketKind.INCIDENT
            plan.scenario = rng.choice(with_files)
            with_evidence.append(plan)
        for problem in forced_topics:
            topical = [s for s in by_kind[TicketKind.INCIDENT] if problem.topic in s.tags]
            candidates = [p for p in plans if not p.merge_target and p not in with_evidence[:1]]
            if topical and candidates and not any(problem.topic in p.tags for p in plans):
                plan = rng.choice(candidates)
                plan.kind = TicketKind.INCIDENT
                plan.scenario = rng.choice(topical)
        for plan in plans:
            plan.requester = self.pick_requester()
            plan.source = rng.choices([Source.PORTAL, Source.EMAIL, Source.DESK], [55, 30, 15])[0]
            if plan.status == Status.NEW and plan.source == Source.DESK:
                plan.source = Source.PORTAL  # a call is picked up while the caller is on the line
        self.plans += plans
        return plans

    def security_plan(self, scenario: Scenario) -> Plan:
        created = self.business_moment(timedelta(days=HISTORY_DAYS - 5), timedelta(days=1))
        status = self.status_for_age(self.limit - created)
        if status in (Status.NEW, Status.CANCELLED):
            status = Status.IN_PROGRESS
        plan = Plan(
            kind=TicketKind.INCIDENT,
            created_at=created,
            status=status,
            scenario=scenario,
            requester=self.pick_requester(),
            source=Source.DESK,
            confidential=True,
        )
        self.plans.append(plan)
        return plan

    def problem_plan(self, problem: ProblemScenario, *, forced: bool) -> Plan:
        created = self.business_moment(timedelta(days=75), timedelta(days=4))
        if forced:
            status = Status.KNOWN_ERROR
        else:
            statuses = {
                Status.NEW: 5,
                Status.IN_PROGRESS: 20,
                Status.KNOWN_ERROR: 35,
                Status.RESOLVED: 15,
                Status.CLOSED: 25,
            }
            status = self.rng.choices(list(statuses), list(statuses.values()))[0]
        plan = Plan(kind=TicketKind.PROBLEM, created_at=created, status=status, problem=problem)
        self.plans.append(plan)
        return plan

    def values_for(self, plan: Plan) -> dict[str, str]:
        """The placeholder values of one ticket: its people, places and things."""
        rng = self.rng
        prefix = self.flavour.prefix
        floor = rng.randint(1, 6)
        requester = plan.requester
        colleague = self.pick_requester(not_=requester) if requester else self.pick_requester()
        day = (plan.created_at + timedelta(days=rng.randint(3, 10))).astimezone(self.zone)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return {
            "first": first_name(requester) if requester else "there",
            "site": rng.choice(self.flavour.sites),
            "floor": str(floor),
            "room": f"{floor}.{rng.randint(1, 24):02d}",
            "printer": f"{prefix}-PRN-{floor}{rng.choice('AB')}",
            "server": f"{prefix.lower()}-{rng.choice(SERVER_ROLES)}",
            "fileserver": f"{prefix.lower()}-fs0{rng.randint(1, 2)}",
            "asset": f"{prefix}-LT-{rng.randint(1000, 4999)}",
            "share": rng.choice(SHARES),
            "newstarter": rng.choice(NEW_STARTERS),
            "colleague": colleague.user.full_name or colleague.user.email,
            "day": f"{day:%A} {day.day} {day:%B}",
            "n": str(rng.randint(2, 9)),
            "ip": f"203.0.113.{rng.randint(10, 250)}",
        }

    # --- Incidents, requests and security incidents -------------------------------------------

    def schedule_talk(self, plan: Plan) -> None:
        """A conversation ticket: filed, triaged, talked through, and (mostly) settled."""
        rng = self.rng
        scenario = planned(plan.scenario)
        requester = self.requester(plan)
        c = plan.created_at
        values = plan.values = self.values_for(plan)
        final_team = self.cast.team(scenario.team)
        first_line = self.cast.team(SERVICE_DESK)
        escalate = (
            not plan.confidential
            and plan.source != Source.DESK
            and final_team is not None
            and final_team != first_line
            and rng.random() < 0.6
        )
        triage_team = first_line if escalate else final_team
        first_agent = self.pick_agent(triage_team)
        agent = self.pick_agent(final_team) if escalate else first_agent
        creator = requester
        if plan.confidential:
            creator = self.lead_of(final_team) or first_agent
            agent = first_agent = self.pick_agent(final_team, not_=creator)
        elif plan.source == Source.DESK:
            creator = first_agent

        def text(template: str) -> str:
            return fill(template, values)

        impact, urgency = (self.jitter(scenario.impact), self.jitter(scenario.urgency))
        category = self.categories.get(scenario.category)
        routing = {"team": triage_team, "category": category, "tags": scenario.tags}
        send_file = scenario.attachment is not None and rng.random() < 0.7
        file_on_create = send_file and (not scenario.answer or rng.random() < 0.4)
        routed = creator != requester
        self.at(
            c,
            self.create(
                plan,
                creator,
                title=text(rng.choice(scenario.titles)),
                description=text(scenario.description),
                impact=impact,
                urgency=urgency,
                routing={**routing, "assignee": first_agent.user} if routed else {},
                files=[self.attachment(scenario.attachment, values)] if file_on_create else [],
            ),
        )

        status = plan.status
        if status == Status.NEW:
            self.schedule_new(plan, first_agent, routing)
            return
        if status == Status.CANCELLED and (not scenario.ask or rng.random() < 0.5):
            moment = c + min((self.limit - c) * rng.uniform(0.1, 0.6), timedelta(days=2))
            moment = max(moment, c + STEP)
            body = rng.choice(REQUESTER_CANCELS)
            self.at(moment, self.comment(plan, requester, body))
            self.at(moment + timedelta(minutes=1), self.move(plan, requester, Status.CANCELLED))
            return

        steps: list[Action] = []
        if not routed:
            steps.append(self.update(plan, first_agent, assignee=first_agent.user, **routing))
        if not plan.confidential and rng.random() < 0.12:
            watcher = rng.choice([*self.cast.requesters, *self.cast.leads])
            if watcher != requester:
                steps.append(self.watch(plan, first_agent, watcher))
        if plan.confidential and final_team is not None and creator in self.cast.leads:
            steps.append(self.grant(plan, creator, final_team))
        matrix = self.settings.priority_for(impact, urgency)
        if not plan.confidential and matrix > 1 and self.cast.leads and rng.random() < 0.04:
            steps.append(
                self.update(
                    plan,
                    self.lead_of(first_line) or self.cast.leads[0],
                    priority=matrix - 1,
                    priority_reason=rng.choice(OVERRIDE_REASONS),
                )
            )
        first_reply = ""
        if scenario.ask:
            first_reply = text(scenario.ask)
        elif status in (Status.IN_PROGRESS, Status.PENDING):
            thanks = ACKNOWLEDGEMENTS.get(plan.kind, ACKNOWLEDGEMENTS[TicketKind.INCIDENT])
            first_reply = text(rng.choice(thanks))
        steps_from = c  # when the steps below may start
        if first_reply:
            steps.append(self.comment(plan, first_agent, first_reply))
            if matrix <= Priority.HIGH and not plan.confidential and rng.random() < 0.85:
                # A P1 or P2 is answered within minutes, whoever is on call (mostly):
                # the demo's SLAs show a desk that keeps most urgent promises.
                steps_from = c + timedelta(minutes=rng.uniform(4, 20))
                self.place(c, steps_from, steps)
                steps = []
        if escalate and final_team is not None:
            note = rng.choice(ESCALATION_NOTES).replace("{team}", final_team.name)
            steps.append(self.comment(plan, first_agent, note, internal=True))
            steps.append(self.update(plan, first_agent, team=final_team, assignee=agent.user))
        if scenario.note and (scenario.evidence or rng.random() < 0.7):
            evidence = [self.attachment(scenario.evidence, values)] if scenario.evidence else []
            steps.append(
                self.comment(plan, agent, text(scenario.note), internal=True, files=evidence)
            )
        answer_files = (
            [self.attachment(scenario.attachment, values)]
            if (send_file and not file_on_create)
            else []
        )

        if status == Status.IN_PROGRESS:
            if scenario.answer and rng.random() < 0.7:
                steps.append(
                    self.comment(plan, requester, text(scenario.answer), files=answer_files)
                )
                if rng.random() < 0.3:
                    steps.append(self.comment(plan, agent, text(rng.choice(SECOND_QUESTIONS))))
            end = self.limit - rng.uniform(0.02, 0.5) * min(self.limit - c, timedelta(days=2))
            end = self.at_work(end, not_before=c + STEP * (len(steps) + 1))
            self.place(steps_from, end, steps)
            return
        if status == Status.PENDING:
            if scenario.answer and rng.random() < 0.4:
                steps.append(
                    self.comment(plan, requester, text(scenario.answer), files=answer_files)
                )
                steps.append(self.comment(plan, agent, text(rng.choice(SECOND_QUESTIONS))))
            elif not scenario.ask:
                steps.append(self.comment(plan, agent, text(rng.choice(SECOND_QUESTIONS))))
            steps.append(self.move(plan, agent, Status.PENDING, note=rng.choice(PENDING_NOTES)))
            end = self.limit - rng.uniform(0.05, 0.6) * min(self.limit - c, timedelta(days=3))
            end = self.at_work(end, not_before=c + STEP * (len(steps) + 1))
            self.place(steps_from, end, steps)
            return
        if status == Status.CANCELLED:
            steps.append(self.move(plan, agent, Status.CANCELLED, note=rng.choice(AGENT_CANCELS)))
            end = self.work_after(c, self.duration(plan.kind) * 2, by=c + (self.limit - c) * 0.9)
            self.place(steps_from, end, steps)
            return

        # Resolved, and maybe closed since.
        if scenario.answer:
            steps.append(self.comment(plan, requester, text(scenario.answer), files=answer_files))
        fix = text(scenario.fix) if scenario.fix else "Done — please let us know if anything's off."
        resolve = self.resolve(plan, agent, fix, scenario.code, text(scenario.resolution))
        resolved_at, closed_at, auto_close = self.settle_times(plan)
        reopen = (
            plan.kind == TicketKind.INCIDENT
            and self.window >= timedelta(days=1)
            and resolved_at - c > timedelta(hours=8)
            and rng.random() < 0.1
        )
        if reopen:
            begin, finish = self.clock.minutes(c), self.clock.minutes(resolved_at)
            first_resolve = self.clock.moment(begin + (finish - begin) * rng.uniform(0.3, 0.6))
            first_resolve = min(max(first_resolve, c + STEP * (len(steps) + 2)), resolved_at)
            gap = min(resolved_at - first_resolve, self.window - timedelta(hours=1))
            comeback = first_resolve + gap * rng.uniform(0.2, 0.6)
            self.place(steps_from, first_resolve, [*steps, resolve])
            self.at(comeback, self.comment(plan, requester, rng.choice(REOPEN_REPLIES)))
            again = self.resolve(
                plan, agent, rng.choice(AFTER_REOPEN), scenario.code, text(scenario.resolution)
            )
            self.at(max(resolved_at, comeback + STEP), again)
        else:
            self.place(steps_from, resolved_at, [*steps, resolve])
        if status == Status.CLOSED:
            self.at(
                closed_at,
                self.auto_close(plan) if auto_close else self.move(plan, requester, Status.CLOSED),
            )

    def schedule_new(self, plan: Plan, agent: Membership, routing: Mapping[str, object]) -> None:
        """Not picked up yet: maybe routed to a team, maybe nudged by the requester."""
        rng = self.rng
        c = plan.created_at
        span = self.limit - c
        if not plan.untouched and rng.random() < 0.35:
            moment = self.work_after(c, rng.expovariate(1 / 30) + 2, by=c + span / 3)
            assignee = {"assignee": agent.user} if rng.random() < 0.5 else {}
            self.at(moment, self.update(plan, agent, **routing, **assignee))
        if span > timedelta(hours=3) and rng.random() < 0.3:
            self.at(
                c + span * rng.uniform(0.5, 0.95),
                self.comment(plan, self.requester(plan), rng.choice(REQUESTER_NUDGES)),
            )

    def settle_times(self, plan: Plan) -> tuple[datetime, datetime, bool]:
        """When a resolved (or closed) ticket was resolved, when it was closed,
        and whether the reopen window closed it rather than its requester."""
        rng = self.rng
        c = plan.created_at
        earliest = c + timedelta(minutes=40)
        if plan.merge_target:
            earliest = c + timedelta(hours=3)  # its duplicate comes in meanwhile
        wanted = self.clock.moment(self.clock.minutes(c) + self.duration(plan.kind))
        if plan.status == Status.RESOLVED:
            # Still inside the reopen window, or the sweeper would have closed it.
            lowest = max(earliest, self.now - self.window + timedelta(hours=1))
            resolved = self.between(wanted, lowest, self.limit - timedelta(minutes=5))
            return resolved, resolved, False
        if self.limit - c > self.window + timedelta(days=1) and rng.random() < 0.65:
            latest = self.limit - self.window - timedelta(minutes=30)
            resolved = self.between(wanted, earliest, latest)
            return resolved, resolved + self.window + timedelta(minutes=rng.uniform(1, 14)), True
        resolved = self.between(wanted, earliest, self.limit - timedelta(minutes=30))
        # The requester confirms within a day or two, whenever they read their mail.
        confirm = min(timedelta(hours=rng.uniform(0.3, 48)), (self.limit - resolved) * 0.9)
        return resolved, resolved + max(confirm, STEP), False

    def between(self, wanted: datetime, lowest: datetime, latest: datetime) -> datetime:
        """``wanted`` if it lies between the bounds, else somewhere between
        them (not on a bound: tickets would pile up on one minute); moved into
        working hours if that keeps it in bounds."""
        if latest <= lowest:
            return latest
        if not lowest <= wanted <= latest:
            wanted = lowest + (latest - lowest) * self.rng.uniform(0.2, 0.95)
        return self.at_work(wanted, not_before=lowest)

    def jitter(self, level: int) -> int:
        if self.rng.random() < 0.25:
            level += self.rng.choice((-1, 1))
        return min(max(level, Level.HIGH), Level.LOW)

    def place(self, start: datetime, end: datetime, steps: Sequence[Action]) -> None:
        for moment, step in zip(self.spread(start, end, len(steps)), steps, strict=True):
            self.at(moment, step)

    # --- Duplicates ------------------------------------------------------------------------------

    def schedule_duplicate(self, target: Plan) -> None:
        """Someone else reports the same outage; an agent merges it into the first report."""
        rng = self.rng
        scenario = planned(target.scenario)
        created = target.created_at + timedelta(minutes=rng.uniform(10, 40))
        plan = Plan(
            kind=TicketKind.INCIDENT,
            created_at=created,
            status=Status.CLOSED,
            scenario=scenario,
            requester=self.pick_requester(not_=self.requester(target)),
            source=rng.choice((Source.PORTAL, Source.EMAIL)),
        )
        self.plans.append(plan)
        values = plan.values = self.values_for(plan)
        for shared in ("site", "floor", "room", "printer", "server", "share"):
            values[shared] = target.values[shared]
        self.at(
            created,
            self.create(
                plan,
                self.requester(plan),
                title=fill(rng.choice(scenario.titles), values),
                description=fill(scenario.description, values),
                impact=scenario.impact,
                urgency=scenario.urgency,
                routing={},
                files=[],
            ),
        )
        if rng.random() < 0.6:
            moment = created + timedelta(minutes=rng.uniform(2, 8))
            self.at(moment, self.comment(plan, self.requester(plan), rng.choice(DUPLICATE_REPORTS)))
        merged = created + timedelta(minutes=rng.uniform(10, 30))
        agent = self.pick_agent(self.cast.team(SERVICE_DESK))
        self.at(merged, self.merge(plan, target, agent))

    # --- Problems and changes ------------------------------------------------------------------

    def schedule_problem(self, plan: Plan, talks: Sequence[Plan]) -> None:
        """A problem behind recurring incidents: analysed, worked around, fixed."""
        rng = self.rng
        problem = planned(plan.problem)
        c = plan.created_at
        team = self.cast.team(problem.team)
        owner = self.pick_agent(team)
        creator = owner if rng.random() < 0.5 else (self.lead_of(team) or owner)
        plan.requester = creator
        plan.values = self.values_for(plan)
        self.at(
            c,
            self.create(
                plan,
                creator,
                title=fill(problem.title, plan.values),
                description=fill(problem.description, plan.values),
                impact=problem.impact,
                urgency=problem.urgency,
                routing={
                    "assignee": owner.user,
                    "team": team,
                    "category": self.categories.get(problem.category),
                    "tags": (problem.topic,),
                },
                files=[],
            ),
        )
        steps: list[Action] = []
        status = plan.status
        if status != Status.NEW:
            steps.append(self.comment(plan, owner, problem.analysis, internal=True))
            steps.append(self.move(plan, owner, Status.IN_PROGRESS))
        if status in (Status.KNOWN_ERROR, Status.RESOLVED, Status.CLOSED):
            steps.append(self.comment(plan, owner, problem.workaround, internal=True))
            steps.append(self.move(plan, owner, Status.KNOWN_ERROR, note=problem.workaround))
        age = self.limit - c
        if status in (Status.RESOLVED, Status.CLOSED):
            resolved, closed, auto = self.settle_times_long(plan)
            moments = self.spread(c, resolved, len(steps) + 1)
            for moment, step in zip(moments, steps, strict=False):
                self.at(moment, step)
            plan.started_at = moments[1] if len(moments) > 1 else c
            self.at(
                resolved,
                self.move(
                    plan,
                    owner,
                    Status.RESOLVED,
                    code=ResolutionCode.SOLVED,
                    notes=problem.resolution,
                ),
            )
            plan.resolved_at = resolved
            if status == Status.CLOSED:
                self.at(
                    closed, self.auto_close(plan) if auto else self.move(plan, owner, Status.CLOSED)
                )
        elif steps:
            end = self.limit - age * rng.uniform(0.05, 0.4)
            end = self.at_work(end, not_before=c + STEP * (len(steps) + 1))
            moments = self.spread(c, end, len(steps))
            for moment, step in zip(moments, steps, strict=True):
                self.at(moment, step)
            plan.started_at = moments[-1]
        self.link_incidents(plan, owner, talks)

    def settle_times_long(self, plan: Plan) -> tuple[datetime, datetime, bool]:
        """Resolution and closing of a problem or change: weeks, not hours."""
        rng = self.rng
        c = plan.created_at
        age = self.limit - c
        if plan.status == Status.RESOLVED:
            lowest = max(c + age * 0.5, self.now - self.window + timedelta(hours=1))
            resolved = min(lowest + timedelta(hours=rng.uniform(1, 48)), self.limit - STEP * 3)
            resolved = self.at_work(resolved, not_before=lowest)
            return resolved, resolved, False
        if age > self.window + timedelta(days=2) and rng.random() < 0.5:
            latest = self.limit - self.window - timedelta(hours=1)
            resolved = self.at_work(c + (latest - c) * rng.uniform(0.4, 0.9), not_before=c)
            return resolved, resolved + self.window + timedelta(minutes=rng.uniform(1, 14)), True
        resolved = self.at_work(c + age * rng.uniform(0.4, 0.8), not_before=c)
        closed = self.work_after(resolved, rng.uniform(60, 1800), by=self.limit - STEP)
        return resolved, closed, False

    def link_incidents(self, problem: Plan, owner: Membership, talks: Sequence[Plan]) -> None:
        """The incidents this problem is behind, linked by its owner as they come to light."""
        topic = planned(problem.problem).topic
        candidates = [
            p
            for p in talks
            if topic in p.tags
            and p.kind in (TicketKind.INCIDENT, TicketKind.REQUEST)
            and not p.confidential
        ]
        candidates.sort(key=lambda p: abs(p.created_at - problem.created_at))
        near = [
            p for p in candidates if abs(p.created_at - problem.created_at) < timedelta(days=40)
        ]
        for incident in (near or candidates[:1])[:5]:
            start = max(incident.created_at, problem.created_at)
            by = start + (self.limit - start) * 0.5
            moment = self.work_after(start, self.rng.uniform(20, 900), by=by)
            self.at(moment, self.link(incident, owner, "problem", problem))

    def schedule_problem_change(self, problem: Plan) -> None:
        """The change that fixes a known error: planned, approved, implemented."""
        rng = self.rng
        scenario = planned(problem.problem)
        start = problem.started_at or problem.created_at + timedelta(hours=2)
        if problem.resolved_at is not None:
            stop = problem.resolved_at - timedelta(hours=2)
            status = Status.CLOSED if self.limit - stop > self.window else Status.RESOLVED
        else:
            stop = self.limit - (self.limit - start) * rng.uniform(0.02, 0.4)
            stop = self.at_work(stop, not_before=start)
            status = rng.choice((Status.NEW, Status.PENDING, Status.IN_PROGRESS))
        start = min(start + timedelta(minutes=30), stop - timedelta(hours=1))
        created = start + (stop - start) * rng.uniform(0.05, 0.3)
        team = self.cast.team(scenario.team)
        plan = Plan(kind=TicketKind.CHANGE, created_at=created, status=status)
        plan.change = ChangeScenario(
            scenario.topic,
            scenario.change_title,
            scenario.change_description,
            scenario.change_plan,
            scenario.change_done,
            team=scenario.team,
            category=scenario.category,
        )
        self.schedule_change(plan, team, [problem], stop)

    def schedule_own_change(self, change: ChangeScenario, talks: Sequence[Plan]) -> None:
        """A change of its own (a firewall rule, a DNS record), linked to what asked for it."""
        rng = self.rng
        asking = [p for p in talks if change.topic in p.tags and not p.confidential]
        if asking:
            first = rng.choice(asking)
            created = self.work_after(first.created_at, rng.uniform(60, 900), by=self.limit)
        else:
            created = self.business_moment(timedelta(days=80), timedelta(days=1))
        age = self.limit - created
        if age < timedelta(days=3):
            status = rng.choice((Status.NEW, Status.IN_PROGRESS, Status.PENDING))
        elif age < self.window:
            status = Status.RESOLVED
        else:
            status = Status.CLOSED if rng.random() < 0.9 else Status.CANCELLED
        related = [p for p in asking if p.created_at < created]
        related.sort(key=lambda p: created - p.created_at)
        related = related[:2]
        plan = Plan(kind=TicketKind.CHANGE, created_at=created, status=status, change=change)
        stop = created + min(timedelta(days=rng.uniform(1, 10)), age * 0.8)
        stop = self.at_work(stop, not_before=created)
        if status == Status.RESOLVED:
            stop = max(stop, self.now - self.window + timedelta(hours=2))
            stop = min(stop, self.limit - timedelta(minutes=10))
        self.schedule_change(plan, self.cast.team(change.team), related, stop)

    def schedule_change(
        self, plan: Plan, team: Team | None, fixes: Sequence[Plan], stop: datetime
    ) -> None:
        change = planned(plan.change)
        rng = self.rng
        owner = self.pick_agent(team)
        plan.requester = owner
        plan.values = self.values_for(plan)
        for related in fixes:
            for shared in ("server", "ip"):
                if related.values.get(shared):
                    plan.values[shared] = related.values[shared]
        c = plan.created_at
        self.at(
            c,
            self.create(
                plan,
                owner,
                title=fill(change.title, plan.values),
                description=fill(change.description, plan.values),
                impact=Level.MEDIUM,
                urgency=Level.LOW,
                routing={
                    "assignee": owner.user,
                    "team": team,
                    "category": self.categories.get(change.category),
                    "tags": (change.topic, "change"),
                },
                files=[],
            ),
        )
        self.plans.append(plan)
        steps: list[Action] = [self.link(plan, owner, "change", fixed) for fixed in fixes]
        status = plan.status
        steps.append(self.comment(plan, owner, fill(change.plan, plan.values), internal=True))
        if status == Status.CANCELLED:
            steps.append(
                self.move(plan, owner, Status.CANCELLED, note="Superseded by a later change.")
            )
        elif status != Status.NEW:
            steps.append(self.move(plan, owner, Status.IN_PROGRESS, note="Implementation started."))
            if status == Status.PENDING:
                steps.append(
                    self.move(
                        plan, owner, Status.PENDING, note="Waiting for the change advisory board."
                    )
                )
            if status in (Status.RESOLVED, Status.CLOSED):
                steps.append(
                    self.move(
                        plan,
                        owner,
                        Status.RESOLVED,
                        code=ResolutionCode.SOLVED,
                        notes=fill(change.done, plan.values),
                    )
                )
        self.place(c, max(stop, c + STEP * (len(steps) + 1)), steps)
        if status == Status.CLOSED:
            closed = self.work_after(stop, rng.uniform(60, 900), by=self.limit - STEP)
            self.at(closed, self.move(plan, owner, Status.CLOSED))

    # --- Security incidents -------------------------------------------------------------------

    # (Planned like any conversation, with ``confidential`` set: created by a lead,
    # worked by the security team, granted to it.)

    # --- Steps --------------------------------------------------------------------------------
    # Each returns the action to play at its moment; every one is a service call.

    def create(
        self,
        plan: Plan,
        creator: Membership,
        *,
        title: str,
        description: str,
        impact: int,
        urgency: int,
        routing: dict[str, object],
        files: Sequence[tuple[str, bytes]],
    ) -> Action:
        def act(when: datetime) -> None:
            plan.ticket = services.ticket_create(
                actor=Actor.of(creator),
                kind=plan.kind,
                title=title,
                description=description,
                impact=impact,
                urgency=urgency,
                requester=self.requester(plan).user,
                source=plan.source,
                is_confidential=plan.confidential,
                files=[ContentFile(data, name=name) for name, data in files],
                now=when,
                **routing,  # type: ignore[arg-type]
            )

        return act

    def update(self, plan: Plan, actor: Membership, **changes: object) -> Action:
        def act(when: datetime) -> None:
            services.ticket_update(
                actor=Actor.of(actor),
                ticket=self.ticket(plan),
                now=when,
                **changes,  # type: ignore[arg-type]
            )

        return act

    def comment(
        self,
        plan: Plan,
        author: Membership,
        body: str,
        *,
        internal: bool = False,
        files: Sequence[tuple[str, bytes]] = (),
    ) -> Action:
        def act(when: datetime) -> None:
            services.comment_add(
                actor=Actor.of(author),
                ticket=self.ticket(plan),
                body=body,
                is_internal=internal,
                source=self.comment_source(plan, author),
                files=[ContentFile(data, name=name) for name, data in files],
                now=when,
            )

        return act

    def move(
        self,
        plan: Plan,
        actor: Membership,
        status: str,
        *,
        code: str = "",
        notes: str = "",
        note: str = "",
    ) -> Action:
        def act(when: datetime) -> None:
            services.ticket_transition(
                actor=Actor.of(actor),
                ticket=self.ticket(plan),
                status=status,
                resolution_code=code,
                resolution_notes=notes,
                note=note,
                now=when,
            )

        return act

    def resolve(self, plan: Plan, agent: Membership, reply: str, code: str, notes: str) -> Action:
        """The agent tells the requester, then resolves a minute later."""
        reply_step = self.comment(plan, agent, reply)
        move_step = self.move(plan, agent, Status.RESOLVED, code=code, notes=notes)

        def act(when: datetime) -> None:
            reply_step(when)
            move_step(when + timedelta(minutes=1))

        return act

    def auto_close(self, plan: Plan) -> Action:
        def act(when: datetime) -> None:
            services.ticket_close_if_due(
                ticket_id=self.ticket(plan).pk, tenant_id=self.tenant.pk, now=when
            )

        return act

    def watch(self, plan: Plan, actor: Membership, watcher: Membership) -> Action:
        def act(when: datetime) -> None:
            services.watcher_add(
                actor=Actor.of(actor), ticket=self.ticket(plan), user=watcher.user, now=when
            )

        return act

    def grant(self, plan: Plan, lead: Membership, team: Team) -> Action:
        def act(when: datetime) -> None:
            services.confidential_grant(
                actor=Actor.of(lead), ticket=self.ticket(plan), team=team, now=when
            )

        return act

    def link(self, plan: Plan, actor: Membership, relation: str, other: Plan) -> Action:
        def act(when: datetime) -> None:
            services.ticket_link(
                actor=Actor.of(actor),
                ticket=self.ticket(plan),
                relation=relation,
                other=self.ticket(other),
                now=when,
            )

        return act

    def merge(self, source: Plan, target: Plan, agent: Membership) -> Action:
        def act(when: datetime) -> None:
            services.ticket_merge(
                actor=Actor.of(agent),
                source=self.ticket(source),
                target=self.ticket(target),
                now=when,
            )

        return act

    def attachment(self, spec: tuple[str, str] | None, values: dict[str, str]) -> tuple[str, bytes]:
        name, text = planned(spec)
        return name, fill(text, values).encode()

    @staticmethod
    def requester(plan: Plan) -> Membership:
        return planned(plan.requester)

    @staticmethod
    def comment_source(plan: Plan, author: Membership) -> str:
        if author.role != Role.REQUESTER:
            return Source.DESK
        # A caller's later replies come through the portal.
        return Source.PORTAL if plan.source == Source.DESK else plan.source

    @staticmethod
    def ticket(plan: Plan) -> Ticket:
        return planned(plan.ticket)  # steps play after their ticket's creation


# --- Entry point --------------------------------------------------------------------------------


def seed_tickets(
    tenant: Tenant, *, count: int = DEFAULT_TICKETS, now: datetime | None = None
) -> int:
    """File ``count`` tickets of demo history in ``tenant``; the number filed.

    Nothing happens when the tenant has tickets already. One transaction:
    a tenant gets its whole history or none of it, so an interrupted seed
    is simply run again. The tenant row is locked first, so two seeds at
    once do not both find the tenant empty.
    """
    if count <= 0:
        return 0
    with tenant_context(tenant.pk), services.notifications_muted(), transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if Ticket.objects.for_tenant(tenant).exists():
            return 0
        cast = Cast.of(tenant)
        if cast is None:
            return 0
        story = Story(tenant, cast, count=count, now=now or timezone.now())
        story.ensure_categories()
        story.plan()
        story.play()
        return Ticket.objects.for_tenant(tenant).count()


def seed_demo_tickets(seed: DemoSeed) -> int:
    """The demo seeder (``servicedesk.registry``): a tenant's ticket history."""
    return seed_tickets(seed.tenant, count=seed.tickets)
