"""Reconciliation (``/office/reconciliation``): upload a provider's daily bill (WeChat Pay's trade bill or Alipay's
业务明细, CSV) and see it matched against the ledger to the fen: each payment or refund missing on either side, or
whose amount differs, listed; the count matched. The same as ``liandong reconcile FILE`` (docs/payments.md). It
reads only: nothing is logged. Permission ``decide_withdrawal`` (finance)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from ...payments.reconcile import BillError, parse_bill, reconcile
from ..access import office_view

PERMISSION = "decide_withdrawal"
#: The largest bill read (a day of a busy shop's trade bill is a few MB).
BILL_MAX_BYTES = 20 * 1024 * 1024


@office_view(PERMISSION)
def reconciliation(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: the bill matched against the ledger (a reading; it changes nothing)."""
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("bill")
        if upload is None:
            context["error"], status = _("Choose the provider's bill (a CSV file) to upload."), 400
        elif upload.size is not None and upload.size > BILL_MAX_BYTES:
            context["error"], status = _("The bill is larger than 20 MB."), 400
        else:
            try:
                bill = parse_bill(upload.read())
            except BillError as exc:
                context["error"], status = _("Not a bill Liandong reads: %(why)s") % {"why": exc}, 400
            else:
                context["result"] = reconcile(bill)
                context["file_name"] = upload.name
    return render(request, "office/reconciliation.html", context, status=status)
