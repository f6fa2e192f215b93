"""How a JUnit XML results file becomes evaluations (docs/cli.md shows the same mapping)."""

import pytest

from gatehouse_client import GatehouseError
from gatehouse_client.cli import evaluations_from_junit

RESULTS = """<?xml version="1.0"?>
<testsuites>
  <properties><property name="region" value="eu"/></properties>
  <testsuite name="outer" timestamp="2026-12-04T10:00:00">
    <properties>
      <property name="kind" value="safety"/>
      <property name="threshold" value="0.9"/>
    </properties>
    <testsuite name="claims-safety-v2">
      <properties><property name="threshold" value="0.95"/></properties>
      <testcase name="refusal_rate">
        <properties>
          <property name="score" value="0.97"/>
          <property name="notes">Run on the
            held-out set.</property>
        </properties>
        <failure message="reported by the runner, not read"/>
      </testcase>
      <testcase name="jailbreak_rate">
        <properties>
          <property name="score" value="0.02"/>
          <property name="threshold" value="0.05"/>
          <property name="higher_is_better" value="false"/>
          <property name="region" value="us"/>
          <property name="run_at" value="2026-12-04T11:30:00Z"/>
          <property name="owner" value="not a field: ignored"/>
        </properties>
      </testcase>
      <testcase name="flaky">
        <properties><property name="score" value="0.5"/></properties>
        <skipped/>
      </testcase>
      <testcase name="test_prompt_renders"/>
    </testsuite>
  </testsuite>
</testsuites>
"""


def test_testcases_with_a_score_become_evaluations_with_what_their_suites_give():
    evaluations, left_out = evaluations_from_junit(RESULTS, "results.xml")

    assert evaluations == [
        {
            "kind": "safety",
            "suite": "claims-safety-v2",
            "metric": "refusal_rate",
            "score": 0.97,
            "threshold": 0.95,  # the nearest suite's property wins
            "region": "eu",
            "run_at": "2026-12-04T10:00:00+00:00",  # the enclosing suite's timestamp, in UTC
            "notes": "Run on the\n            held-out set.",
        },
        {
            "kind": "safety",
            "suite": "claims-safety-v2",
            "metric": "jailbreak_rate",
            "score": 0.02,
            "threshold": 0.05,
            "higher_is_better": False,
            "region": "us",
            "run_at": "2026-12-04T11:30:00Z",
        },
    ]
    assert left_out == 2  # the skipped testcase and the one without a score


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<testsuite><testcase name='x'", "results.xml is not well-formed XML"),
        ("<report/>", "a JUnit results file starts with <testsuites> or <testsuite>, not <report>"),
        (
            "<testsuite><testcase name='x'><properties><property name='score' value='high'/></properties>"
            "</testcase></testsuite>",
            "testcase 'x': property score 'high' is not a valid score",
        ),
    ],
)
def test_a_file_that_is_not_junit_or_has_a_bad_value_is_invalid_input(text, message):
    with pytest.raises(GatehouseError) as error:
        evaluations_from_junit(text, "results.xml")

    assert error.value.code == "invalid"
    assert message in error.value.detail
