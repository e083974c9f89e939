"""How the dashboard and the command line write a count: "1 item", "8,648 items", never "item(s)"."""
from __future__ import annotations


def counted(n: int, one: str, many: str | None = None) -> str:
    """n with its noun in the right number, thousands grouped; `many` for an irregular plural
    ("person", "people")."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"
