"""The privacy-team dashboard, one module per page. Each view parses input, calls a service or
selector, and renders.

Every view is wrapped in ``staff_view(permission)``, which asks ``dsr.staff.roles`` (the one place
roles are checked). State changes are POST-only and redirect back (post/redirect/get).
"""
