"""The page a processor reaches from the instruction e-mail: confirm what was done (CSRF-protected)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from dsr.errors import RequestInputError
from dsr.tasks.forms import AccessConfirmForm, ErasureConfirmForm
from dsr.tasks.services import Upload, VendorLinkError, vendor_confirm, vendor_task_for_token
from dsr.workflow.models import Action


@never_cache
@csrf_protect
def vendor_confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        task = vendor_task_for_token(token=token)
    except VendorLinkError as exc:
        return render(request, "tasks/vendor_link_invalid.html", {"message": exc.message}, status=404)
    form_class = AccessConfirmForm if task.action == Action.ACCESS else ErasureConfirmForm
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        file = data.get("file")
        try:
            vendor_confirm(
                token=token,
                upload=Upload(name=file.name or "", content=file.read()) if file is not None else None,
                category=data.get("category") or "records",
                records_found=data.get("records_found"),
                records_erased=data.get("records_erased"),
                method=data.get("method") or "deleted",
                note=data.get("note") or "",
            )
        except VendorLinkError as exc:
            return render(request, "tasks/vendor_link_invalid.html", {"message": exc.message}, status=404)
        except RequestInputError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            return render(request, "tasks/vendor_confirmed.html", {"task": task})
    status = 400 if request.method == "POST" else 200
    return render(request, "tasks/vendor_confirm.html", {"task": task, "form": form}, status=status)
