"""A contributor's session survives a restart of the service: a real server, stopped and started on one folder."""

import re

import httpx
from conftest import SERVICE_SETTINGS, start_service, stop


def test_a_signed_in_contributor_stays_signed_in_across_a_restart(tmp_path):
    settings = {**SERVICE_SETTINGS, "POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_QUERY_WORKERS": "0"}
    process, url = start_service(tmp_path, **settings)
    try:
        with httpx.Client(base_url=url, timeout=60) as browser:
            csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/signin").text).group(1)
            signed = browser.post("/signin", data={"csrf": csrf, "token": "contributor-token-alice", "next": "/"})
            assert signed.status_code == 303
            cookie = browser.cookies["policykg_session"]
    finally:
        stop(process)
    assert (tmp_path / "store.sessions").is_file()
    assert cookie.encode() not in (tmp_path / "store.sessions").read_bytes()
    process, url = start_service(tmp_path, **settings)
    try:
        with httpx.Client(base_url=url, timeout=60, cookies={"policykg_session": cookie}) as browser:
            page = browser.get("/contribute")
            assert "Signed in as" in page.text and "alice" in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            assert browser.post("/signout", data={"csrf": csrf}).status_code == 303
        with httpx.Client(base_url=url, timeout=60, cookies={"policykg_session": cookie}) as replay:
            assert "Signed in as" not in replay.get("/contribute").text  # the old cookie opens nothing now
    finally:
        stop(process)
