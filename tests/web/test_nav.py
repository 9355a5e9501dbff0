"""The bottom navigation: each role's tabs, and the tab that lights up for the page in hand."""
import re

import pytest

HREF_ACTIVE = re.compile(r'<a href="([^"]+)" class="tab [^"]*active"')
TAB_HREFS = re.compile(r'<a href="([^"]+)" class="tab ')


def tabs(client, path):
    html = client.get(path).get_data(as_text=True)
    return TAB_HREFS.findall(html), HREF_ACTIVE.findall(html)


@pytest.mark.parametrize("who, expected", [
    ("rep", ["/", "/today", "/stores", "/activities/mine", "/profile"]),
    ("supervisor", ["/", "/plan", "/stores", "/activities", "/profile"]),
    ("manager", ["/", "/activities", "/roi", "/stores", "/profile"]),
    ("admin", ["/", "/users", "/stores", "/products", "/profile"]),
])
def test_each_role_has_its_own_tabs(client, org, who, expected):
    hrefs, active = tabs(client.login_as(getattr(org, who)), "/")
    assert hrefs == expected
    assert active == ["/"]


@pytest.mark.parametrize("who, path, lit", [
    ("supervisor", "/plan/week", "/plan"),
    ("supervisor", "/team", "/"),
    ("supervisor", "/visits/flagged", "/"),
    ("admin", "/users/new", "/users"),
    ("admin", "/visit-types", "/"),
    ("rep", "/today", "/today"),
    ("rep", "/stores", "/stores"),
])
def test_the_page_in_hand_lights_one_tab(client, org, who, path, lit):
    _, active = tabs(client.login_as(getattr(org, who)), path)
    assert active == [lit]
