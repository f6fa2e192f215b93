"""Screenshots of a running Gatehouse in headless Debian Chromium.

    python scripts/screenshot.py OUT.png [--base http://127.0.0.1:8000] [--user ml] [--path /features/]
    python scripts/screenshot.py OUTDIR --tour   # one PNG per main page, for a visual review

Signs in with the demo password (DEMO_PASSWORD, default gatehouse-demo).
"""

import argparse
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

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
TOUR = [
    "/",
    "/features/",
    "/features/claims-triage/",
    "/features/claims-triage/versions/1/",
    "/features/claims-triage/diff/",
    "/catalog/models/",
    "/catalog/prompts/",
    "/catalog/policies/",
    "/catalog/datasets/",
    "/catalog/vendors/",
    "/audit/",
    "/tokens/",
    "/features/new/",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="product")
    parser.add_argument("--path", default="/features/")
    parser.add_argument("--tour", action="store_true")
    parser.add_argument("--full-page", action="store_true")
    options = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 860})
        page.goto(f"{options.base}/accounts/login/")
        page.fill("#id_username", options.user)
        page.fill("#id_password", os.environ.get("DEMO_PASSWORD", "gatehouse-demo"))
        page.click("button[type=submit]")
        page.wait_for_selector("header.topbar")
        paths = TOUR if options.tour else [options.path]
        for path in paths:
            page.goto(options.base + path, wait_until="networkidle")
            if options.tour:
                Path(options.out).mkdir(parents=True, exist_ok=True)
                name = path.strip("/").replace("/", "_") or "home"
                target = Path(options.out) / f"{options.user}-{name}.png"
            else:
                target = Path(options.out)
            page.screenshot(path=str(target), full_page=options.full_page or options.tour)
            print(target)
        browser.close()


if __name__ == "__main__":
    main()
