"""``get_or_insert`` / ``insert_new``: the one find-or-create shape for unique keys. The race is
staged deterministically: ``find`` misses the row a "concurrent writer" already committed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kefu.lib.unique import get_or_insert, insert_new
from kefu.tickets.models import Tag


def late_finder(name: str, misses: int):
    """A lookup that misses the existing row ``misses`` times, as a racing request would."""
    calls = {"n": 0}

    def find() -> Tag | None:
        calls["n"] += 1
        if calls["n"] <= misses:
            return None
        return Tag.objects.filter(name=name).first()

    return find


def test_it_returns_the_row_a_concurrent_writer_inserted_first(db):
    winner = Tag.objects.create(name="printer")
    with transaction.atomic():
        tag, created = get_or_insert(
            late_finder("printer", misses=1), lambda: Tag.objects.create(name="printer")
        )
        # The caller's transaction is still usable after the lost insert.
        assert Tag.objects.count() == 1
    assert (tag, created) == (winner, False)


def test_it_inserts_a_missing_row_and_finds_an_existing_one(db):
    tag, created = get_or_insert(lambda: None, lambda: Tag.objects.create(name="screen"))
    assert created and tag.name == "screen"
    again, created = get_or_insert(late_finder("screen", misses=0), lambda: 1 / 0)
    assert (again, created) == (tag, False)


def test_an_integrity_error_the_lookup_cannot_explain_is_raised(db):
    Tag.objects.create(name="printer")
    with pytest.raises(IntegrityError):
        get_or_insert(lambda: None, lambda: Tag.objects.create(name="printer"))


def test_insert_new_refuses_a_taken_key_with_the_clear_error_even_after_losing_the_race(db):
    Tag.objects.create(name="printer")
    clash = ValidationError({"name": "A tag named printer exists already."})
    with pytest.raises(ValidationError) as error:
        insert_new(Tag(name="printer"), late_finder("printer", misses=1), clash)
    assert error.value is clash
    assert insert_new(Tag(name="toner"), late_finder("toner", misses=0), clash).pk
