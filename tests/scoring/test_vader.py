"""scoring.vader.compound must give vaderSentiment's compound, bit for bit, on any text: stored
items keep the value computed when they were captured, so a value that differed by evaluator would
make the same comment score differently depending on when it was stored. Compared by repr (which
tells 0.0 from -0.0) on real comment text, the seeds' blog posts and generated texts aimed at
each rule of VADER's."""
from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment import vaderSentiment as vs

from scoring import vader
from scoring.sentiment import vader_compound as reference

REPO = Path(__file__).resolve().parents[2]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
SEEDS = (REPO / ".." / "shared" / "seeds").resolve()


def mismatches(texts) -> list[tuple[str, float, float]]:
    out = []
    for t in texts:
        ours, theirs = vader.compound(t), reference(t)
        if repr(ours) != repr(theirs):
            out.append((t[:200], ours, theirs))
    return out


def _page_texts(path: Path) -> list[str]:
    """The page's whole visible text, each of its non-empty lines, and its blank-line-separated
    paragraphs: comment bodies appear as lines and paragraphs, the whole text is a long input
    with many "but"s and repeated valences."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        text = BeautifulSoup(path.read_bytes(), "lxml").get_text("\n")
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return [text, *lines, *paragraphs]


def test_corpus_comments_and_pages():
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the checkout")
    from server.importer import iter_sources, read_source
    texts = []
    for path in iter_sources([CORPUS]):
        # the adapters' own item texts (what a capture stores), then the page's text as a whole
        outcome = read_source(str(path), url="https://blog.example/post")
        texts += [it["text"] for cap in outcome.captures for it in cap["items"] if it.get("text")]
        texts += _page_texts(path)
    assert len(texts) > 3000  # the corpus was read, not skipped by a changed importer
    assert mismatches(texts) == []


def test_seed_posts_and_comments():
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside the checkout")
    texts = []
    for path in sorted(SEEDS.glob("*.txt")):
        whole = path.read_text(encoding="utf-8")
        texts += [whole, *(ln for ln in whole.splitlines() if ln.strip()),
                  *(p for p in whole.split("\n\n") if p.strip())]
    assert len(texts) > 100
    assert mismatches(texts) == []


# ---- generated texts: every rule's trigger words, in every case and next to each other

_LEXICON_SAMPLE = sorted(vader.LEXICON)[::37] + ["good", "bad", "great", "love", "hate", "no", "kind",
                                                 "doubt", "ass", "shit", "bomb", "die", "heart", ":)", ":-(", "<3"]
_EMOJI_SAMPLE = sorted(k for k in vader.EMOJI if len(k) == 1)[::41] + ["😁", "💘", "🔛", "🆙", "👶🏻", "☺️"]
_MODIFIERS = (sorted(vs.NEGATE) + sorted(vs.BOOSTER_DICT) + [k for k in vs.SPECIAL_CASES]
              + list(vs.SENTIMENT_LADEN_IDIOMS)
              + ["but", "BUT", "But", "least", "at least", "very least", "never so", "never this", "this",
                 "so", "without doubt", "without a doubt", "no", "No", "NO", "or", "nor", "kind of",
                 "sort of", "not", "isn't", "don't", "dont", "n't", "the", "of", "to", "for"])
_PUNCT = ["", "!", "!!", "!!!!!", "?", "??", "???", "?????", ".", ",", "...", "'", '"', "(", ")", ":", "-"]
_CASE = st.sampled_from([str, str.upper, str.title, str.lower])
_SPACE = st.sampled_from([" ", " ", " ", "  ", "\t", "\n", "\xa0", "\u2003", ""])
_ODD = ["İ", "ß", "ﬁ", "Σ", "ǅ", "a", "I", "OK", "x"]


@st.composite
def vader_words(draw):
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        word = draw(st.sampled_from(_LEXICON_SAMPLE))
    elif kind <= 6:
        word = draw(st.sampled_from(_MODIFIERS))
    elif kind == 7:
        word = draw(st.sampled_from(_EMOJI_SAMPLE))
    elif kind == 8:
        word = draw(st.sampled_from(_ODD)) * draw(st.integers(1, 3))
    else:
        word = draw(st.text(max_size=6))
    word = draw(_CASE)(word)
    return draw(st.sampled_from(_PUNCT)) + word + draw(st.sampled_from(_PUNCT))


@st.composite
def vader_texts(draw):
    words = draw(st.lists(vader_words(), max_size=30))
    if words and draw(st.booleans()):
        # a repeated valence before and after "but": VADER's but-rule writes to the first equal entry
        words += ["but"] + words[: draw(st.integers(1, len(words)))]
    return "".join(w + draw(_SPACE) for w in words)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vader_texts())
def test_generated_texts(text):
    assert repr(vader.compound(text)) == repr(reference(text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text(text):
    assert repr(vader.compound(text)) == repr(reference(text))


def test_many_comment_like_texts():
    """Seeded, so every run checks the same 20,000 sentences of everyday comment vocabulary, dense
    in the words VADER's rules look back at."""
    rng = random.Random(5)
    vocab = (["great", "good", "bad", "not", "no", "very", "really", "kind", "of", "but", "never", "so",
              "this", "without", "doubt", "least", "at", "the", "shit", "bomb", "thanks", "agree", "disagree",
              "love", "hate", "isn't", "hardly", "sort", "yeah", "right", "post", "data", "klout", "score",
              "GREAT", "BAD", "NOT", "VERY", "NO", ":)", ":(", "😁", "💔", "lol", "wtf", "ok", "fine", "nor", "or"])
    texts = []
    for _ in range(20_000):
        words = rng.choices(vocab, k=rng.randrange(1, 25))
        texts.append(" ".join(words) + rng.choice(["", "!", "!!!", "?", "??", "????", "."]))
    assert mismatches(texts) == []


def test_rule_examples():
    # one text per rule, with VADER's own value, so a failure names the rule that broke
    cases = {
        "The book was good.": 0.4404,
        "The book was only kind of good.": 0.3832,
        "At least it isn't a horrible book.": 0.431,
        "VADER is VERY SMART, handsome, and FUNNY!!!": 0.9342,
        "Today only kinda sux! But I'll get by, lol": 0.5249,
        "Catch utf-8 emoji such as 💘 and 💋 and 😁": 0.875,
        "Without a doubt, excellent idea.": 0.7013,
        "Sentiment analysis has never been this good!": 0.5672,
        "With VADER, sentiment analysis is the shit!": 0.6476,
        "good good but bad": -0.431,
        "NO good idea": -0.4835,  # "no" zeroed by the next word, then capitalised: a zero counts as negative
        "": 0.0,
        "   ": 0.0,
        "Noted.": 0.0,
    }
    for text, expected in cases.items():
        assert vader.compound(text) == reference(text) == expected, text
