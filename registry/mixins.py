"""Page mixins other apps' pages build on: the feature a URL names, as the user may see it."""

from __future__ import annotations

from core.views import PermissionRuleMixin, found_or_404
from registry import selectors
from registry.models import AIFeature


class FeatureLookupMixin(PermissionRuleMixin):
    """The feature the URL names (``slug``), found among those the user may see: a 404 otherwise, so a
    restricted feature leaves no trace for those who may not see it. A view that changes the feature
    declares ``permission_required = can_edit_feature`` (checked after the lookup: 404 before 403)."""

    permission_object = "feature"
    permission_denied_message = "Only the {view.feature.team} team and governance admins may change {view.feature}."

    @found_or_404("No such feature, or it is restricted.")
    def feature(self) -> AIFeature:
        return selectors.feature_detail(user=self.request.user, slug=self.kwargs["slug"])
