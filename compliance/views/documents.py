"""Pages of a feature's compliance documents: read, write a draft, send it for review, sign it off."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.views import View
from django.views.generic import TemplateView

from compliance import selectors
from compliance.choices import DocumentKind, RevisionStatus
from compliance.forms import DraftForm, ReviewForm
from compliance.permissions import can_review_document, can_write_document
from compliance.services.documents import document_review, document_save_draft, document_submit
from compliance.views import refusal_text
from core.exceptions import Conflict
from core.views import add_service_error
from registry.mixins import FeatureLookupMixin


class DocumentMixin(FeatureLookupMixin):
    def dispatch(self, request, *args, **kwargs):
        if kwargs["kind"] not in DocumentKind.values:
            raise Http404("No such document.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def kind(self) -> DocumentKind:
        return DocumentKind(self.kwargs["kind"])


class DocumentView(DocumentMixin, TemplateView):
    """The document's approved text, its revisions, and the draft form for those who write it."""

    template_name = "compliance/document.html"

    def get_context_data(self, form=None, **kwargs):
        feature = self.feature
        user = self.request.user
        document = selectors.documents_of(feature).get(self.kind.value)
        open_revision = selectors.open_revisions(feature).get(self.kind.value)
        may_write = can_write_document(user, feature)
        editable = may_write and (
            open_revision is None
            or (open_revision.status == RevisionStatus.DRAFT and open_revision.author_id == user.pk)
        )
        if form is None and editable:
            if open_revision is not None:
                initial = open_revision.body
            elif document is not None and document.current is not None:
                initial = document.current.body
            else:
                initial = ""
            form = DraftForm(initial={"body": initial})
        return {
            **super().get_context_data(**kwargs),
            "feature": feature,
            "kind": self.kind,
            "document": document,
            "current": document.current if document else None,
            "open_revision": open_revision,
            "revisions": selectors.revisions_of(document) if document else [],
            "may_write": may_write,
            "form": form if editable else None,
            "may_review": can_review_document(user, feature),
        }

    def post(self, request, slug, kind):
        if not can_write_document(request.user, self.feature):
            raise PermissionDenied("Only the feature's team, legal reviewers and governance write its documents.")
        form = DraftForm(request.POST)
        if form.is_valid():
            try:
                revision = document_save_draft(
                    actor=request.user, feature=self.feature, kind=self.kind.value, body=form.cleaned_data["body"]
                )
            except (ValidationError, Conflict) as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Draft r{revision.number} saved. Send it for review when it is ready.")
                return HttpResponseRedirect(revision.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)


class RevisionMixin(DocumentMixin):
    def get_revision(self):
        found = selectors.revision(feature=self.feature, kind=self.kind.value, number=int(self.kwargs["number"]))
        if found is None:
            raise Http404("No such revision.")
        return found


class RevisionView(RevisionMixin, TemplateView):
    template_name = "compliance/revision.html"

    def get_context_data(self, review_form=None, **kwargs):
        revision = self.get_revision()
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "feature": self.feature,
            "kind": self.kind,
            "revision": revision,
            "may_submit": revision.status == RevisionStatus.DRAFT
            and revision.author_id == user.pk
            and can_write_document(user, self.feature),
            "may_review": revision.status == RevisionStatus.IN_REVIEW
            and can_review_document(user, self.feature)
            and revision.author_id != user.pk,
            "own_revision_in_review": revision.status == RevisionStatus.IN_REVIEW and revision.author_id == user.pk,
            "review_form": review_form or ReviewForm(),
        }


class RevisionSubmitView(RevisionMixin, View):
    def post(self, request, slug, kind, number):
        revision = self.get_revision()
        try:
            document_submit(actor=request.user, revision=revision)
        except (Conflict, ValidationError) as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, f"r{revision.number} sent for review; its text is fixed from now.")
        return HttpResponseRedirect(revision.get_absolute_url())


class RevisionReviewView(RevisionView):
    http_method_names = ["post", "head", "options"]

    def post(self, request, slug, kind, number):
        revision = self.get_revision()
        if not can_review_document(request.user, self.feature):
            raise PermissionDenied("Only legal reviewers and governance sign a compliance document off.")
        form = ReviewForm(request.POST)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                document_review(actor=request.user, revision=revision, approve=approve, note=form.cleaned_data["note"])
            except (ValidationError, Conflict) as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"r{revision.number} {'approved' if approve else 'sent back'}.")
                return HttpResponseRedirect(revision.get_absolute_url())
        return self.render_to_response(self.get_context_data(review_form=form), status=400)
