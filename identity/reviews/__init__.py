"""Access reviews: governance puts every role grant and team membership to a reviewer, who confirms or
revokes it; unanswered items are reminded and escalated; the closed campaign is exported as evidence.

``services`` (every write), ``selectors`` (every read pages and the API share), ``permissions`` (who may
do what), ``export`` (the CSV and PDF of a closed campaign).
"""
