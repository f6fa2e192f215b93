"""Access review pages: the reviewer's queue, a campaign (its items, searchable, decided inline), starting
and closing a campaign, and its exports. Every write goes to ``identity.reviews.services``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import ListView

from core.exceptions import Conflict
from core.views import ClampedPaginationMixin, FilteredListView, PermissionRuleMixin, ServiceFormView, found_or_404
from identity.choices import ReviewDecision, ReviewStatus
from identity.models import AccessReview, AccessReviewItem
from identity.reviews import selectors, services
from identity.reviews.filters import ReviewItemFilter
from identity.reviews.forms import ItemDecisionForm, ReviewCloseForm, ReviewStartForm
from identity.reviews.permissions import (
    EXPORTERS,
    STARTERS,
    can_export_reviews,
    can_run_reviews,
    reads_every_review,
)
from registry.choices import Role
from registry.permissions import has_role, is_governance

CAMPAIGNS_PER_PAGE = 20


def progress_of(user, review: AccessReview) -> dict:
    """The progress bar's figures: the whole campaign for governance and auditors, else the user's items."""
    if reads_every_review(user):
        return {"scope": "campaign", **selectors.summary(review)}
    mine = selectors.items_visible_to(user, review=review)
    total = mine.count()
    pending = mine.filter(decision=ReviewDecision.PENDING).count()
    decided = mine.filter(decision__in=[ReviewDecision.CONFIRMED, ReviewDecision.REVOKED]).count()
    return {
        "scope": "mine",
        "total": total,
        "pending": pending,
        "decided": decided,
        "percent": round(100 * decided / total) if total else 100,
    }


def _message_of(error) -> str:
    if isinstance(error, Conflict):
        return error.message
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not decide this item."


class ReviewListView(ClampedPaginationMixin, ListView):
    """``/access-reviews/``: the items waiting for me, by person, and the campaigns I may read."""

    template_name = "identity/review_list.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.queue_for(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        rows = selectors.rows_for(user, context["object_list"])
        campaigns = Paginator(selectors.reviews_visible_to(user), CAMPAIGNS_PER_PAGE).get_page(
            self.request.GET.get("campaigns")
        )
        current = selectors.open_review()
        visible_current = (
            selectors.reviews_visible_to(user).filter(pk=current.pk).first() if current is not None else None
        )
        return {
            **context,
            "groups": selectors.grouped_by_person(rows),
            "rows": rows,
            "campaigns": campaigns,
            "current": visible_current,
            "any_open": current is not None,
            "progress": progress_of(user, visible_current) if visible_current else None,
            "can_run": can_run_reviews(user),
            "reads_all": reads_every_review(user),
            # auditors read campaigns and review nothing: no queue to show them
            "reviews_nothing": has_role(user, Role.AUDITOR) and not is_governance(user),
            "next_url": self.request.get_full_path(),
        }


class ReviewMixin:
    @found_or_404("No such access review, or none of its items is yours.")
    def review(self) -> AccessReview:
        return selectors.review_detail(user=self.request.user, pk=self.kwargs["pk"])


@method_decorator(never_cache, name="dispatch")
class ReviewDetailView(ReviewMixin, FilteredListView):
    """A campaign: its progress and items (all for governance and auditors, else mine), by person."""

    filterset_class = ReviewItemFilter
    template_name = "identity/review_detail.html"
    partial_template_name = "identity/partials/review_items.html"
    paginate_by = 50

    def get_base_queryset(self):
        return selectors.items_visible_to(self.request.user, review=self.review)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, review = self.request.user, self.review
        rows = selectors.rows_for(user, context["object_list"])
        return {
            **context,
            "review": review,
            "rows": rows,
            "groups": selectors.grouped_by_person(rows),
            "progress": progress_of(user, review),
            "reads_all": reads_every_review(user),
            "can_run": can_run_reviews(user) and review.status == ReviewStatus.OPEN,
            "can_export": can_export_reviews(user) and review.status == ReviewStatus.CLOSED,
            "without_reviewer": selectors.without_reviewer(review) if reads_every_review(user) else 0,
            "next_url": self.request.get_full_path(),
        }


class ReviewStartView(PermissionRuleMixin, ServiceFormView):
    form_class = ReviewStartForm
    template_name = "identity/review_start.html"
    permission_required = can_run_reviews
    permission_denied_message = STARTERS

    def get_context_data(self, **kwargs):
        current = selectors.open_review()
        return {
            **super().get_context_data(**kwargs),
            "current": current,
            "plan": None if current else selectors.plan_summary(),
        }

    def perform(self, form):
        return services.access_review_start(actor=self.request.user, name=form.cleaned_data["name"], due_at=form.due_at)

    def form_valid(self, form):
        response = super().form_valid(form)
        if getattr(self, "object", None) is not None:
            messages.success(
                self.request,
                f"Started “{self.object.name}”: {self.object.items.count()} items put to their reviewers, who have "
                "been told.",
            )
        return response


class ReviewCloseView(ReviewMixin, PermissionRuleMixin, ServiceFormView):
    form_class = ReviewCloseForm
    template_name = "identity/review_close.html"
    permission_required = can_run_reviews
    permission_denied_message = STARTERS

    def get_context_data(self, **kwargs):
        review = self.review
        return {
            **super().get_context_data(**kwargs),
            "review": review,
            "progress": selectors.summary(review),
        }

    def perform(self, form):
        return services.access_review_close(
            actor=self.request.user, review=self.review, close_anyway=form.cleaned_data["close_anyway"]
        )

    def form_valid(self, form):
        response = super().form_valid(form)
        if getattr(self, "object", None) is not None:
            messages.success(self.request, f"Closed “{self.object.name}”. Its exports are ready for auditors.")
        return response


@method_decorator(never_cache, name="dispatch")
class ReviewExportView(ReviewMixin, PermissionRuleMixin, View):
    """The closed campaign as CSV or PDF (``file_format`` is set in the URL configuration)."""

    file_format = "csv"
    permission_required = can_export_reviews
    permission_denied_message = EXPORTERS

    def get(self, request, pk):
        review = self.review
        try:
            exported = services.access_review_export(actor=request.user, review=review, file_format=self.file_format)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect(review)
        response = HttpResponse(exported.data, content_type=exported.content_type)
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        response["X-Content-SHA256"] = exported.sha256
        return response


class ItemMixin:
    @found_or_404("No such access review item, or it is not yours to review.")
    def item(self) -> AccessReviewItem:
        return selectors.item_for_decision(user=self.request.user, pk=self.kwargs["pk"])

    def row_context(self, *, error: str = "", note: str = "", consequences=None) -> dict:
        item = AccessReviewItem.objects.select_related("user", "team", "review", "decided_by").get(pk=self.item.pk)
        row = selectors.rows_for(self.request.user, [item])[0]
        row.update(error=error, note=note, consequences=consequences)
        return {
            "row": row,
            "review": item.review,
            "progress": progress_of(self.request.user, item.review),
            "next_url": self.next_url(),
            "oob": True,
        }

    def next_url(self) -> str:
        wanted = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if wanted and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return wanted
        return reverse("identity:review_detail", args=[self.item.review_id])


@method_decorator(never_cache, name="dispatch")
class ItemView(ItemMixin, View):
    """One item: its row (htmx, e.g. after cancelling a revocation), else its campaign's page."""

    def get(self, request, pk):
        if request.htmx:
            return render(request, "identity/partials/review_item.html", self.row_context())
        item = self.item
        return HttpResponseRedirect(
            reverse("identity:review_detail", args=[item.review_id])
            + f"?q={item.user.get_username()}#review-item-{item.pk}"
        )


class ItemDecideView(ItemMixin, View):
    """POST confirm or revoke. A revocation with consequences (a sign-off withdrawn, a grant the identity
    provider gives back) is shown before it is final: inline with htmx, as a page without JavaScript."""

    def post(self, request, pk):
        item = self.item
        form = ItemDecisionForm(request.POST)
        note = request.POST.get("note", "")[:500]
        if not form.is_valid():
            return self.refused(_first_error(form), note=note)
        decision, note = form.cleaned_data["decision"], form.cleaned_data["note"].strip()
        if decision == "revoke":
            if not note:
                return self.refused(
                    "Say why you revoke it: the note is kept with the decision and in the audit trail.",
                    note=note,
                    consequences=selectors.revoke_consequences(item),
                )
            if not form.cleaned_data["confirmed"]:
                consequences = selectors.revoke_consequences(item)
                if consequences:
                    return self.confirm(note=note, consequences=consequences)
        try:
            services.access_review_item_decide(actor=request.user, item=item, decision=decision, note=note)
        except (ValidationError, Conflict, PermissionDenied) as error:
            if isinstance(error, PermissionDenied) and not request.htmx:
                raise
            return self.refused(_message_of(error), note=note, status=409 if isinstance(error, Conflict) else 422)
        if request.htmx:
            return render(request, "identity/partials/review_item.html", self.row_context())
        person = item.user.get_full_name() or item.user.get_username()
        messages.success(
            request,
            f"{'Confirmed' if decision == 'confirm' else 'Revoked'} {services.item_label(item)} of {person}.",
        )
        return HttpResponseRedirect(self.next_url())

    def confirm(self, *, note: str, consequences: list[str]):
        context = self.row_context(note=note, consequences=consequences)
        if self.request.htmx:
            return render(self.request, "identity/partials/review_item.html", context)
        return render(self.request, "identity/review_revoke.html", context)

    def refused(self, message: str, *, note: str = "", consequences=None, status: int = 422):
        if self.request.htmx:
            context = self.row_context(error=message, note=note, consequences=consequences)
            return render(self.request, "identity/partials/review_item.html", context, status=422)
        if status == 409:
            messages.error(self.request, message)
            return HttpResponseRedirect(self.next_url())
        context = self.row_context(error=message, note=note, consequences=consequences)
        return render(self.request, "identity/review_revoke.html", context, status=status)


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        if field == "decision":
            return "Choose confirm or revoke."
        return f"{errors[0]}"
    return "Choose confirm or revoke."
