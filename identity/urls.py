from django.urls import path

from identity.views import account, oidc, people, reviews, teams

app_name = "identity"

urlpatterns: list = []

# --- People, teams and the account page -----------------------------------------------------------
urlpatterns += [
    path("people/", people.PeopleListView.as_view(), name="people_list"),
    path("people/<str:username>/", people.PersonDetailView.as_view(), name="person_detail"),
    path("people/<str:username>/roles/grant/", people.RoleGrantView.as_view(), name="role_grant"),
    path("people/<str:username>/roles/<slug:role>/revoke/", people.RoleRevokeView.as_view(), name="role_revoke"),
    path("people/<str:username>/teams/join/", people.PersonTeamJoinView.as_view(), name="person_team_join"),
    path("people/<str:username>/deactivate/", people.DeactivateView.as_view(), name="person_deactivate"),
    path(
        "people/<str:username>/reactivate/",
        people.DeactivateView.as_view(reactivate=True),
        name="person_reactivate",
    ),
    path(
        "people/<str:username>/sessions/<int:pk>/end/",
        people.PersonSessionEndView.as_view(),
        name="person_session_end",
    ),
    path("people/<str:username>/sessions/end/", people.PersonSessionsEndAllView.as_view(), name="person_sessions_end"),
    path(
        "people/<str:username>/tokens/<int:pk>/revoke/",
        people.PersonTokenRevokeView.as_view(),
        name="person_token_revoke",
    ),
    path("teams/", teams.TeamListView.as_view(), name="team_list"),
    path("teams/new/", teams.TeamCreateView.as_view(), name="team_create"),
    path("teams/<slug:slug>/", teams.TeamDetailView.as_view(), name="team_detail"),
    path("teams/<slug:slug>/edit/", teams.TeamEditView.as_view(), name="team_edit"),
    path("teams/<slug:slug>/members/add/", teams.TeamMemberAddView.as_view(), name="team_member_add"),
    path(
        "teams/<slug:slug>/members/<str:username>/remove/",
        teams.TeamMemberRemoveView.as_view(),
        name="team_member_remove",
    ),
    path("teams/<slug:slug>/members/suggestions/", teams.MemberSuggestionsView.as_view(), name="member_suggestions"),
    path("account/", account.AccountView.as_view(), name="account"),
    path("account/time-zone/", account.AccountTimeZoneView.as_view(), name="account_time_zone"),
    path("account/sessions/<int:pk>/end/", account.AccountSessionEndView.as_view(), name="account_session_end"),
    path("account/sessions/end-others/", account.AccountSessionsEndOthersView.as_view(), name="account_sessions_end"),
]

# --- Single sign-on (OpenID Connect) and the group mappings ----------------------------------------
urlpatterns += [
    path("oidc/authenticate/", oidc.OidcStartView.as_view(), name="oidc_start"),
    path("oidc/callback/", oidc.OidcCallbackView.as_view(), name="oidc_callback"),
    path("identity/group-mappings/", oidc.GroupMappingsView.as_view(), name="oidc_mappings"),
    path("identity/group-mappings/<int:pk>/delete/", oidc.GroupMappingDeleteView.as_view(), name="oidc_mapping_delete"),
]

# --- Access reviews ------------------------------------------------------------------------------
urlpatterns += [
    path("access-reviews/", reviews.ReviewListView.as_view(), name="review_list"),
    path("access-reviews/new/", reviews.ReviewStartView.as_view(), name="review_start"),
    path("access-reviews/<int:pk>/", reviews.ReviewDetailView.as_view(), name="review_detail"),
    path("access-reviews/<int:pk>/close/", reviews.ReviewCloseView.as_view(), name="review_close"),
    path(
        "access-reviews/<int:pk>/export.csv",
        reviews.ReviewExportView.as_view(file_format="csv"),
        name="review_export_csv",
    ),
    path(
        "access-reviews/<int:pk>/export.pdf",
        reviews.ReviewExportView.as_view(file_format="pdf"),
        name="review_export_pdf",
    ),
    path("access-reviews/items/<int:pk>/", reviews.ItemView.as_view(), name="review_item"),
    path("access-reviews/items/<int:pk>/decide/", reviews.ItemDecideView.as_view(), name="review_item_decide"),
]
