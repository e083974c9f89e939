"""The user's own pages on the same loopback address: overview and pairing approval.

Server-rendered with Jinja autoescape, so every captured name and text is shown as text. Forms
carry a CSRF token, and check_request has already refused cross-site posts.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

dashboard = Blueprint("dashboard", __name__)


def services():
    return current_app.extensions["cloutlens"]


def csrf_token() -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"dashboard-form", hashlib.sha256).hexdigest()


def check_csrf():
    if not hmac.compare_digest(request.form.get("csrf", ""), csrf_token()):
        abort(400)


@dashboard.app_context_processor
def inject_csrf():
    return {"csrf_token": csrf_token}


@dashboard.get("/")
def overview():
    s = services()
    with s.lock:
        top = s.scorer.ranking(limit=50)
        items = s.store.count_items()
    return render_template("overview.html", top=top, items=items, data_dir=s.store.data_dir,
                           pending=s.pairing.pending())


@dashboard.get("/pair")
def pair():
    s = services()
    return render_template("pair.html", pending=s.pairing.pending(), clients=s.pairing.clients())


@dashboard.post("/pair/<request_id>")
def pair_decide(request_id):
    check_csrf()
    approve = request.form.get("decision") == "approve"
    if services().pairing.decide(request_id, approve) is None:
        abort(404)
    return redirect(url_for("dashboard.pair"), code=303)
