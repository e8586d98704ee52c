"""docs/catalogue.md shows the catalogue's counts: they must be the ones pytest collects."""

from __future__ import annotations

from tests.catalogue import counts


def test_the_doc_shows_the_collected_counts() -> None:
    collected = counts.collect()
    assert collected, "no catalogue case collected"
    every = {category for category, _group in collected}
    assert every == set(counts.CATEGORIES), every
    assert all(group in counts.NOTES for _category, group in collected), "a group lacks a note"
    block = counts.current_block(counts.DOC.read_text())
    assert block == counts.render(collected), (
        "docs/catalogue.md is stale: run .venv/bin/python -m tests.catalogue.counts --write"
    )
