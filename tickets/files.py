"""Attachments, served only through a permission check.

Files are what people uploaded, so the browser is told to treat every one as
a download of the type we sniffed from its bytes (never the uploader's
claim), not to guess another type, and -- should it render one anyway -- to
run nothing and load nothing from it.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from servicedesk.access import TenantRequest, tenant_area
from tickets import selectors

DOWNLOAD_POLICY = "default-src 'none'; sandbox"


@require_safe
@tenant_area("portal")  # type: ignore[arg-type]  # a FileResponse streams: not an HttpResponse
def attachment_download(
    request: TenantRequest, tenant_slug: str, key: str, attachment_id: int
) -> FileResponse:
    """One file of a ticket the member may see; internal files for agents only.
    Missing, foreign, hidden and vanished files are all the same 404."""
    _ticket, attachment = selectors.get_attachment_for(
        viewer=request.membership, key=key, attachment_id=attachment_id
    )
    try:
        handle = attachment.file.open("rb")
    except (OSError, ValueError) as error:
        # The row outlived its file (a restore, a storage hiccup): not the visitor's fault.
        raise Http404("No such file") from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_POLICY
    response["Cache-Control"] = "private, no-store"
    return response
