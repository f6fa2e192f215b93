"""The resilience suites build on the approvals fixtures (a high-risk feature live in two regions, versions,
evidence, requests and their sign-offs) and the worker fixtures of the freshness integration test."""

from tests.approvals.conftest import *  # noqa: F401,F403 - fixtures: feature, new_version, go_live, ...
