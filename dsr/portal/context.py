"""Template context for every portal page: branding from settings and the GPC signal."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest

_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
DEFAULT_COLOUR = "#0b5394"


def gpc_signalled(request: HttpRequest) -> bool:
    """True when the browser sends the Global Privacy Control signal (``Sec-GPC: 1``, 11 CCR §7025)."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


def portal(request: HttpRequest) -> dict[str, Any]:
    colour = settings.DSR_BRAND_PRIMARY_COLOR
    return {
        "brand": {
            "name": settings.DSR_BRAND_NAME,
            "logo_url": settings.DSR_BRAND_LOGO_URL,
            # Only a hex colour reaches the page's CSS: a setting cannot inject style rules.
            "color": colour if _HEX_COLOUR.match(colour) else DEFAULT_COLOUR,
            "privacy_policy_url": settings.DSR_PRIVACY_POLICY_URL,
            "contact_email": settings.DSR_PRIVACY_CONTACT_EMAIL,
            "contact_address": settings.DSR_PRIVACY_CONTACT_ADDRESS,
        },
        "gpc": gpc_signalled(request),
    }
