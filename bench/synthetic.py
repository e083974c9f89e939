"""Synthetic item streams for the scoring benchmark: power-law degrees, stored-form items."""
from __future__ import annotations

import numpy as np

SITES = ["news.ycombinator.com", "www.reddit.com", "blog.example", "mastodon.social"]
TEXTS = ["Great post, thanks!", "I disagree, this is wrong.", "Interesting read.", "Good point about #python",
         "You are an idiot and this is garbage.", "Happy birthday!", "ok", "Thanks for sharing this #klout",
         "Not sure about that.", "Love it"]


def make_items(n_interactions: int, n_identities: int, seed: int = 7, now: float = 1_795_305_600.0):
    """About n_interactions interactions (comments and replies, plus ~10% with a mention) among
    n_identities people. Popularity and activity are Pareto-distributed (power-law degrees)."""
    rng = np.random.default_rng(seed)
    pop = rng.pareto(1.1, n_identities) + 1.0
    act = rng.pareto(1.5, n_identities) + 1.0
    pop /= pop.sum()
    act /= act.sum()
    n_comments = int(n_interactions / 1.1)
    site_of = rng.integers(0, len(SITES), n_identities)
    handles = [f"user{i}" for i in range(n_identities)]
    authors = [{"handle": h, "name": h, "url": None} for h in handles]  # shared, read-only
    # posts: one per popular author, enough to hold the comments
    n_posts = max(1, n_comments // 20)
    post_author = rng.choice(n_identities, n_posts, p=pop)
    days_ago = rng.uniform(0, 95, n_comments)
    actors = rng.choice(n_identities, n_comments, p=act)
    on_post = rng.integers(0, n_posts, n_comments)
    is_reply = rng.random(n_comments) < 0.4
    mention = np.where(rng.random(n_comments) < 0.1, rng.choice(n_identities, n_comments, p=pop), -1)
    reacts = np.where(rng.random(n_comments) < 0.2, rng.integers(1, 50, n_comments), 0)
    text_ix = rng.integers(0, len(TEXTS), n_comments)
    items = []
    iso = lambda ts: np.datetime_as_string(np.datetime64(int(ts), "s")) + "Z"
    post_site = site_of[post_author]
    for p in range(n_posts):
        a = int(post_author[p])
        items.append({"site": SITES[post_site[p]], "id": f"p{p}", "kind": "post", "parent": None,
                      "author": authors[a], "at": iso(now - 100 * 86400), "text": "A post",
                      "url": None, "reactions": {}, "mentions": []})
    last_comment_on_post = {}
    stamps = now - days_ago * 86400
    at_text = [x + "Z" for x in np.datetime_as_string(stamps.astype("int64").astype("datetime64[s]")).tolist()]
    on_post_l, actors_l, is_reply_l, mention_l, reacts_l, text_l = (
        on_post.tolist(), actors.tolist(), is_reply.tolist(), mention.tolist(), reacts.tolist(), text_ix.tolist())
    for i in range(n_comments):
        p = on_post_l[i]
        parent = f"p{p}"
        if is_reply_l[i] and p in last_comment_on_post:
            parent = last_comment_on_post[p]
        cid = f"c{i}"
        last_comment_on_post[p] = cid
        m = mention_l[i]
        items.append({"site": SITES[post_site[p]], "id": cid, "kind": "comment", "parent": parent,
                      "author": authors[actors_l[i]], "at": at_text[i], "text": TEXTS[text_l[i]],
                      "url": None, "reactions": {"like": reacts_l[i]} if reacts_l[i] else {},
                      "mentions": [handles[m]] if m >= 0 else []})
    return items
