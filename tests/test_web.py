"""The patient wallet page in a real browser: headless Chromium (Debian's, never downloaded) driven
by Playwright, with an injected EIP-1193 provider that forwards to a test anvil, which signs
transactions and typed data for its dev accounts. Every click is checked against the chain."""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from medledger.identity import identity_commitment
from medledger.chain import free_port
from medledger.relay import RelayPolicy, relay_server
from medledger.types import RecordCategory
from medledger.web import web_server
from tests.conftest import own_anvil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: CI sets this: there a missing browser is a failure, not a reason to skip.
REQUIRE_BROWSER = os.environ.get("MEDLEDGER_REQUIRE_BROWSER") == "1"

INJECTED_WALLET = """
window.ethereum = {
  isMedledgerTestWallet: true,
  async request({ method, params }) {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [%(account)r];
    const answer = await fetch(%(node)r, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: Date.now(), method, params: params || [] }),
    });
    const reply = await answer.json();
    if (reply.error) {
      const error = new Error(reply.error.message);
      error.code = reply.error.code;
      error.data = reply.error.data;
      throw error;
    }
    return reply.result;
  },
  on() {}, removeListener() {},
};
"""


@pytest.fixture
def anvil_suite():
    with own_anvil() as suite:
        yield suite


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if REQUIRE_BROWSER:
            pytest.fail("Chromium is not installed (Debian package `chromium`), and MEDLEDGER_REQUIRE_BROWSER=1")
        pytest.skip("no Chromium on this machine: `apt-get install chromium` to run the wallet page test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


def wait_status(page, text: str | re.Pattern[str]) -> str:
    status = page.get_by_test_id("status")
    status.filter(has_text=text).wait_for(timeout=60_000)
    return status.inner_text()


def test_register_grant_revoke_and_a_relayed_signed_grant_in_a_browser(anvil_suite, browser, tmp_path):
    suite = anvil_suite
    actors = suite.actors
    patient = actors.outsider  # a dev account: anvil signs for it
    ledger = suite.ledger(actors.admin)
    w3 = suite.chain.w3
    page_port = free_port()  # the relay answers (CORS) only the page's own origin
    policy = RelayPolicy(allow_origins=(f"http://127.0.0.1:{page_port}",))
    with relay_server(ledger.using(actors.hospital), port=0, policy=policy) as relay, \
            web_server(ledger, port=page_port, relay_url=relay.url) as web:  # fmt: skip
        page = browser.new_context(accept_downloads=True).new_page()
        page.add_init_script(INJECTED_WALLET % {"account": patient.address, "node": suite.chain.node.url})
        page.goto(web.url + "/")
        page.click("#connect")
        wait_status(page, "Connected.")
        assert page.get_by_test_id("account").inner_text() == patient.address

        # Register: only the salted commitment goes on chain, and it is medledger.identity's.
        page.fill("input[name=name]", "  Ada   LOVELACE ")
        page.fill("input[name=birth_date]", "1815-12-10")
        page.click("#register")
        wait_status(page, "Registering: done")
        assert ledger.patients.is_registered(patient.address)
        assert not page.locator("#register-form").is_visible()
        with page.expect_download() as download:
            page.click("#secrets")
        secrets = json.loads(Path(download.value.path()).read_text())
        expected = identity_commitment({"name": "Ada Lovelace", "birth_date": "1815-12-10"}, bytes.fromhex(secrets["identity_salt"][2:]))
        assert ledger.patients.contract.functions.identityCommitment(patient.address).call() == expected

        # Grant by transaction, then revoke from the grants table.
        page.fill("input[name=grantee]", actors.doctor.address)
        page.fill("input[name=categories]", "labs, imaging")
        page.click("#grant-tx")
        wait_status(page, "Granting: done")
        grant = ledger.consent.grant_of(patient.address, actors.doctor.address)
        assert grant.categories == [RecordCategory.LABS, RecordCategory.IMAGING] and grant.exists
        assert actors.doctor.address in page.get_by_test_id("grants").inner_text()
        page.click(f"button[data-grantee='{actors.doctor.address}']")
        wait_status(page, re.compile(r"Revoking .+: done"))  # not the grant's "done" still shown
        assert not ledger.consent.grant_of(patient.address, actors.doctor.address).exists

        # A mistake is named on the page, and nothing is sent.
        page.fill("input[name=categories]", "x-rays")
        page.click("#grant-tx")
        assert 'unknown record category "x-rays"' in wait_status(page, "refused")

        # Sign a grant (eth_signTypedData_v4) and let the relayer send it: the patient pays nothing.
        sent_by_patient = w3.eth.get_transaction_count(patient.address)
        nonce = ledger.consent.nonce(patient.address)
        page.fill("input[name=grantee]", actors.nurse.address)
        page.fill("input[name=categories]", "labs")
        page.click("#grant-signed")
        assert "the relayer paid" in wait_status(page, "relayed in block")
        assert ledger.consent.grant_of(patient.address, actors.nurse.address).exists
        assert ledger.consent.nonce(patient.address) == nonce + 1  # the signature's nonce is used up
        assert w3.eth.get_transaction_count(patient.address) == sent_by_patient

        # An emergency read shows up highlighted in the access history.
        as_patient = ledger.using(patient)
        record = b"\x5a" * 32
        as_patient.records.anchor(patient.address, RecordCategory.LABS, record, "vault://browser-test")
        doctor = ledger.using(actors.doctor)
        doctor.access.open_break_glass(patient.address, reason_code=4, duration=600)
        doctor.access.log_read(record)
        page.click("#connect")
        wait_status(page, "Connected.")
        highlighted = page.locator("[data-testid=history] tr.break-glass")
        assert highlighted.count() == 2
        assert "BreakGlassOpened" in highlighted.nth(0).inner_text()
        assert "under BREAK-GLASS" in highlighted.nth(1).inner_text()
        # grant, revoke, relayed grant, break-glass opened, emergency read
        assert page.locator("[data-testid=history] tbody tr").count() == 5
        assert "0x" + record.hex()[:16] in page.get_by_test_id("records").inner_text()
        shot = tmp_path / "wallet-page.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000


def test_the_page_server_names_bad_requests(anvil_suite):
    ledger = anvil_suite.ledger(anvil_suite.actors.admin)
    with web_server(ledger, port=0) as web:
        with urllib.request.urlopen(web.url + "/config.json") as answer:
            config = json.loads(answer.read())
        assert config["chainId"] == 31337 and set(config["contracts"]) == {"PatientRegistry", "ConsentManager", "RecordRegistry"}
        for query, message in (("patient=0x12&grantee=0x12&categories=labs&days=3", "not an Ethereum address"),
                               ("grantee=0x12&categories=labs&days=3", "missing patient"),
                               (f"patient={anvil_suite.actors.outsider.address}&grantee={anvil_suite.actors.doctor.address}"
                                "&categories=labs&days=0", "days must be 1 to 3650")):  # fmt: skip
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{web.url}/api/grant-typed-data?{query}")
            assert refused.value.code == 400 and message in json.loads(refused.value.read())["error"]


def test_the_page_server_sends_no_cors_and_drops_slow_clients(world, ml):
    """The page is served from its own origin, so other sites get no CORS answer; a client that
    sends nothing is dropped after the timeout while others are served (the pool is bounded)."""
    import socket
    import time

    with web_server(ml.admin, port=0, workers=1, timeout=0.5) as web:
        silent = socket.create_connection(web.httpd.server_address[:2])  # holds the only worker
        started = time.monotonic()
        request = urllib.request.Request(web.url + "/config.json", headers={"Origin": "https://evil.example"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200 and answer.headers["Access-Control-Allow-Origin"] is None
        silent.settimeout(10)
        assert silent.recv(1) == b""
        assert time.monotonic() - started < 3
        silent.close()


def test_both_servers_answer_only_requests_addressed_to_them(world, ml):
    """DNS rebinding: a page of another site rebinds its own name to 127.0.0.1, and its requests
    then carry that name as Host. Both servers answer only their loopback address and port, or a
    configured public name: anything else (or no Host) is a 421 before anything is read or asked."""
    import http.client

    def ask(server, path: str, host: str | None, method: str = "GET") -> tuple[int, dict]:
        connection = http.client.HTTPConnection(*server.httpd.server_address[:2], timeout=10)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            if host is not None:
                connection.putheader("Host", host)
            connection.putheader("Origin", "http://127.0.0.1:8600")
            connection.endheaders()
            answer = connection.getresponse()
            body = answer.read()
            return answer.status, json.loads(body) if body else {}
        finally:
            connection.close()

    with web_server(ml.admin, port=0, public_names=["Wallet.Hospital.example"]) as web, \
            relay_server(ml.outsider, port=0, public_names=["relay.hospital.example:443"]) as relay:  # fmt: skip
        for server, path, public in ((web, "/config.json", "wallet.hospital.example"),
                                     (relay, "/health", "relay.hospital.example:443")):  # fmt: skip
            port = server.httpd.server_address[1]
            for good in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}", public):
                assert ask(server, path, good)[0] == 200, good
            for bad in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", "127.0.0.1", f"127.0.0.2:{port}",
                        f"localhost.evil.example:{port}", f"[::1]:{port}@evil", "", None):  # fmt: skip
                status, answer = ask(server, path, bad)
                assert status == 421 and answer["code"] == "wrong_host", (bad, status, answer)
            assert ask(server, path, "relay.hospital.example:8443" if server is relay else "evil.example:443")[0] == 421
            assert ask(server, path, f"evil.example:{port}", "OPTIONS")[0] == 421  # no CORS preflight either
        assert ask(web, "/config.json", "wallet.hospital.example:8080")[0] == 200  # a name without a port: any port


def test_a_public_name_must_be_a_host_name():
    from medledger.errors import ConfigurationError
    from medledger.web import parse_public_names

    assert parse_public_names(["Relay.Example:443", "wallet.example"]) == {("relay.example", 443), ("wallet.example", None)}
    for wrong in ("https://relay.example", "relay.example/relay", "relay.example:http", "relay.example:0", ":443", ""):
        with pytest.raises(ConfigurationError, match="a public name is a host name"):
            parse_public_names([wrong])
