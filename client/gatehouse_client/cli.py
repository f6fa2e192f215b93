"""``gatehouse``: the Gatehouse API on the command line, for CI pipelines.

Create and submit versions, record evaluations (from JSON or a JUnit XML results file), request a gate and
wait for its decision, promote, roll back, resolve and look up decisions. Configuration comes from the
environment: ``GATEHOUSE_URL`` (or ``--url``) and ``GATEHOUSE_TOKEN`` (an API token; never an option, so it
never shows in a process list or a CI log). ``--json`` prints the API's answer as JSON on stdout; without it
each command prints a one-line summary. Errors go to stderr as ``code: detail``, and the exit status says
what kind of error it was (``EXIT_CODES``, the one table; docs/cli.md shows the same).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gatehouse_client.api import Client, GatehouseError, WaitTimeout

# --- Exit codes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExitCode:
    status: int
    name: str
    meaning: str
    codes: tuple[str, ...]  # the API's error codes (and the client's own) that end with this status


EXIT_CODES: tuple[ExitCode, ...] = (
    ExitCode(0, "ok", "Done. For a wait: the gate request was approved.", ()),
    ExitCode(
        1,
        "error",
        "Any other error: an answer this client does not expect (e.g. 405, 415, a 500).",
        ("error", "method_not_allowed", "not_acceptable", "unsupported_media_type"),
    ),
    ExitCode(
        2,
        "invalid input",
        "The command line, an input file or the request was invalid (400; 422 for a reused Idempotency-Key).",
        ("usage", "invalid", "parse_error", "request_too_large", "idempotency_key_reused"),
    ),
    ExitCode(
        3,
        "not authenticated",
        "No token (GATEHOUSE_TOKEN unset), or the token is unknown, revoked or expired (401).",
        ("not_authenticated", "authentication_failed", "token_expired"),
    ),
    ExitCode(
        4,
        "not allowed",
        "The token's user or scopes may not do this, or separation of duties forbids it (403).",
        ("permission_denied", "insufficient_scope", "separation_of_duties", "not_eligible"),
    ),
    ExitCode(5, "not found", "No such feature, version, request or decision visible to you (404).", ("not_found",)),
    ExitCode(
        6,
        "conflict",
        "A rule forbids it now (409): stale evidence, a pending approval, a freeze... The API's code is printed.",
        (
            "conflict",
            "region_not_allowed",
            "promotion_frozen",
            "technical_file_incomplete",
            "prohibited_practice",
            "evidence_stale",
            "readiness_unmet",
            "approval_pending",
            "approval_expired",
            "approval_used",
            "gate_changed",
            "no_gate",
            "already_requested",
            "already_decided",
            "invalid_transition",
            "version_not_submitted",
            "already_live",
            "not_live",
            "no_rollback_target",
            "no_eligible_route",
            "withdrawn",
            "change_pending",
        ),
    ),
    ExitCode(7, "refused by the gate", "The gate request was rejected or withdrawn.", ("approval_not_approved",)),
    ExitCode(8, "timeout", "The wait ended before the gate request was decided; it is still pending.", ("timeout",)),
    ExitCode(
        9,
        "unreachable",
        "Gatehouse did not answer, or answered that it cannot now (503 unavailable, 429 throttled): retry later.",
        ("unreachable", "unavailable", "throttled"),
    ),
)

_BY_CODE = {code: exit_code.status for exit_code in EXIT_CODES for code in exit_code.codes}
_BY_HTTP_STATUS = {400: 2, 401: 3, 403: 4, 404: 5, 409: 6, 422: 2, 429: 9, 503: 9}


def exit_status(code: str, http_status: int | None = None) -> int:
    """The exit status for an error: by its code, else (a code this client does not know) by its HTTP status."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    return _BY_HTTP_STATUS.get(http_status or 0, 1)


def _exit_code_help() -> str:
    lines = ["exit status:"]
    for exit_code in EXIT_CODES:
        lines.append(f"  {exit_code.status}  {exit_code.name}: {exit_code.meaning}")
    return "\n".join(lines)


# --- Input ---------------------------------------------------------------------------------------------


def invalid(detail: str) -> GatehouseError:
    return GatehouseError(None, "invalid", detail)


def _json_value(option: str, value: str | None) -> Any:
    """An option's JSON, given inline or as ``@path`` (read from the file)."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise invalid(f"{option}: cannot read {value[1:]}: {error.strerror or error}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise invalid(f"{option} is not valid JSON: {error}") from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Evaluation fields, as the API names them, and how a JUnit property's text becomes each one.
def _number(text: str) -> float:
    return float(text)


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise ValueError(f"{text!r} is not true or false")


EVALUATION_FIELDS: dict[str, Any] = {
    "feature": str,
    "version": int,
    "version_id": int,
    "kind": str,
    "suite": str,
    "metric": str,
    "score": _number,
    "threshold": _number,
    "higher_is_better": _boolean,
    "region": str,
    "language": str,
    "run_at": str,
    "artifact_url": str,
    "notes": str,
}


def _properties(element: ElementTree.Element) -> dict[str, str]:
    """``<properties><property name=".." value=".."/>`` (or the value as the element's text) of one element."""
    found: dict[str, str] = {}
    for properties in element.findall("properties"):
        for prop in properties.findall("property"):
            name = (prop.get("name") or "").strip()
            if name:
                value = prop.get("value")
                found[name] = (value if value is not None else prop.text or "").strip()
    return found


def _junit_timestamp(text: str | None) -> str | None:
    """A testsuite's ``timestamp`` (ISO 8601, usually without a zone, meaning UTC)."""
    if not text:
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def evaluations_from_junit(text: str, source: str) -> tuple[list[dict], int]:
    """The evaluations of a JUnit XML results file, and how many testcases were not evaluations.

    Each ``<testcase>`` with a ``score`` property of its own is one evaluation; its properties name the API's
    fields. What a testcase leaves out comes from the properties of its enclosing ``<testsuite>``s (the
    nearest first), then ``suite`` from the nearest testsuite's ``name`` and ``run_at`` from its
    ``timestamp``, and ``metric`` from the testcase's ``name``. A ``<skipped>`` testcase is left out; its
    ``<failure>`` or ``<error>`` is not read (whether it passed follows from score and threshold)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise invalid(f"{source} is not well-formed XML: {error}") from None
    if root.tag not in {"testsuites", "testsuite"}:
        raise invalid(f"{source}: a JUnit results file starts with <testsuites> or <testsuite>, not <{root.tag}>.")
    evaluations: list[dict] = []
    ignored = 0

    def walk(element: ElementTree.Element, inherited: dict[str, str], suite_name: str | None, run_at: str | None):
        nonlocal ignored
        if element.tag in {"testsuites", "testsuite"}:
            inherited = {**inherited, **_properties(element)}
            if element.tag == "testsuite":
                suite_name = element.get("name") or suite_name
                run_at = _junit_timestamp(element.get("timestamp")) or run_at
            for child in element:
                walk(child, inherited, suite_name, run_at)
            return
        if element.tag != "testcase":
            return
        own = _properties(element)
        if "score" not in own or element.find("skipped") is not None:
            ignored += 1
            return
        merged = {**inherited, **own}
        label = f"{source}: testcase {element.get('name') or '(unnamed)'!r}"
        evaluation: dict[str, Any] = {}
        for name, convert in EVALUATION_FIELDS.items():
            if name in merged and merged[name] != "":
                try:
                    evaluation[name] = convert(merged[name])
                except ValueError:
                    raise invalid(f"{label}: property {name} {merged[name]!r} is not a valid {name}.") from None
        if "suite" not in evaluation and suite_name:
            evaluation["suite"] = suite_name
        if "run_at" not in evaluation and run_at:
            evaluation["run_at"] = run_at
        if "metric" not in evaluation and element.get("name"):
            evaluation["metric"] = element.get("name")
        evaluations.append(evaluation)

    walk(root, {}, None, None)
    return evaluations, ignored


def evaluations_from_json(text: str, source: str) -> list[dict]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise invalid(f"{source} is not valid JSON: {error}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise invalid(f"{source}: give a JSON list of evaluation objects.")
    return data


def read_evaluations(paths: list[str], file_format: str) -> tuple[list[dict], int]:
    evaluations: list[dict] = []
    ignored = 0
    for path in paths:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise invalid(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
        kind = file_format
        if kind == "auto":
            kind = "junit" if text.lstrip().startswith("<") else "json"
        if kind == "junit":
            found, skipped = evaluations_from_junit(text, path)
            evaluations.extend(found)
            ignored += skipped
        else:
            evaluations.extend(evaluations_from_json(text, path))
    if not evaluations:
        raise invalid(f"No evaluations in {', '.join(paths)}.")
    return evaluations, ignored


# --- Output --------------------------------------------------------------------------------------------


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def emit(args, answer: Any, line: str) -> None:
    if args.json:
        _print_json(answer)
    else:
        print(line, flush=True)


def _field_errors(body: Any, prefix: str = "") -> list[str]:
    """A 400's field errors as ``field: message`` (nested fields as ``tools[0].name``)."""
    if isinstance(body, dict):
        found = []
        for name, value in body.items():
            found.extend(_field_errors(value, f"{prefix}.{name}" if prefix else name))
        return found
    if isinstance(body, list):
        if all(isinstance(item, str) for item in body):
            return [f"{prefix}: {' '.join(body)}" if prefix else " ".join(body)]
        found = []
        for index, item in enumerate(body):
            if item:
                found.extend(_field_errors(item, f"{prefix}[{index}]"))
        return found
    return [f"{prefix}: {body}" if prefix else str(body)]


def describe(error: GatehouseError) -> str:
    """The error's detail; for a 400, each field's errors."""
    body = error.body if isinstance(error.body, dict) and "code" in error.body else {}
    detail = body.get("detail", error.detail)
    if isinstance(detail, list):
        detail = " ".join(str(item) for item in detail)
    if error.status == 400:
        fields = _field_errors({name: value for name, value in body.items() if name not in {"code", "detail"}})
        if fields:
            detail = f"{detail} ({'; '.join(fields)})" if "detail" in body else "; ".join(fields)
    return str(detail)


def _version_label(answer: dict) -> str:
    return f"{answer.get('feature')} v{answer.get('version', answer.get('number'))}"


def _pending_summary(request: dict) -> str:
    """What a pending request waits for: sign-offs by role, and the requirements that do not hold."""
    waiting: dict[str, int] = {}
    for signoff in request.get("signoffs") or []:
        if signoff.get("status") == "pending":
            waiting[signoff.get("role", "?")] = waiting.get(signoff.get("role", "?"), 0) + 1
    parts = []
    if waiting:
        roles = ", ".join(role if count == 1 else f"{role} ×{count}" for role, count in waiting.items())
        parts.append(f"sign-offs from {roles}")
    for check in request.get("checks") or []:
        if not check.get("met"):
            parts.append(f"{check.get('label', check.get('key'))} ({check.get('state')})")
    return "; ".join(parts) if parts else "nothing listed"


def request_line(request: dict) -> str:
    regions = ", ".join(request.get("regions") or [])
    line = (
        f"Request #{request.get('id')}: {request.get('gate')} gate for {_version_label(request)} "
        f"({request.get('environment')}: {regions}): {request.get('status')}"
    )
    if request.get("status") == "pending":
        line += f"; waiting for {_pending_summary(request)}"
    return line + "."


# --- Commands ------------------------------------------------------------------------------------------


def _catalog_id(value: str, lookup) -> int:
    value = value.strip()
    return int(value) if value.isdigit() else lookup(value)


def _dataset(value: str) -> dict:
    dataset, sep, usage = value.partition(":")
    if not sep or not dataset.strip().isdigit() or not usage.strip():
        raise invalid(f"--dataset {value!r}: give ID:USAGE, e.g. 12:evaluation.")
    return {"dataset": int(dataset), "usage": usage.strip()}


def _version_named(args, *, required: bool = True) -> dict:
    """``--version-id``, or ``--feature`` and ``--version``: as the API's ``version_id`` / ``feature`` and
    ``version``."""
    if args.version_id is not None:
        named = {"version_id": args.version_id}
        if args.feature is not None:
            named["feature"] = args.feature
        if args.version is not None:
            named["version"] = args.version
        return named
    if args.feature is not None and args.version is not None:
        return {"feature": args.feature, "version": args.version}
    if args.version is not None:
        raise GatehouseError(None, "usage", "--version is a version's number within its feature: give --feature too.")
    if required:
        raise GatehouseError(None, "usage", "Name the version: --feature SLUG --version NUMBER, or --version-id ID.")
    return {"feature": args.feature} if args.feature is not None else {}


def cmd_version_create(client: Client, args) -> int:
    if args.from_mlflow:
        given = [flag for flag, value in _configuration_flags(args) if value]
        if given:
            raise GatehouseError(
                None,
                "usage",
                f"--from-mlflow takes the configuration from MLflow and the feature's latest version: leave out "
                f"{', '.join(given)}.",
            )
        version = client.import_from_mlflow(
            args.from_mlflow, feature=args.feature, idempotency_key=args.idempotency_key
        )
        emit(
            args,
            version,
            f"Imported {args.from_mlflow} as {_version_label(version)} (id {version.get('id')}): {version.get('status')}.",
        )
        return 0
    missing = [
        flag
        for flag, value in (
            ("--feature", args.feature),
            ("--model", args.model),
            ("--prompt", args.prompt),
            ("--policy-pack", args.policy_pack),
            ("--summary", args.summary),
        )
        if not value
    ]
    if missing:
        raise GatehouseError(
            None, "usage", f"version create needs {', '.join(missing)} (or --from-mlflow models:/NAME/N)."
        )
    tools = _json_value("--tools", args.tools)
    parameters = _json_value("--parameters", args.parameters)
    if tools is not None and not isinstance(tools, list):
        raise invalid('--tools: give a JSON list, e.g. [{"name": "claims.read", "scopes": ["read"]}].')
    if parameters is not None and not isinstance(parameters, dict):
        raise invalid('--parameters: give a JSON object, e.g. {"temperature": 0.0}.')
    datasets = [_dataset(value) for value in args.dataset] if args.dataset else None
    version = client.create_version(
        args.feature,
        model=_catalog_id(args.model, client.model_id),
        fallback_models=[_catalog_id(value, client.model_id) for value in args.fallback_model]
        if args.fallback_model
        else None,
        prompt=_catalog_id(args.prompt, client.prompt_id),
        policy_pack=_catalog_id(args.policy_pack, client.policy_pack_id),
        change_summary=args.summary,
        parameters=parameters,
        tools=tools,
        datasets=datasets,
        retrieval_index=args.retrieval_index,
        parent=args.parent,
        idempotency_key=args.idempotency_key,
    )
    emit(args, version, f"Created {_version_label(version)} (id {version.get('id')}): {version.get('status')}.")
    return 0


def _configuration_flags(args):
    return (
        ("--model", args.model),
        ("--fallback-model", args.fallback_model),
        ("--prompt", args.prompt),
        ("--policy-pack", args.policy_pack),
        ("--summary", args.summary),
        ("--parent", args.parent),
        ("--tools", args.tools),
        ("--parameters", args.parameters),
        ("--dataset", args.dataset),
        ("--retrieval-index", args.retrieval_index),
    )


def cmd_version_submit(client: Client, args) -> int:
    named = _version_named(args)
    version_id = named.get("version_id") or client.find_version(named["feature"], named["version"])["id"]
    version = client.submit_version(version_id, idempotency_key=args.idempotency_key)
    emit(
        args,
        version,
        f"Submitted {_version_label(version)} (id {version.get('id')}): {version.get('status')}, "
        f"config_hash {version.get('config_hash')}.",
    )
    return 0


def cmd_evaluations_record(client: Client, args) -> int:
    evaluations, ignored = read_evaluations(args.files, args.format)
    defaults = {"kind": args.kind, "suite": args.suite, "run_at": args.run_at, "artifact_url": args.artifact_url}
    filled = []
    for evaluation in evaluations:
        evaluation = {**{k: v for k, v in defaults.items() if v is not None}, **evaluation}
        evaluation.setdefault("run_at", _now())
        filled.append(evaluation)
    named = _version_named(args, required=False)
    try:
        answers = client.record_evaluations(
            filled,
            feature=named.get("feature"),
            version=named.get("version"),
            version_id=named.get("version_id"),
            idempotency_key=args.idempotency_key,
        )
    except GatehouseError as error:
        recorded = getattr(error, "recorded", [])
        if recorded:
            print(
                f"{len(recorded)} of {len(filled)} evaluations were recorded before this error.",
                file=sys.stderr,
            )
        raise
    failed = [answer for answer in answers if not answer.get("passed")]
    versions = sorted({_version_label(answer) for answer in answers})
    line = (
        f"Recorded {len(answers)} evaluation{'s' if len(answers) != 1 else ''} on {', '.join(versions)}: "
        f"{len(answers) - len(failed)} passed, {len(failed)} failed"
    )
    if failed:
        line += " (" + ", ".join(f"{a.get('kind')} {a.get('metric')}={a.get('score'):g}" for a in failed) + ")"
    if ignored:
        line += f"; {ignored} testcase{'s' if ignored != 1 else ''} without a score left out"
    emit(args, answers, line + ".")
    return 0


def _wait(client: Client, args, request_id: int) -> int:
    try:
        request = client.wait_for_decision(request_id, timeout=args.timeout, interval=args.interval)
    except WaitTimeout as timeout:
        last = timeout.body or {}
        emit(args, last, request_line(last) if last else f"Request #{request_id}: still pending.")
        error = WaitTimeout(
            f"Request #{request_id} is still pending after {args.timeout:g} s; waiting for {_pending_summary(last)}.",
            last,
        )
        error.printed = True
        raise error from None
    emit(args, request, request_line(request))
    status = request.get("status")
    if status == "approved":
        return 0
    reasons = "; ".join(
        f"{signoff.get('role')}: {signoff.get('reason')}"
        for signoff in request.get("signoffs") or []
        if signoff.get("status") == "rejected" and signoff.get("reason")
    )
    code = "approval_expired" if status == "expired" else "approval_not_approved"
    error = GatehouseError(None, code, f"Request #{request_id} was {status}" + (f": {reasons}" if reasons else "."))
    error.printed = True
    raise error


def cmd_gate_request(client: Client, args) -> int:
    request = client.request_gate(
        environment=args.environment,
        regions=args.region,
        note=args.note,
        idempotency_key=args.idempotency_key,
        **_version_named(args),
    )
    if not args.wait:
        emit(args, request, request_line(request))
        return 0
    if not args.json:
        print(request_line(request), flush=True)
    return _wait(client, args, request["id"])


def cmd_gate_wait(client: Client, args) -> int:
    return _wait(client, args, args.request_id)


def cmd_promote(client: Client, args) -> int:
    events = client.promote(args.request_id, reason=args.reason, idempotency_key=args.idempotency_key)
    where = ", ".join(
        f"{event.get('environment')}/{event.get('region')}"
        + (f" (from v{event.get('from_version')})" if event.get("from_version") else "")
        for event in events
    )
    first = events[0] if events else {}
    emit(args, events, f"Promoted {first.get('feature')} v{first.get('to_version')} in {where}.")
    return 0


def cmd_rollback(client: Client, args) -> int:
    event = client.rollback(
        args.feature,
        environment=args.environment,
        region=args.region,
        reason=args.reason,
        to_version=args.to_version,
        idempotency_key=args.idempotency_key,
    )
    emit(
        args,
        event,
        f"Rolled back {event.get('feature')} in {event.get('environment')}/{event.get('region')}: "
        f"v{event.get('from_version')} → v{event.get('to_version')}.",
    )
    return 0


def cmd_resolve(client: Client, args) -> int:
    answer = client.resolve(args.feature, args.region, args.environment, use_cache=False)
    model = answer.get("model") or {}
    line = (
        f"{(answer.get('feature') or {}).get('slug')} in {answer.get('region')} ({answer.get('environment')}): "
        f"v{(answer.get('version') or {}).get('number')} serves with {model.get('vendor')}/{model.get('identifier')} "
        f"({answer.get('route')})"
    )
    if answer.get("frozen"):
        line += "; promotions frozen"
    if answer.get("warnings"):
        line += f"; {len(answer['warnings'])} warning{'s' if len(answer['warnings']) != 1 else ''}"
    emit(args, answer, f"{line}; decision {answer.get('decision')}")
    return 0


def cmd_decision(client: Client, args) -> int:
    if (args.token is None) == (args.request_id is None):
        raise GatehouseError(None, "usage", "Give a decision token, or --request-id ID (not both).")
    if args.token is not None:
        answer = client.decision(args.token)
        version = f"v{answer['version']}" if answer.get("version") is not None else "no version"
        model = f" with {answer['model']}" if answer.get("model") else ""
        history = "matches the history" if answer.get("matches_history") else "does NOT match the history"
        live = "still live" if answer.get("still_live") else "no longer live"
        emit(
            args,
            answer,
            f"{answer.get('outcome')}: {answer.get('feature')} {version} in {answer.get('region')} "
            f"({answer.get('environment')}){model} at {answer.get('decided_at')}; {history}; {live}.",
        )
        return 0
    records = client.decisions_for(args.request_id)
    if args.json:
        _print_json(records)
    elif not records:
        print(f"No decision is recorded for request id {args.request_id}.")
    else:
        for record in records:
            print(
                f"{record.get('request_id')}: {'served' if record.get('served') else 'refused'} "
                f"{record.get('feature')} v{record.get('version')} in {record.get('region')} "
                f"({record.get('environment')}) at {record.get('decided_at')}; decision {record.get('decision')}"
            )
    return 0


# --- The parser ----------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as ``usage: detail`` (exit status 2) like every other error."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"usage: {message}\n")


def _positive(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    # --url and --json are taken before or after the command: the commands' copies default to SUPPRESS, so
    # they leave a value given before the command alone.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", default=argparse.SUPPRESS, help="Gatehouse's address (default: the GATEHOUSE_URL variable)"
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the API's answer as JSON on stdout"
    )

    parser = _Parser(
        prog="gatehouse",
        description="The Gatehouse API for CI pipelines. The API token comes from the GATEHOUSE_TOKEN variable.",
        epilog=_exit_code_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="Gatehouse's address (default: the GATEHOUSE_URL variable)")
    parser.add_argument("--json", action="store_true", help="print the API's answer as JSON on stdout")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    def command(group, name: str, help_text: str, run=None) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help_text, description=help_text, parents=[common])
        if run is not None:
            sub.set_defaults(run=run)
        return sub

    def version_options(sub, *, required: bool = True):
        what = "" if required else " (for evaluations that do not name theirs)"
        sub.add_argument("--feature", metavar="SLUG", help=f"the feature's slug{what}")
        sub.add_argument(
            "--version", type=int, metavar="NUMBER", help="the version's number within the feature (with --feature)"
        )
        sub.add_argument(
            "--version-id", type=int, metavar="ID", help="the version's id (instead of --feature and --version)"
        )

    def idempotency(sub):
        sub.add_argument(
            "--idempotency-key",
            metavar="KEY",
            help="send this Idempotency-Key (default: a new one per call); a re-run with the same key and "
            "the same input gets the first answer and writes nothing",
        )

    def waiting(sub):
        sub.add_argument(
            "--timeout", type=_positive, default=600.0, metavar="SECONDS", help="seconds to wait (default 600)"
        )
        sub.add_argument(
            "--interval", type=_positive, default=15.0, metavar="SECONDS", help="seconds between polls (default 15)"
        )

    version = command(commands, "version", "create and submit versions")
    version_commands = version.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    create = command(version_commands, "create", "create a draft version of a feature", cmd_version_create)
    create.add_argument("--feature", help="the feature's slug (with --from-mlflow: only when the model feeds several)")
    create.add_argument(
        "--from-mlflow",
        metavar="MODEL_URI",
        help="import models:/NAME/N through its MLflow link instead: lineage and mapped metrics as evaluations",
    )
    create.add_argument("--model", help="the primary model: its id, or vendor/identifier")
    create.add_argument(
        "--fallback-model", action="append", help="a fallback model (id or vendor/identifier); repeat, in order"
    )
    create.add_argument("--prompt", help="the prompt version: its id, name@version, or name (newest)")
    create.add_argument("--policy-pack", help="the policy pack: its id, name@version, or name (newest)")
    create.add_argument("--summary", help="the change summary: why this version")
    create.add_argument("--parent", type=int, help="the number of the version this one derives from")
    create.add_argument("--tools", help='JSON list (or @file): [{"name": "claims.read", "scopes": ["read"]}, ...]')
    create.add_argument("--parameters", help='JSON object (or @file): {"temperature": 0.0, "max_tokens": 600}')
    create.add_argument("--dataset", action="append", help="a dataset link ID:USAGE (e.g. 12:evaluation); repeat")
    create.add_argument("--retrieval-index", help="the retrieval index's name")
    idempotency(create)

    submit = command(version_commands, "submit", "submit a draft: it becomes immutable", cmd_version_submit)
    version_options(submit)
    idempotency(submit)

    evaluations = command(commands, "evaluations", "record evidence")
    evaluation_commands = evaluations.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    record = command(
        evaluation_commands,
        "record",
        "record evaluations from JSON (a list of evaluation objects) or JUnit XML results files",
        cmd_evaluations_record,
    )
    record.add_argument("files", nargs="+", metavar="FILE", help="a .json or JUnit .xml file; - reads stdin")
    record.add_argument(
        "--format", choices=["auto", "json", "junit"], default="auto", help="the files' format (default: by content)"
    )
    version_options(record, required=False)
    record.add_argument("--kind", help="the evaluation kind, where the file gives none (e.g. safety)")
    record.add_argument("--suite", help="the suite, where the file gives none")
    record.add_argument("--run-at", help="when it ran (ISO 8601), where the file gives none (default: now)")
    record.add_argument("--artifact-url", help="a link to the run's artifacts, where the file gives none")
    idempotency(record)

    gate = command(commands, "gate", "request a gate and wait for its decision")
    gate_commands = gate.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    request = command(gate_commands, "request", "request the gate for a submitted version", cmd_gate_request)
    version_options(request)
    request.add_argument("--environment", required=True, choices=["sandbox", "production"])
    request.add_argument("--region", action="append", required=True, help="a region's code; repeat for more")
    request.add_argument("--note", default="", help="a note for the reviewers")
    request.add_argument("--wait", action="store_true", help="wait until the request is approved, rejected or expired")
    waiting(request)
    idempotency(request)

    wait = command(gate_commands, "wait", "wait for a gate request's decision", cmd_gate_wait)
    wait.add_argument("request_id", type=int, metavar="REQUEST_ID")
    waiting(wait)

    promote = command(commands, "promote", "promote an approved gate request", cmd_promote)
    promote.add_argument("request_id", type=int, metavar="REQUEST_ID")
    promote.add_argument("--reason", default="", help="why now (kept in the history)")
    idempotency(promote)

    rollback = command(commands, "rollback", "return to a version that served there before", cmd_rollback)
    rollback.add_argument("--feature", required=True, help="the feature's slug")
    rollback.add_argument("--environment", required=True, choices=["sandbox", "production"])
    rollback.add_argument("--region", required=True, help="the region's code")
    rollback.add_argument("--reason", required=True, help="why (kept in the history)")
    rollback.add_argument("--to-version", type=int, help="the version number (default: the last good one there)")
    idempotency(rollback)

    resolve = command(commands, "resolve", "which configuration serves a feature in a region", cmd_resolve)
    resolve.add_argument("--feature", required=True, help="the feature's slug")
    resolve.add_argument("--region", required=True, help="the region's code")
    resolve.add_argument("--environment", default="production", choices=["sandbox", "production"])

    decision = command(commands, "decision", "look up a decision token, or your request id's", cmd_decision)
    decision.add_argument("token", nargs="?", metavar="TOKEN", help="a decision token from resolve")
    decision.add_argument("--request-id", help="your request id, as recorded in the decision ledger")
    return parser


# --- Main ----------------------------------------------------------------------------------------------


def fail(args, error: GatehouseError) -> int:
    """``code: detail`` on stderr; with ``--json``, the error object on stdout too (the API's error answer,
    e.g. a refused resolve with its explanation), unless the command printed its answer already."""
    if getattr(args, "json", False) and not getattr(error, "printed", False):
        body = error.body if isinstance(error.body, dict) and "code" in error.body else {}
        _print_json(body or {"code": error.code, "detail": error.detail})
    print(f"{error.code}: {describe(error)}", file=sys.stderr, flush=True)
    return exit_status(error.code, error.status)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        url = args.url or os.environ.get("GATEHOUSE_URL", "").strip()
        if not url:
            raise GatehouseError(None, "usage", "Give Gatehouse's address: --url URL, or set GATEHOUSE_URL.")
        token = os.environ.get("GATEHOUSE_TOKEN", "").strip()
        if not token:
            raise GatehouseError(
                None,
                "not_authenticated",
                "Set GATEHOUSE_TOKEN to an API token (e.g. with the read and ci_write scopes).",
            )
        client = Client(url, token, timeout=30.0, cache_seconds=0)
        return args.run(client, args)
    except GatehouseError as error:
        return fail(args, error)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
