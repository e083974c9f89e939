"""The user's own pages on the same loopback address: overview, people, a person, settings, data
control, pairing approval, and (in demo mode) demo pages for the extension.

Server-rendered with Jinja autoescape, so every captured name and text is shown as text; nothing
captured ever goes through |safe. Charts are SVG drawn here from numbers, so they need no script
and pass the CSP (no inline styles or scripts). Forms carry a CSRF token, check_request has
already refused cross-site posts, and every POST answers with a 303 (post/redirect/get).
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, make_response, redirect, render_template,
                   request, url_for)

from scoring import model
from scoring.items import ContractError

from . import dashboard_data as data
from .api import SCORES_WAIT, BadRequest, check_identity, stored_settings
from .app import DEFAULT_PORT, utcnow
from .behind import EVERY_ANSWER_SHARDS, items_behind, ranked_behind, shown_fields, with_items
from .copies import of_person as copies_of, score_without
from .pairing import REQUEST_TTL
from .since import since_last
from .wording import counted as count_of

dashboard = Blueprint("dashboard", __name__)

PAGE_SIZE = 50
ITEMS_SHOWN = 300
WRITTEN_SHOWN = 30
ENGAGED_SHOWN = 30
# "and 19 more" under a cut list of the person page (who engages, whom they engage, what they
# wrote, the items behind the score) opens the whole list, a page this long at a time
LIST_PAGE = 500
# The scorer's pseudo-actor for reactions: the page's anonymous audience, not a person to link.
AUDIENCE = "(audience)"


def services():
    return current_app.extensions["cloutlens"]


# Pages that never read the scores: pairing must work while a large store's scores load.
WITHOUT_SCORES = {"dashboard.pair", "dashboard.pair_decide", "dashboard.pair_revoke", "dashboard.export",
                  "dashboard.data_page", "dashboard.demo_page"}


@dashboard.before_request
def wait_for_scores():
    """Views read the scorer under the services lock, which the scorer's first load after a start
    takes to publish its work: a view waiting for it there would hold the load, and with it
    every capture, up forever. So a view waits here, before taking the lock, and a person whose
    wait runs out gets a page that says why and comes back by itself."""
    if request.endpoint in WITHOUT_SCORES or request.endpoint is None:
        return None
    s = services()
    if s.wait_scores(SCORES_WAIT):
        return None
    resp = make_response(render_template(
        "error.html", title="Scores are loading",
        message=f"The server has just started and is computing the scores of {s.store.count_items()} items. "
                "This page reloads in a few seconds; captures are being stored meanwhile."), 503)
    resp.headers["Refresh"] = "5"
    resp.headers["Retry-After"] = "5"
    return resp


def csrf_token() -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"dashboard-form", hashlib.sha256).hexdigest()


STALE_FORM = ("This form was opened before the server restarted, or on a page that is not the "
              "dashboard's: nothing was changed. Go back, reload the page and try again.")


def check_csrf():
    if not hmac.compare_digest(request.form.get("csrf", ""), csrf_token()):
        abort(400, STALE_FORM)


def safe_href(url) -> str | None:
    """Captured URLs go into href only when they are plain web addresses (never javascript:)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


# The folder to load unpacked; an install from a copy (not `pip install -e`) has none beside the package.
EXTENSION_DIR = Path(__file__).resolve().parent.parent / "extension"
_PATH_SAFE = ":@!$&'()*+,;="  # what a path segment may hold as it is; "/" is not among them


def person_url(identity: str) -> str:
    # Encoded whole: url_for leaves a path's "/" as it is, and a captured handle "x/../../settings"
    # then linked to the settings page (the browser resolves the dot segments).
    return f"{url_for('dashboard.overview')}people/{quote(identity, safe=_PATH_SAFE)}"


@dashboard.app_context_processor
def inject_helpers():
    return {"csrf_token": csrf_token, "safe_href": safe_href, "person_url": person_url,
            "demo_mode": bool(current_app.config.get("DEMO")), "model_version": model.VERSION}


def _number(value) -> float | None:
    """A filter's value as a float, None for what is not a number (shown as nothing)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dashboard.app_template_filter("signed")
def signed(value, digits=1):
    v = _number(value)
    if v is None:
        return ""
    text = f"{v:+.{digits}f}"
    # -0.04 would read "-0.0": a change that rounds to nothing has no sign.
    return f"{0:.{digits}f}" if float(text) == 0 else text


@dashboard.app_template_filter("points")
def points(value):
    v = _number(value)
    if v is None:
        return ""
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


@dashboard.app_template_filter("times")
def times(value):
    """A reply's weight, "×6.3" or "×25": two figures are all a reader compares."""
    v = _number(value)
    if v is None or not math.isfinite(v):  # Decimal cannot quantize a NaN
        return ""
    # half up, as the hovercard's toFixed does (Python's format rounds an exact half to even)
    text = str(Decimal(v).quantize(Decimal("0.1") if v < 10 else Decimal("1"), ROUND_HALF_UP))
    return "\u00d7" + (text[:-2] if text.endswith(".0") else text)


dashboard.add_app_template_filter(count_of, "counted")


@dashboard.app_template_filter("topic_names")
def topic_names(result):
    return data.topic_names(result)


@dashboard.app_template_filter("day")
def day(value):
    return (value or "")[:10]


@dashboard.app_template_filter("epoch")
def epoch(value):
    """Epoch seconds (a pairing's time) as a UTC minute."""
    try:
        return datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError, OverflowError, OSError):
        return "an unknown time"


# -- overview --------------------------------------------------------------------------------


@dashboard.get("/")
def overview():
    s = services()
    with s.turns.turn():
        top = s.scorer.ranking(limit=10)
        mine_raw = data.own_identities(s.store)
        own = list(dict.fromkeys(data.canonical(s.store, i) for i in mine_raw))
        own_results = s.scorer.results(own) if own else {}
        index = data.index(s.store)
        names = s.store.names()
        mine = []
        changes = s.store.model_changes()
        for ident in own:
            hist = data.history(s, ident)
            result = own_results.get(ident)
            behind = items_behind(s.store, result, max_shards=EVERY_ANSWER_SHARDS)
            copies = copies_of(s.store, result, behind, ident, s.scorer) if behind is not None else []
            copies = [g for g in copies if not set(g["accounts"]).intersection(mine_raw)]  # yours: not spam
            mine.append({"identity": ident, "name": names.get(ident, ident), "result": result,
                         "stored": ident in names or result is not None,
                         "since": since_last(s.store.history(ident), behind, result, _today(), changes)
                         if behind is not None else None,
                         "chart": data.line_chart(hist, width=420, height=120, model_changes=changes, label=22),
                         "copies": copies and {
                             "accounts": len({a for g in copies for a in g["accounts"]}),
                             "without": score_without(result, sum(g["points"] for g in copies)),
                             "capped": copies[0]["capped"]}})
    s.snapshot({r["identity"]: r["score"] for r in top}
               | {i: r["score"] for i, r in own_results.items() if r})
    volume = sorted(index.by_site.items(), key=lambda kv: (-kv[1], kv[0]))
    return render_template(
        "overview.html", top=top, names=names, mine=mine, items=s.store.count_items(),
        recent=index.recent, volume=volume,
        data_dir=s.store.data_dir, pending=s.pairing.pending(), paired=bool(s.pairing.clients()),
        extension_dir=EXTENSION_DIR if EXTENSION_DIR.is_dir() else None,
        server_url=request.host_url.rstrip("/"), default_port=DEFAULT_PORT,
        on_default_port=request.host.rsplit(":", 1)[-1] == str(DEFAULT_PORT))


# -- people ----------------------------------------------------------------------------------

SORTS = {"score": "Score", "trend": "Trend", "interactions": "Interactions", "people": "People", "name": "Name"}


def _today() -> str:
    return utcnow().strftime("%Y-%m-%d")


def _int_arg(name, default, lo, hi):
    try:
        v = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(lo, min(hi, v))


@dashboard.get("/people")
def people():
    s = services()
    # "anna  rydne" or " anna rydne " is the same search as "anna rydne"
    q = " ".join(request.args.get("q", "").split())[:100]
    site = request.args.get("site", "").strip()[:260]
    topic = request.args.get("topic", "").strip()[:100]
    lo = _int_arg("min", 1, 1, 100)
    hi = _int_arg("max", 100, 1, 100)
    sort = request.args.get("sort", "score")
    if sort not in SORTS:
        sort = "score"
    page = _int_arg("page", 1, 1, 10**6)
    with s.turns.turn():
        # Plain scores for the filters, full results only for the rows shown: a full ranking with
        # every breakdown costs seconds at a few hundred thousand people.
        listed = data.people_page(s, q, site, topic, lo, hi, sort, page, PAGE_SIZE)
    args = {k: v for k, v in {"q": q, "site": site, "topic": topic, "sort": sort,
                              "min": lo if lo != 1 else None, "max": hi if hi != 100 else None}.items() if v}
    return render_template("people.html", q=q, site=site, topic=topic, lo=lo, hi=hi, sort=sort, sorts=SORTS,
                           args=args, **listed)


@dashboard.get("/people/<path:identity>")
def person(identity):
    s = services()
    raw = identity.strip().lower()
    with s.turns.turn():
        # As the API reads it (www., @, spaces, invisible characters), unless a person is stored
        # under the address as given (kept before handles were read that way).
        identity = raw if raw in s.store.names() else (_identity(identity) or raw)
        canon = data.canonical(s.store, identity)
        if canon != identity:
            # An alias has no score of its own: the person it belongs to does.
            return redirect(person_url(canon))
        aliases = data.aliases_of(s.store, identity)
        result = s.scorer.result(identity)
        authored = []
        for who in [identity] + aliases:
            authored.extend(s.store.items_by_author(who))
        if result is None and not authored:
            abort(404, f"Nobody by the identity {identity} is stored.")
        names = s.store.names()
        # Every row behind the score, without its item: the rows shown read theirs below.
        behind = ranked_behind(s.store, result)
        copies = copies_of(s.store, result, behind, identity, s.scorer)
        mine = set(data.own_identities(s.store))
        # What each item gave to whom costs a look-up per item: only for the rows shown.
        wrote_from = _list_from("wrote", len(authored))
        wrote = data.authored_rows(s, authored, WRITTEN_SHOWN if wrote_from is None else LIST_PAGE, start=wrote_from or 0)
        engages = data.engages_with(s.store, authored)
        engages_from = _list_from("engages", len(engages))
        hostile = data.hostile_toward(s, identity, authored)
        by_person = sorted(((result or {}).get("breakdown", {}).get("by_person") or {}).items(),
                           key=lambda kv: (-kv[1], kv[0]))
        listed = _list_from("engaged", len(by_person))
        engaged_by = _cut(by_person, listed, ENGAGED_SHOWN)
        engaging = _cut(engages, engages_from, ENGAGED_SHOWN)
        # only their scores are shown: people=1 leaves out their own breakdowns
        people_scores = s.scorer.results([p for p, _ in engaged_by] + [p for p, _ in engaging], people=1)
        weights = s.scorer.engager_weights(identity) if engaged_by else {}
        group = s.scorer.closed_group(identity) if result else None
        linked = data.linked_identities(s.store)
        counted_from = _list_from("items", len(behind))
        counted = _cut(behind, counted_from, ITEMS_SHOWN)
        with_items(s.store, behind[:8] + counted, shown_fields)  # the moments and the page, read together
        moments = [r for r in behind[:8] if r["item"] is not None]
        counted_before = behind[:counted_from or 0]
        counted_after = behind[(counted_from or 0) + len(counted):]
        own = identity in mine
        hist = data.history(s, identity)
        changes = s.store.model_changes()
        since = since_last(s.store.history(identity), behind, result, _today(), changes)
    if result is not None:
        s.snapshot({identity: result["score"]})
    name = names.get(identity) or (authored[0]["author"]["name"] if authored else identity)
    breakdown = (result or {}).get("breakdown") or {}
    return render_template(
        "person.html", identity=identity, name=name, result=result,
        chart=data.line_chart(hist, model_changes=changes), since=since,
        history=hist, kinds=data.shares(breakdown.get("by_kind")), sites=data.shares(breakdown.get("by_site")),
        topics=data.topic_rows(result), moments=moments,
        engaged_by=engaged_by, engaged_by_total=len(by_person), engaged_from=listed,
        list_page=LIST_PAGE, engaged_shown=ENGAGED_SHOWN, engages=engaging, engages_total=len(engages),
        engages_from=engages_from, people_scores=people_scores, weights=weights, names=names,
        reply_weight=model.reply_weight(result["standing"]) if result else 1.0,
        counted=[r for r in counted if r["item"] is not None],
        counted_total=len(behind), counted_from=counted_from, items_shown=ITEMS_SHOWN,
        # so that what is listed, what comes before and what comes after add up to the score
        counted_before=sum(m["points"] for m in counted_before), counted_rest=sum(m["points"] for m in counted_after),
        hostile=hostile, wrote=wrote, wrote_from=wrote_from, written_shown=WRITTEN_SHOWN,
        authored=len(authored), aliases=aliases, own=own,
        audience=AUDIENCE, copies=copies, mine=mine, copy_min_words=model.COPY_MIN_WORDS,
        group=group and {"accounts": sorted(group["accounts"].items(), key=lambda kv: (-kv[1], kv[0])),
                         "interactions": group["interactions"]},
        linked=linked)


def _list_from(name: str, total: int, size: int | None = None) -> int | None:
    """Where the page of the full list `name` starts (`?engaged=N`, on a page boundary), or None
    for its first few only. Pages are LIST_PAGE long unless `size` says otherwise."""
    given = request.args.get(name)
    if given is None:
        return None
    size = size or LIST_PAGE  # read at each call, not bound once as a default
    start = int(given) if given.isdigit() else 0
    return min(start, max(0, total - 1)) // size * size


def _cut(rows: list, start: int | None, shown: int) -> list:
    """The page of the full list that starts at `start`, or the first `shown` rows."""
    return rows[start:start + LIST_PAGE] if start is not None else rows[:shown]


# -- settings --------------------------------------------------------------------------------


@dashboard.get("/settings")
def settings():
    s = services()
    with s.turns.turn():
        current = stored_settings(s.store)
        own = data.own_identities(s.store)
        sites = sorted(data.index(s.store).by_site)
    return render_template("settings.html", form=data.settings_form(current, own), errors={}, sites=sites)


@dashboard.post("/settings")
def settings_save():
    check_csrf()
    s = services()
    parsed, errors = data.parse_settings_form(request.form)
    if errors:
        form = {k: request.form.get(k, "") for k in ("own", "site_weights", "topics", "horizon_days")}
        with s.turns.turn():
            sites = sorted(data.index(s.store).by_site)
        return render_template("settings.html", form=form, errors=errors, sites=sites), 400
    with s.turns.turn():
        merged = stored_settings(s.store)
        merged.update(parsed["settings"])
        data.save_settings(s, merged, parsed["own"])
        # Kept (the user may set them up before any capture), but a typo would otherwise go unseen.
        unknown = [i for i in parsed["own"] if not _stored(s, i)]
    flash("Settings saved; every score was recomputed with them.")
    if unknown:
        flash(f"Nothing by or about {', '.join(unknown)} is stored yet: check the spelling, or capture a page "
              "where you wrote.", "error")
    return redirect(url_for("dashboard.settings"), code=303)


@dashboard.post("/settings/own")
def own_toggle():
    """"This is me" on a person's page: adds (or removes) the identity from your own."""
    check_csrf()
    identity = _identity_field("identity")
    if identity is None:
        abort(400)
    s = services()
    with s.turns.turn():
        own = data.own_identities(s.store)
        mine = identity not in own
        own = own + [identity] if mine else [i for i in own if i != identity]
        s.store.set_config("own_identities", own)
    flash(f"{identity} is one of your identities: the overview shows it first." if mine
          else f"{identity} is no longer one of your identities.")
    return redirect(person_url(identity), code=303)


# -- data control ----------------------------------------------------------------------------


SUGGESTIONS_SHOWN = 30  # a page of them; the page links to the next


@dashboard.get("/data")
def data_page():
    s = services()
    with s.turns.turn():
        names = s.store.names()
        links = data.links(s.store)
        groups = data.link_groups(s.store)
        suggestions = data.link_suggestions(names, links)
        count = s.store.count_items()
        forgotten = sorted(s.store.get_config("forgotten") or ())
        # Given back after an error (_back_to_data): the identity to forget, with whom it takes along.
        typed = _identity(request.args.get("forget", ""))
        forget_group = s.linked_with(typed) if typed else []
    start = _list_from("from", len(suggestions), SUGGESTIONS_SHOWN) or 0
    return render_template("data.html", groups=groups, suggestions=suggestions[start:start + SUGGESTIONS_SHOWN],
                           page={"start": start, "total": len(suggestions), "size": SUGGESTIONS_SHOWN}, names=names,
                           items=count, people=len(names), forgotten=forgotten,
                           forget_group=forget_group if len(forget_group) > 1 else [],
                           unfinished=s.store.unfinished_import)


def _back_to_data(anchor: str | None = None, **typed):
    """To the data page; `typed`: what the user typed into its forms, given back after an error
    so that it need not be typed again. A form's error is flashed as "error:FORM:FIELD" (FIELD
    the name of the field at fault, "*" for every field, "" for none): data.html shows it inside
    that form (the anchor), tied to its fields (aria-describedby, aria-invalid)."""
    return redirect(url_for("dashboard.data_page", _anchor=anchor, **typed), code=303)


def _stored(s, identity: str) -> bool:
    """Anything by or about the identity is stored: it wrote an item, or others engaged it."""
    return identity in s.store.names() or s.scorer.result(identity) is not None


def _identity(value: str, name: str = "identity") -> str | None:
    try:
        return check_identity(value.strip(), name)
    except BadRequest:
        return None


def _identity_field(name: str) -> str | None:
    return _identity(request.form.get(name, ""), name)


@dashboard.post("/data/link")
def link():
    check_csrf()
    canon = _identity_field("canonical")
    aliases = [_identity(a, "alias") for a in request.form.getlist("alias") if a.strip()]
    typed = {"link_alias": request.form.get("alias", "")[:300], "link_canonical": request.form.get("canonical", "")[:300]}
    if canon is None or not aliases or None in aliases:
        flash("Give two identities as site:handle.", "error:link-form:*")
        return _back_to_data("link-form", **typed)
    s = services()
    with s.turns.turn():
        for ident in [canon] + aliases:
            if not _stored(s, ident):
                flash(f"Nobody by the identity {ident} is stored.", "error:link-form:*")
                return _back_to_data("link-form", **typed)
        for alias in aliases:
            problem = data.link(s, alias, canon)
            if problem:
                flash(problem, "error:link-form:*")
                return _back_to_data("link-form", **typed)
        # Linking to an alias links to its person (data.link): the message names where it went.
        canon = (s.store.get_config("links") or {}).get(canon, canon)
    flash(f"Linked {', '.join(aliases)} to {canon}; scores recomputed.")
    return _back_to_data()


@dashboard.post("/data/unlink")
def unlink():
    check_csrf()
    s = services()
    with s.turns.turn():
        given = request.form.get("alias", "")
        alias = _identity(given, "alias") or given.strip().lower()
        if not data.unlink(s, alias):
            # another tab unlinked it first: nothing to undo
            flash(f"{alias} is not linked to anyone (any more); nothing changed.", "error")
            return _back_to_data()
    flash(f"Unlinked {alias}; scores recomputed.")
    return _back_to_data()


@dashboard.post("/data/forget")
def forget():
    check_csrf()
    identity = _identity_field("identity")
    typed = {"forget": request.form.get("identity", "")[:300]}
    if request.form.get("sure") != "yes":
        flash("Tick the box to confirm: forgetting deletes data.", "error:forget-form:sure")
        return _back_to_data("forget-form", **typed)
    s = services()
    with s.turns.turn():
        if identity is None or not _stored(s, identity):
            flash("Nobody by that identity is stored.", "error:forget-form:identity")
            return _back_to_data("forget-form", **typed)
        # Forgetting takes the identities linked to this one too: only once the form listed
        # them all (the person page does; the data page's typed identity is listed on a second
        # step), and not if the links changed since.
        group = s.linked_with(identity)
        if len(group) > 1 and set(request.form.getlist("linked")) != set(group):
            flash(f"{identity} is linked to {', '.join(i for i in group if i != identity)}: Forget deletes what "
                  f"all {len(group)} wrote. Check them below and press Forget again.", "error:forget-form:")
            return _back_to_data("forget-form", **typed)
        done = s.forget(identity)
        data.invalidate()
    also = [i for i in done["identities"] if i != identity]
    with_them = f" and the identities linked to them ({', '.join(also)})" if also else ""
    flash(f"Forgot {identity}{with_them}: {count_of(done['items_removed'], 'item')} deleted, with their links and history.")
    return _back_to_data()


@dashboard.post("/data/forget-copies")
def forget_copies():
    """Forget accounts of the person's groups of copies (the person page lists them) in one go,
    then go back to that person's page, where the score no longer counts them. Only accounts in
    those groups as they are now: never one the user linked (the groups leave them out), never
    the person, and nothing widened through links."""
    def listed(s, result, back):
        return {a for g in copies_of(s.store, result, ranked_behind(s.store, result), back, s.scorer)
                for a in g["accounts"]}
    return _forget_listed(listed)


@dashboard.post("/data/forget-group")
def forget_group():
    """Forget accounts of the closed group behind the person's score (Scorer.closed_group; the
    person page lists it) in one go. Only accounts in that group as it is now, never one the user
    linked, never the user's own, and nothing widened through links."""
    def listed(s, result, back):
        group = s.scorer.closed_group(back) if result else None
        keep = data.linked_identities(s.store) | set(data.own_identities(s.store))
        return set((group or {}).get("accounts", ())) - keep
    return _forget_listed(listed)


def _forget_listed(listed):
    """The forms that forget some of the accounts a person page lists: `listed(services, result,
    person)` says which may go, read again when the form is posted; anything else refuses all."""
    check_csrf()
    back = _identity_field("back")
    given = request.form.getlist("identity")
    s = services()
    there = redirect(person_url(back), code=303) if back else _back_to_data()
    if request.form.get("sure") != "yes":
        flash("Tick the box to confirm: forgetting deletes data.", "error")
        return there
    if not given:
        flash("Tick the accounts to forget.", "error")
        return there
    if back is None:
        flash("The form names no person; nothing was forgotten.", "error")
        return there
    with s.turns.turn():
        allowed = listed(s, s.scorer.result(back), back)
        picked = [_identity(v) for v in given]
        outside = [g.strip() for g, i in zip(given, picked) if i not in allowed]
        if outside:
            flash(f"{outside[0][:80]} is not among the accounts listed for {back} now; nothing was forgotten.",
                  "error")
            return there
        people = sorted(set(picked))
        removed = s.forget_many(people)
        data.invalidate()
    shown = ", ".join(people[:5]) + (f" and {len(people) - 5} more" if len(people) > 5 else "")
    flash(f"Forgot {count_of(len(people), 'account')} ({shown}): {count_of(removed, 'item')} deleted, with their links "
          "and history.")
    return there


@dashboard.post("/data/remember")
def remember():
    check_csrf()
    given = request.form.get("identity", "")
    # entries are read anew at start; one that names nobody now stays as it was written
    identity = _identity(given) or given.strip()
    s = services()
    with s.turns.turn():
        if not s.remember(identity):
            flash("That identity is not forgotten.", "error")
            return _back_to_data()
        data.invalidate()
    flash(f"{identity} is captured again from now on; others' mentions of them count again.")
    return _back_to_data()


@dashboard.post("/data/export")
def export():
    check_csrf()
    from .exchange import export_chunks
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Response(export_chunks(services()), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="cloutlens-export-{stamp}.json"'})


@dashboard.post("/data/import")
def import_():
    from .exchange import IMPORT_MAX, ImportIncomplete, import_export
    from .jsonstream import NotJSON
    request.max_content_length = IMPORT_MAX
    check_csrf()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose an export file to import.", "error:import-form:file")
        return _back_to_data("import-form")
    # werkzeug keeps an upload over 500 KB in a temporary file: it is read from there as a stream,
    # never whole into memory.
    try:
        outcome = import_export(services(), upload.stream)
    except NotJSON:
        flash("That file is not JSON.", "error:import-form:file")
        return _back_to_data("import-form")
    except ContractError as exc:
        flash(f"Import refused, nothing was stored: {exc}", "error:import-form:file")
        return _back_to_data("import-form")
    except ImportIncomplete as exc:
        data.invalidate()
        flash(f"Import incomplete: {exc}.", "error:import-form:")
        return _back_to_data("import-form")
    data.invalidate()
    n = outcome["items"]
    gone = f" Left out: {count_of(outcome['left_out'], 'item')} by people you forgot." if outcome["left_out"] else ""
    # a file someone else made can forget people here: the user must read that it did
    if outcome["forgotten_here"]:
        here = outcome["forgotten_here"]
        gone += (f" As the file asks, {count_of(len(here), 'person', 'people')} {'was' if len(here) == 1 else 'were'} "
                 f"forgotten here ({', '.join(here[:5])}), {count_of(outcome['items_removed'], 'item')} of "
                 "theirs deleted.")
    added = outcome["history"]["snapshots_added"]
    gone += f" {count_of(added, 'daily score snapshot')} added to the history charts." if added else ""
    # the file's settings replace the ones here: an old backup puts back old settings
    if outcome["settings"]:
        gone += f" Settings taken from the file: {', '.join(outcome['settings'])}."
    if outcome["links"]:
        gone += f" {count_of(outcome['links'], 'link')} taken from the file."
    flash(f"Imported: {count_of(n['added'], 'new item')}, {n['updated']:,} updated, {n['unchanged']:,} already there.{gone}")
    return _back_to_data()


@dashboard.post("/data/delete-all")
def delete_all():
    check_csrf()
    if request.form.get("confirm", "").strip().lower() != "delete everything":
        flash("Type “delete everything” to confirm.", "error:delete-form:confirm")
        return _back_to_data("delete-form")
    s = services()
    with s.turns.turn():
        removed = data.delete_all(s)
    flash(f"All data deleted ({count_of(removed, 'item')}).")
    return _back_to_data()


# -- pairing ---------------------------------------------------------------------------------


@dashboard.get("/pair")
def pair():
    s = services()
    return render_template("pair.html", pending=s.pairing.pending(), clients=s.pairing.clients(),
                           wait_minutes=REQUEST_TTL // 60)


@dashboard.get("/pair/waiting")
def pair_waiting():
    """What the pairing page looks for while it waits (static/pair.js): it reloads once a request
    (or a pairing) is there, rather than every 3 s whatever happens."""
    s = services()
    return {"pending": len(s.pairing.pending()), "clients": len(s.pairing.clients())}


@dashboard.post("/pair/<request_id>")
def pair_decide(request_id):
    check_csrf()
    approve = request.form.get("decision") == "approve"
    if services().pairing.decide(request_id, approve) is None:
        flash("That request is no longer waiting (withdrawn, expired or already answered); nothing changed.", "error")
    else:
        flash("Approved: that extension can send captures now." if approve else "Refused: nothing was paired.")
    return redirect(url_for("dashboard.pair"), code=303)


@dashboard.post("/pair/revoke/<client_id>")
def pair_revoke(client_id):
    check_csrf()
    if not services().pairing.revoke(client_id):
        flash("That pairing is already revoked; nothing changed.", "error")
    else:
        flash("Pairing revoked: that client's token no longer works.")
    return redirect(url_for("dashboard.pair"), code=303)


# -- demo pages for the extension ------------------------------------------------------------

_DEMO_HOST = re.compile(r"^localhost(:\d+)?$")


@dashboard.get("/demo/")
@dashboard.get("/demo/<int:post>")
def demo_page(post=None):
    if not current_app.config.get("DEMO"):
        abort(404)
    # The extension names a site by the page's host; the demo blog is stored as "localhost".
    if not _DEMO_HOST.match(request.host):
        port = request.host.rpartition(":")[2] if ":" in request.host else ""
        return redirect(f"http://localhost{':' + port if port.isdigit() else ''}{request.full_path.rstrip('?')}")
    from .demo import demo_post, demo_posts
    s = services()
    if post is None:
        with s.turns.turn():
            posts = demo_posts(s.store)
        return render_template("demo_index.html", posts=posts)
    with s.turns.turn():
        page = demo_post(s.store, post)
    if page is None:
        abort(404)
    return render_template("demo_post.html", page=page)
