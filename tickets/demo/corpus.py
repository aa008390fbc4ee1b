"""What the demo's tickets say: the corpus the story draws from.

Incidents and requests (``SCENARIOS``) with the conversation each usually
has, problems behind recurring incidents with the change that fixes them
(``PROBLEMS``), changes of their own (``CHANGES``), confidential security
incidents, the stock phrases of a desk (nudges, acknowledgements, reopen
replies, cancellations) and what makes each tenant sound like itself
(``FLAVOURS``). Data only: who says it and when is ``story``'s business.

Texts carry placeholders, filled per ticket: {first} (the requester's first
name), {site}, {floor}, {room}, {printer}, {server}, {fileserver}, {asset},
{share}, {newstarter}, {colleague}, {day}, {n}, {ip}.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from tickets.models import Level, ResolutionCode, TicketKind

# Teams by slug, as ``seed_demo`` creates them.
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
