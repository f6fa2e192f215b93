"""Moving around the main navigation as a person does: its menus open before their links are followed."""


def nav_to(page, name: str) -> None:
    """Follow a link of the main navigation, opening the menu (Release, Operate, Govern, yours) that holds it."""
    link = page.locator("#main-nav").get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        # A closed menu's links are hidden, so not found by role: match the link by its text.
        menu = page.locator("#main-nav details").filter(has=page.locator(f"a:text-is('{name}')"))
        menu.locator("summary").click()
    link.click()
    # The click returns once the new page has begun to arrive; its deferred scripts (htmx among them) run only
    # by the load event, and a control used before then would do nothing.
    page.wait_for_load_state("load")


def sign_out(page) -> None:
    """Sign out from the menu under the person's name."""
    page.locator("#main-nav .usermenu > summary").click()
    page.get_by_role("button", name="Sign out").click()
