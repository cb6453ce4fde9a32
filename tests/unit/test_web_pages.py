"""The web app's small decisions: languages, the session's cookies, where a form may send
the browser, and what Today shows first."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import jwt

from services.web.i18n import Language, choose, load_languages
from services.web.pages import due_day, safe_next
from services.web.session import BrowserSession, claims_of
from services.web.today import today

KEY = "a-test-key-of-thirty-two-bytes-at-least"  # only decoded, never verified
LANGUAGES = {"en": Language("en", "English", {}),
             "ru": Language("ru", "Русский", {"Today": "Сегодня"}),
             "kk": Language("kk", "Қазақ тілі", {})}


def test_the_language_picked_wins_then_the_browser_s_first_we_have_then_the_default():
    assert choose(LANGUAGES, chosen="kk", accept_language="ru", default="en").code == "kk"
    assert choose(LANGUAGES, chosen=None, accept_language="de-DE,ru-RU;q=0.8,en;q=0.5",
                  default="en").code == "ru"
    assert choose(LANGUAGES, chosen="xx", accept_language="de, fr;q=0.9",
                  default="en").code == "en"
    assert choose(LANGUAGES, chosen=None, accept_language="ru;q=0, en;q=0.1",
                  default="kk").code == "en"


def test_an_untranslated_message_shows_in_english():
    assert LANGUAGES["ru"].gettext("Today") == "Сегодня"
    assert LANGUAGES["ru"].gettext("Cases") == "Cases"


def test_a_language_is_added_by_dropping_its_po_file_in_the_directory(tmp_path: Path):
    (tmp_path / "kk.po").write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Today"\nmsgstr "Бүгін"\n\n#, fuzzy\nmsgid "Cases"\nmsgstr "Істер?"\n',
        encoding="utf-8")
    languages = load_languages(tmp_path)
    assert sorted(languages) == ["en", "kk"]
    assert languages["kk"].gettext("Today") == "Бүгін"
    assert languages["kk"].gettext("Cases") == "Cases"  # fuzzy: not trusted yet
    assert languages["kk"].name.lower().startswith("қазақ")


def test_a_form_may_send_the_browser_only_to_a_path_of_this_site():
    assert safe_next("/cases?page=2") == "/cases?page=2"
    for elsewhere in ("https://evil.example", "//evil.example/x", "/\\evil.example", "", None,
                      "javascript:alert(1)"):
        assert safe_next(elsewhere) == "/"


def test_the_csrf_token_must_repeat_the_cookie():
    browser = BrowserSession("a", "r", "token-1")
    assert browser.csrf_matches("token-1")
    assert not browser.csrf_matches("token-2") and not browser.csrf_matches(None)
    assert not BrowserSession("a", "r", None).csrf_matches("")


def test_a_token_close_to_expiry_is_renewed_and_a_garbled_one_is_no_one():
    soon = jwt.encode({"sub": "caseworker-1", "role": "caseworker", "team": "t",
                       "exp": int(time.time()) + 10}, KEY, algorithm="HS256")
    later = jwt.encode({"sub": "caseworker-1", "exp": int(time.time()) + 600}, KEY,
                       algorithm="HS256")
    now = datetime.now(UTC)
    assert claims_of(soon).account == "caseworker-1"
    assert BrowserSession(soon, "r", "c").needs_refresh(now)
    assert not BrowserSession(later, "r", "c").needs_refresh(now)
    assert claims_of("not-a-token") is None
    assert BrowserSession("not-a-token", "r", "c").needs_refresh(now)


def test_a_deadline_is_shown_as_the_last_day_to_answer():
    assert due_day("2025-03-29T00:00:00.000000Z") == "2025-03-28"
    assert due_day("2025-03-29T09:30:00+00:00") == "2025-03-29"
    assert due_day(None) is None


def _alert(alert_id, kind, due_at, **more):
    return {"alert_id": alert_id, "kind": kind, "due_at": due_at, "recipients": ["me"], **more}


def test_today_puts_overdue_first_oldest_first_then_due_soon_silence_and_reprisals():
    sections = today([
        _alert("r1", "reprisal_reported", "2025-04-01"),
        _alert("o2", "overdue", "2025-03-20"), _alert("e1", "escalation", "2025-03-10"),
        _alert("s1", "family_silent", "2025-03-01"), _alert("m1", "reminder", "2025-04-02"),
    ], [_alert("z1", "overdue", "2025-01-01", snoozed_until="2025-05-01",
               acknowledged_by=None),
        _alert("z2", "overdue", "2025-01-01", recipients=["someone-else"])], "me")
    assert [(s.key, [a["alert_id"] for a in s.alerts]) for s in sections] == [
        ("overdue", ["e1", "o2"]), ("due_soon", ["m1"]), ("silent", ["s1"]),
        ("reprisals", ["r1"]), ("set_aside", ["z1"])]


class SingleUseRefresh:
    """A stand-in for the services: a refresh token works once, as accounts' does."""

    def __init__(self) -> None:
        self.refreshed, self.tokens_seen = 0, []

    async def call(self, service, method, path, *, token, **options):
        from services.web.backends import Reply
        await asyncio.sleep(0.01)  # an answer takes a moment, as over the network
        if path == "/sessions/refresh":
            if options["json"]["refresh_token"] != "refresh-1":
                return Reply(401, {"detail": "the session has ended"})
            self.refreshed += 1
            new = jwt.encode({"sub": "caseworker-1", "exp": int(time.time()) + 600}, KEY,
                             algorithm="HS256")
            return Reply(200, {"access_token": new, "refresh_token": "refresh-2",
                               "expires_in": 600})
        self.tokens_seen.append(token)
        return Reply(200, {})


async def test_calls_made_side_by_side_renew_an_expiring_session_once():
    from types import SimpleNamespace

    from services.web.pages import Page

    expiring = jwt.encode({"sub": "caseworker-1", "exp": int(time.time()) + 5}, KEY,
                          algorithm="HS256")
    services = SingleUseRefresh()
    app = SimpleNamespace(state=SimpleNamespace(backends=services,
                                                clock=lambda: datetime.now(UTC)))
    request = SimpleNamespace(app=app, state=SimpleNamespace(), client=None)
    page = Page(request, LANGUAGES["en"], BrowserSession(expiring, "refresh-1", "c"))
    replies = await asyncio.gather(*(page.call("casefile", "GET", f"/cases/{n}")
                                     for n in range(5)))
    assert [r.status for r in replies] == [200] * 5
    assert services.refreshed == 1 and len(set(services.tokens_seen)) == 1
    assert request.state.renewed["refresh_token"] == "refresh-2"
