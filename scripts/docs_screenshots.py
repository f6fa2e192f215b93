"""The documentation's screenshots, taken from a throwaway demo in headless Debian Chromium.

    python scripts/docs_screenshots.py [--out docs/images] [--only support,auditor]

Seeds a demo database in a temporary folder (SQLite, tasks in-process, its own cache and media), serves
it on a free loopback port, signs in as each persona (demo password: DEMO_PASSWORD, default
gatehouse-demo) and saves the pages each guide shows as docs/images/<persona>-<name>.png, 1440 px wide.
Nothing outside the temporary folder and the output folder is touched; the server stops at the end.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTH, HEIGHT = 1440, 900

# Per persona: (file name, path, a link to follow from that page or None). Following a link finds
# objects whose ids the seed does not fix (the first request in a queue, the first incident...).
SHOTS = {
    "product": [
        ("dashboard", "/", None),
        ("access-reviews", "/access-reviews/", None),
        ("feature", "/features/claims-triage/", None),
        ("readiness", "/readiness/features/claims-triage/", None),
        ("requests", "/approvals/requests/", None),
    ],
    "ml": [
        ("version", "/features/claims-triage/versions/3/", None),
        ("diff", "/features/claims-triage/diff/?a=2&b=3", None),
        ("evaluation-form", "/features/claims-triage/versions/3/evaluations/new/", None),
        ("tokens", "/tokens/", None),
    ],
    "security": [
        ("queue", "/approvals/queue/", None),
        ("review", "/approvals/queue/", "main a[href^='/approvals/requests/']"),
    ],
    "legal": [
        ("queue", "/approvals/queue/", None),
    ],
    "support": [
        ("incidents", "/incidents/", None),
        ("incident", "/incidents/", "main a[href^='/incidents/'][href$='/']:not([href='/incidents/new/'])"),
        ("decision", "/decisions/?request_id=demo-req-0001", None),
        ("live-at", "/live-at/?feature=claims-triage&environment=production&region=eu", None),
    ],
    "governance": [
        ("gates", "/approvals/gates/", None),
        ("freshness", "/freshness/", None),
        ("readiness", "/readiness/", None),
        ("vendor", "/catalog/vendors/anthropic/", None),
        ("drill", "/drills/", "main a[href^='/drills/'][href$='/']:not([href='/drills/new/'])"),
        ("access-review", "/access-reviews/", "main .review-campaign-head a"),
    ],
    "auditor": [
        ("audit", "/audit/", None),
        ("reads", "/audit/reads/", None),
        ("packs", "/packs/", None),
        ("pack", "/packs/", "main a[href^='/packs/'][href$='/']"),
        ("access-reviews", "/access-reviews/", None),
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_env(folder: Path, base: str) -> dict:
    return {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "CACHE_URL": f"file://{folder / 'cache'}",
        "MEDIA_ROOT": str(folder / "media"),
        "GATEHOUSE_BASE_URL": base,
    }


def manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError as error:
            if time.monotonic() > deadline:
                raise SystemExit(f"The demo server did not answer at {url}") from error
            time.sleep(0.5)


def shoot(base: str, out: Path, personas: list[str]) -> None:
    password = os.environ.get("DEMO_PASSWORD", "gatehouse-demo")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for persona in personas:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", persona)
            page.fill("#id_password", password)
            page.click("button[type=submit]")
            page.wait_for_selector("header.topbar")
            for name, path, follow in SHOTS[persona]:
                page.goto(base + path, wait_until="networkidle")
                if follow:
                    href = page.locator(follow).first.get_attribute("href")
                    page.goto(base + href, wait_until="networkidle")
                page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
                target = out / f"{persona}-{name}.png"
                page.screenshot(path=str(target))
                print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--only", default="", help="comma-separated personas (default: all)")
    options = parser.parse_args()
    personas = [p for p in options.only.split(",") if p] or list(SHOTS)
    unknown = set(personas) - set(SHOTS)
    if unknown:
        raise SystemExit(f"No shots for {', '.join(sorted(unknown))}; personas: {', '.join(SHOTS)}")
    out = Path(options.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="gatehouse-docs-") as tmp:
        env = demo_env(Path(tmp), base)
        print("Seeding a throwaway demo database...")
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        manage(env, "run_sweep")
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(f"{base}/accounts/login/")
            shoot(base, out, personas)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
