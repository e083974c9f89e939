"""A synthetic data set written for Cloutlens, so a new user sees a full dashboard at once.

Seeded and deterministic for a given seed and end day: several sites, a few hundred people, months
of history with daily score snapshots, and the cases the scorer is built for: a birthday bump (one
day of "happy birthday" replies), a sockpuppet ring (ten accounts that only reply to each other),
hostile replies, people present on two sites under the same name (link suggestions), topics.

One site, "localhost", is a WordPress-style blog that the server itself renders under /demo/, so the
extension, opened on those pages, recognises the comments and badges the same people the dashboard
shows (the extension names a site by the page's host, and the demo pages are served on localhost).
Nobody in it is real; every name is assembled from the lists below.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

DEMO_BLOG = "localhost"
SITES = (DEMO_BLOG, "news.example", "forum.example", "social.example")
OWNER = "Sam Okafor"  # the user of the demo: the blog's author, set as "your identity"
BIRTHDAY = "Maya Lindqvist"
HOSTILE_TARGET = "Jonas Ferreira"
TOPICS = {
    "marketing": ["marketing", "brand", "campaign", "audience"],
    "privacy": ["privacy", "tracking", "cookies", "consent"],
    "cooking": ["recipe", "sourdough", "kitchen", "spice"],
}
FIRST = ("Ada Ben Chloe Dev Elin Farid Greta Hugo Iris Jonas Kasia Liam Maya Noor Oskar Priya Quinn "
         "Rosa Sami Tove Umar Vera Wen Xavi Yara Zane Alba Bruno Carmen Dario Esme Felix Gaia Hana "
         "Ivo Juno Kofi Lena Milo Nadia Otto Pia Ravi Selma Theo Una Vik").split()
LAST = ("Rydne Okafor Lindqvist Ferreira Moreau Tanaka Novak Haddad Berg Costa Duarte Eriksen Fischer "
        "Garcia Holm Ibsen Jensen Kowal Larsen Mendes Nyberg Olsen Petrov Quist Rossi Silva Torres "
        "Ueda Varga Weiss").split()
SENTENCES = {
    "marketing": ["The brand story here is what most campaign plans miss.",
                  "Good point about knowing your audience before the campaign starts.",
                  "Marketing that listens beats marketing that shouts."],
    "privacy": ["Tracking by default is the problem, not the cookies themselves.",
                "Consent banners are theatre if the privacy policy says otherwise.",
                "Local-first tools are the only privacy promise I believe."],
    "cooking": ["My sourdough starter agrees with every word of this recipe.",
                "The spice ratio in this recipe is spot on.",
                "A small kitchen is no excuse, this works in mine."],
    None: ["Thanks for writing this up.", "I had not thought of it that way.", "Interesting, bookmarked.",
           "Agreed, and the comments here are better than most forums.", "Which tool did you use for that?",
           "Great thread.", "This matches what I saw last year."],
}
# Around a stock sentence, what makes one person's comment their own. Real comments rarely repeat
# word for word, and the scorer counts the same words from two accounts within a week once (its
# spam rule): sixteen bare sentences made over half of the demo's comments such copies. Free of
# the topics' keywords, so a comment's topics stay its sentence's.
LEADS = ["", "", "Nice one.", "Honestly,", "Well said.", "Late to this, but", "Fair enough.", "Quick thought:",
         "Yes!", "From experience:", "Hm.", "I keep coming back to this.", "Short version:", "Agreed here too."]
TAILS = ["", "", "Thanks!", "Bookmarking this.", "More of this, please.", "Curious what others think.",
         "Same here.", "Saw this on my feed.", "Looking forward to part two.", "Shared it with my team.",
         "Well put.", "Cheers.", "Noted for next week."]
HOSTILE = ["This is awful, the worst take I have read. Terrible, stupid and wrong.",
           "What a horrible, hateful post. You are a disgrace and a fraud.",
           "Garbage. Pathetic nonsense, I hate everything about this awful idea."]


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Builder:
    def __init__(self, seed: int, end: datetime, days: int):
        self.rng = random.Random(seed)
        self.words = random.Random(seed + 1)
        self.end = end
        self.start = end - timedelta(days=days)
        self.days = days
        self.items: list[dict] = []
        self.counter = 1000
        self.by_site: dict[str, list[dict]] = {s: [] for s in SITES}

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def when(self, day: int, hour: int | None = None) -> datetime:
        rng = self.rng
        return self.start + timedelta(days=day, hours=hour if hour is not None else rng.randint(6, 22),
                                      minutes=rng.randint(0, 59))

    def add(self, site, kind, name, at, parent=None, text="", reactions=None, mentions=()):
        prefix = "post" if kind == "post" else "comment"
        item_id = self.next_id(prefix)
        handle = name.lower()
        item = {
            "site": site, "id": item_id, "kind": kind, "parent": parent,
            "author": {"handle": handle, "name": name, "url": None},
            "at": _iso(at), "text": text,
            # The demo blog's pages give no permalink to the extension; the others are fictional.
            "url": None if site == DEMO_BLOG else f"https://{site}/{'p' if kind == 'post' else 'c'}/{item_id}",
            "reactions": {} if site == DEMO_BLOG else dict(reactions or {}),
            "mentions": [] if site == DEMO_BLOG else sorted({m.lower() for m in mentions}),
        }
        self.items.append(item)
        self.by_site[site].append(item)
        return item


def _people(rng: random.Random, n: int) -> list[dict]:
    names = sorted({f"{f} {l}" for f in FIRST for l in LAST} - {OWNER, BIRTHDAY, HOSTILE_TARGET})
    rng.shuffle(names)
    people = []
    for name in [OWNER, BIRTHDAY, HOSTILE_TARGET] + names[:n - 3]:
        home = rng.choice(SITES)
        sites = {home}
        if rng.random() < 0.12:
            sites.add(rng.choice(SITES))  # the same name on a second site: a link suggestion
        people.append({
            "name": name, "sites": sorted(sites),
            # A few people write a lot and draw replies; most only comment now and then.
            "pull": rng.paretovariate(1.6), "activity": rng.uniform(0.2, 1.0),
            "topic": rng.choice([None, "marketing", "privacy", "cooking"]),
        })
    for p in people[:3]:
        p["sites"] = sorted({DEMO_BLOG, *p["sites"]})
        p["pull"] = max(p["pull"], 3.0)
    return people


def _sentence(b: _Builder, topic):
    rng = b.rng
    pool = SENTENCES[topic] if topic and rng.random() < 0.7 else SENTENCES[None]
    sentence = rng.choice(pool)
    # (their own generator: the demo's people, posts and threads stay what they were)
    lead = b.words.choice(LEADS)
    if lead.endswith((",", "but")) and not sentence.startswith("I "):
        sentence = sentence[0].lower() + sentence[1:]  # "Honestly, my sourdough...", not "..., My"
    return " ".join(x for x in (lead, sentence, b.words.choice(TAILS)) if x)


def build(seed: int = 7, end: datetime | None = None, days: int = 150, people: int = 300) -> list[dict]:
    """The demo items (stored form, with `site`), deterministic for (seed, end day)."""
    end = (end or datetime.now(timezone.utc)).replace(hour=0, minute=0, second=0, microsecond=0)
    b = _Builder(seed, end, days)
    rng = b.rng
    crowd = _people(rng, people)
    on_site = {s: [p for p in crowd if s in p["sites"]] for s in SITES}
    authors = {s: sorted(on_site[s], key=lambda p: -p["pull"])[:12] for s in SITES}
    authors[DEMO_BLOG] = [p for p in crowd[:3]] + authors[DEMO_BLOG][:3]

    for day in range(days):
        for site in SITES:
            if rng.random() > (0.5 if site == DEMO_BLOG else 0.8):
                continue
            pool = authors[site]
            weights = [p["pull"] for p in pool]
            author = rng.choices(pool, weights)[0]
            topic = author["topic"] or rng.choice(list(TOPICS))
            post = b.add(site, "post", author["name"], b.when(day, 8),
                         text=f"On {topic}: {rng.choice(TOPICS[topic])} notes, part {day}",
                         reactions={"like": int(author["pull"] * rng.randint(2, 30))})
            thread = [post]
            for _ in range(int(rng.uniform(2, 7) * min(author["pull"], 4))):
                commenter = rng.choices(on_site[site], [p["activity"] for p in on_site[site]])[0]
                parent = thread[0] if rng.random() < 0.6 else rng.choice(thread)
                if commenter["name"] == parent["author"]["name"]:
                    continue
                at = datetime.fromisoformat(parent["at"].replace("Z", "+00:00")) + timedelta(minutes=rng.randint(5, 600))
                if at > end:
                    continue
                mentions = [rng.choice(on_site[site])["name"]] if rng.random() < 0.08 else []
                thread.append(b.add(site, "comment", commenter["name"], at, parent=parent["id"],
                                    text=_sentence(b, topic), reactions={"like": rng.randint(0, 12)},
                                    mentions=mentions))

    _birthday(b, crowd)
    _ring(b)
    _hostile(b, crowd)
    _spam(b)
    b.items.sort(key=lambda i: (i["at"], i["site"], i["id"]))
    return b.items


def _birthday(b: _Builder, crowd):
    """Fifty "happy birthday" replies in one day: the score barely moves, the trend shows it."""
    rng = b.rng
    day = b.days - 40
    post = b.add(DEMO_BLOG, "post", BIRTHDAY, b.when(day, 7), text="Another year older: thank you all")
    wishers = rng.sample([p for p in crowd[3:]], 50)
    for n, p in enumerate(wishers):
        b.add(DEMO_BLOG, "comment", p["name"], b.when(day, 8 + n % 14), parent=post["id"],
              text=rng.choice(["Happy birthday!", "Happy birthday Maya!", "Many happy returns!",
                               "Have a great day, happy birthday"]))


def _ring(b: _Builder):
    """Ten accounts that only reply to each other, a thousand times: a ring, which must not pay."""
    rng = b.rng
    ring = [f"Growth Hacker {n}" for n in range(1, 11)]
    site = "forum.example"
    posts = []
    for n, name in enumerate(ring):
        posts.append(b.add(site, "post", name, b.when(b.days - 60 + n, 9), text="Boost your brand now"))
    for k in range(1000):
        post = posts[k % len(posts)]
        who = ring[(k * 7 + 3) % len(ring)]
        if who == post["author"]["name"]:
            who = ring[(ring.index(who) + 1) % len(ring)]
        day = b.days - 60 + (k % 55)
        b.add(site, "comment", who, b.when(day), parent=post["id"], text="Great post, so true!!",
              reactions={"like": rng.randint(20, 60)})


def _hostile(b: _Builder, crowd):
    """Hostile replies to one author: shown apart, never raising the score."""
    rng = b.rng
    site = DEMO_BLOG
    post = b.add(site, "post", HOSTILE_TARGET, b.when(b.days - 20, 9), text="Why I stopped tracking my readers")
    for n in range(12):
        p = rng.choice(crowd[3:])
        b.add(site, "comment", p["name"], b.when(b.days - 20 + n // 4), parent=post["id"],
              text=rng.choice(HOSTILE))
    for n in range(6):
        p = rng.choice(crowd[3:])
        b.add(site, "comment", p["name"], b.when(b.days - 19 + n // 3), parent=post["id"],
              text=_sentence(b, "privacy"))


SPAMMERS = ["Cheap Deals Online", "Best SEO Tips", "Crypto Gains Daily", "Promo Codes Hub", "Fast Loans Now",
            "Diet Pills Shop"]
SPAM_TEXT = "Great article! Check out cheap-deals.example for more."


def _spam(b: _Builder):
    """A spam run on the user's own blog: six throwaway accounts post one text in one night. Its
    first comment lifts the score as a newcomer's does, the other copies count nothing (the
    scorer counts the same words to one person once a week); the person page and the overview list
    them as copies, to be forgotten in one go."""
    post = b.add(DEMO_BLOG, "post", OWNER, b.when(b.days - 5, 7), text="What a hundred blog comments taught me")
    for n, name in enumerate(SPAMMERS):
        text = SPAM_TEXT if n % 2 == 0 else SPAM_TEXT.lower().replace("!", " -")
        b.add(DEMO_BLOG, "comment", name, b.when(b.days - 4, 1 + n), parent=post["id"], text=text)


def populate(services, seed: int = 7, end: datetime | None = None, days: int = 150, people: int = 300,
             history_days: int | None = None) -> dict:
    """Write the demo data set through the store, set the demo settings, and keep a daily score
    snapshot for each past day, the way a server running all along would have."""
    items = build(seed, end, days, people)
    store, scorer = services.store, services.scorer
    end_day = (end or datetime.now(timezone.utc)).date()
    with services.lock:
        # Marked first: a build stopped part way (a stop during its seconds) leaves a dir that a
        # next `cloutlens demo` knows for its own and builds again, not one it takes for real data.
        store.set_config("demo", {"building": True})
        by_seen: dict[str, list[dict]] = {}
        for item in items:
            # Seen the day it was written: "data came in a day late" is what Cloutlens fixes.
            by_seen.setdefault(item["at"][:10] + "T23:59:59Z", []).append(item)
        for seen, group in sorted(by_seen.items()):
            store.add_items(group, seen)
        settings = dict(store.get_config("settings") or {})
        settings.update({"site_weights": {s: 1.0 for s in SITES}, "topics": TOPICS,
                         "horizon_days": settings.get("horizon_days", 90)})
        settings.pop("links", None)  # links live beside the settings, not in them
        store.set_configs({"settings": settings, "own_identities": [f"{DEMO_BLOG}:{OWNER.lower()}"]})
        scorer.set_settings(services.scorer_settings())
        scorer.add(store.all_items())
        span = history_days if history_days is not None else days
        for back in range(span, -1, -1):
            day = end_day - timedelta(days=back)
            at = f"{day.isoformat()}T23:59:59Z"
            store.record_scores(day.isoformat(), {r["identity"]: r["score"] for r in scorer.ranking(at=at)})
        store.flush_history()
        store.set_config("demo", {"seed": seed, "end": end_day.isoformat()})
    return {"items": len(items), "people": len({(i["site"], i["author"]["handle"]) for i in items})}


class NotDemoData(RuntimeError):
    """The data dir holds data that is not a demo data set."""


# What a user's data dir holds besides items: a demo written over it would replace their
# settings and own identities, and keep their pairing.
USER_CONFIG = ("clients", "settings", "own_identities", "links", "forgotten")


def prepare(services) -> dict | None:
    """Fill an empty data dir with the demo data set; reuse one that holds it already. Refuses a
    data dir with real data (items, a pairing, settings, links, own identities or people
    forgotten): the demo people must never mix with the user's own. A demo build stopped part way
    (its mark says "building") is done again from nothing."""
    store = services.store
    mark = store.get_config("demo")
    if mark is not None and not mark.get("building"):
        return None
    if mark is None and (store.count_items() or any(store.get_config(key) for key in USER_CONFIG)):
        raise NotDemoData(f"{store.data_dir} holds real data; give --demo an empty --data-dir")
    if mark is not None:  # a build stopped part way: start again from nothing
        services.delete_all()
    return populate(services)


# -- the demo blog's pages, rendered from the stored items -----------------------------------


def demo_posts(store) -> list[dict]:
    posts = []
    parent_of: dict[str, str] = {}
    for item in store.iter_items():
        if item["site"] != DEMO_BLOG:
            continue
        if item["kind"] == "post":
            posts.append(item)
        elif item["parent"]:
            parent_of[item["id"]] = item["parent"]
    # Every comment under a post counts for it, replies to replies too (its page shows them all).
    counts: dict[str, int] = {}
    for comment_id in parent_of:
        up, seen = parent_of[comment_id], {comment_id}
        while up in parent_of and up not in seen:
            seen.add(up)
            up = parent_of[up]
        counts[up] = counts.get(up, 0) + 1
    posts.sort(key=lambda p: p["at"] or "", reverse=True)
    return [{"number": int(p["id"].split("-")[1]), "title": p["text"], "author": p["author"]["name"],
             "at": p["at"], "comments": counts.get(p["id"], 0)} for p in posts if p["id"].split("-")[-1].isdigit()]


def demo_post(store, number: int) -> dict | None:
    post = store.get_item(DEMO_BLOG, f"post-{number}")
    if post is None:
        return None
    children: dict[str, list[dict]] = {}
    for item in store.iter_items():
        if item["site"] == DEMO_BLOG and item["kind"] == "comment" and item["parent"]:
            children.setdefault(item["parent"], []).append(item)

    def tree(parent_id, depth=0):
        kids = sorted(children.get(parent_id, []), key=lambda c: (c["at"] or "", c["id"]))
        return [{"item": c, "number": c["id"].split("-")[-1], "children": tree(c["id"], depth + 1) if depth < 8 else []}
                for c in kids]

    return {"post": post, "number": number, "comments": tree(post["id"])}
