"""Direct tests for `bot.core.schedule`: which slots a subscriber can have, and when (in their own
wall-clock time) the weekly lesson comes, including the nights Europe/Oslo changes its clocks.

2026 in Europe/Oslo: CET (UTC+1) until Sunday 29 March, 02:00 → 03:00; CEST (UTC+2) until Sunday
25 October, 03:00 → 02:00 (the hour 02:00–03:00 happens twice); CET again after that.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.schedule import (
    DEFAULT_SLOT,
    TIMES,
    WEEKDAYS,
    ScheduleError,
    WeeklySlot,
    next_due,
)

OSLO = ZoneInfo("Europe/Oslo")
MONDAY_9 = WeeklySlot(0, time(9, 0))
SPRING_FORWARD = date(2026, 3, 29)  # Sunday: 02:00 → 03:00
FALL_BACK = date(2026, 10, 25)  # Sunday: 03:00 → 02:00


def oslo(year: int, month: int, day: int, hour: int, minute: int, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO, fold=fold)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(due: datetime) -> datetime:
    """What the subscriber sees: the due time on an Oslo clock."""
    return due.astimezone(OSLO)


# -- parsing --------------------------------------------------------------------------------------


def test_the_default_slot_is_monday_at_nine_in_oslo() -> None:
    assert WeeklySlot.parse("0", "09:00") == DEFAULT_SLOT
    assert (DEFAULT_SLOT.weekday, DEFAULT_SLOT.at, DEFAULT_SLOT.zone) == (
        0,
        time(9, 0),
        "Europe/Oslo",
    )


@pytest.mark.parametrize(
    ("weekday", "at", "expected_day", "expected_text"),
    [
        ("0", "07:00", 0, "07:00"),  # the earliest choice
        ("4", "16:00", 4, "16:00"),  # the latest choice
        ("2", "12:00", 2, "12:00"),
        ("1", "8:00", 1, "08:00"),  # one-digit hour, as a hand-edited row might have it
    ],
)
def test_valid_slots_parse(weekday: str, at: str, expected_day: int, expected_text: str) -> None:
    slot = WeeklySlot.parse(weekday, at)
    assert slot.weekday == expected_day
    assert slot.time_text == expected_text
    assert slot.zone == "Europe/Oslo"


def test_every_slot_the_card_offers_parses_back_to_itself() -> None:
    for day in WEEKDAYS:
        for at in TIMES:
            slot = WeeklySlot(day, at)
            assert WeeklySlot.parse(str(slot.weekday), slot.time_text, slot.zone) == slot


def test_another_known_zone_is_accepted() -> None:
    assert WeeklySlot.parse("0", "09:00", "UTC").zone == "UTC"


@pytest.mark.parametrize("weekday", ["5", "6", "7", "-1", "100"])
def test_weekdays_outside_monday_to_friday_are_refused(weekday: str) -> None:
    with pytest.raises(ScheduleError):
        WeeklySlot.parse(weekday, "09:00")


@pytest.mark.parametrize("at", ["06:00", "17:00", "00:00", "23:00", "09:30", "12:01", "24:00"])
def test_times_outside_the_whole_hours_07_to_16_are_refused(at: str) -> None:
    with pytest.raises(ScheduleError):
        WeeklySlot.parse("0", at)


@pytest.mark.parametrize(
    ("weekday", "at"),
    [
        ("", "09:00"),
        ("mandag", "09:00"),
        ("1.0", "09:00"),
        ("0", ""),
        ("0", "9"),
        ("0", "09:00:00"),
        ("0", "ni"),
        ("0", "09:xx"),
        ("0", "-9:00"),
        ("0", "99999999999999999999:00"),
    ],
)
def test_garbage_is_refused(weekday: str, at: str) -> None:
    with pytest.raises(ScheduleError):
        WeeklySlot.parse(weekday, at)


@pytest.mark.parametrize(
    "zone",
    ["Mars/Olympus", "Europe/Osloo", "", "Europe", "Europe/", "../etc/passwd", "Europe/Oslo\x00"],
)
def test_unknown_zones_are_refused_when_parsed(zone: str) -> None:
    # A stored subscription with such a zone is dropped by the lessons worker (it catches
    # ScheduleError); it must not parse and then fail in next_due for every batch.
    with pytest.raises(ScheduleError):
        WeeklySlot.parse("0", "09:00", zone)


def test_the_constructor_checks_what_parse_checks() -> None:
    with pytest.raises(ScheduleError):
        WeeklySlot(5, time(9, 0))
    with pytest.raises(ScheduleError):
        WeeklySlot(0, time(9, 30))
    with pytest.raises(ScheduleError):
        WeeklySlot(0, time(9, 0), "Mars/Olympus")


# -- next_due: ordinary weeks (March 2026, CET: UTC+1) ---------------------------------------------
# Monday 2 March 2026 … Sunday 8 March 2026.


def test_earlier_on_the_same_day_gives_today() -> None:
    due = next_due(MONDAY_9, oslo(2026, 3, 2, 8, 0))
    assert due == utc(2026, 3, 2, 8, 0)
    assert local(due) == oslo(2026, 3, 2, 9, 0)


def test_one_minute_before_gives_today() -> None:
    assert local(next_due(MONDAY_9, oslo(2026, 3, 2, 8, 59))) == oslo(2026, 3, 2, 9, 0)


def test_later_on_the_same_day_gives_next_week() -> None:
    assert local(next_due(MONDAY_9, oslo(2026, 3, 2, 9, 1))) == oslo(2026, 3, 9, 9, 0)
    assert local(next_due(MONDAY_9, oslo(2026, 3, 2, 23, 59))) == oslo(2026, 3, 9, 9, 0)


def test_exactly_at_the_slot_gives_next_week() -> None:
    # Strictly after: the worker asks for the following due time at the moment it delivers, and
    # someone subscribing at exactly 09:00:00 gets their first lesson a week later, not twice.
    due = next_due(MONDAY_9, oslo(2026, 3, 2, 9, 0))
    assert local(due) == oslo(2026, 3, 9, 9, 0)
    # …and asking again at that due time moves on by exactly a week.
    assert local(next_due(MONDAY_9, due)) == oslo(2026, 3, 16, 9, 0)


def test_a_later_weekday_in_the_same_week() -> None:
    friday_4pm = WeeklySlot(4, time(16, 0))
    assert local(next_due(friday_4pm, oslo(2026, 3, 3, 10, 0))) == oslo(2026, 3, 6, 16, 0)


def test_across_the_week_boundary() -> None:
    # Friday after the lesson time, Saturday and Sunday all lead to the coming Monday.
    for after in (oslo(2026, 3, 6, 17, 0), oslo(2026, 3, 7, 12, 0), oslo(2026, 3, 8, 23, 59)):
        assert local(next_due(MONDAY_9, after)) == oslo(2026, 3, 9, 9, 0)
    # A Wednesday slot asked on Thursday: six days on.
    wednesday_7am = WeeklySlot(2, time(7, 0))
    assert local(next_due(wednesday_7am, oslo(2026, 3, 5, 6, 0))) == oslo(2026, 3, 11, 7, 0)


def test_across_the_year_boundary() -> None:
    due = next_due(MONDAY_9, oslo(2026, 12, 30, 12, 0))  # a Wednesday
    assert local(due) == oslo(2027, 1, 4, 9, 0)
    assert due == utc(2027, 1, 4, 8, 0)


def test_the_weekday_is_oslos_not_utcs() -> None:
    # Sunday 23:30 UTC is already Monday 00:30 in Oslo: today's 09:00, not the next Monday.
    due = next_due(MONDAY_9, utc(2026, 3, 1, 23, 30))
    assert local(due) == oslo(2026, 3, 2, 9, 0)
    # Monday 23:30 in Oslo is still Monday 22:30 UTC; the lesson was this morning: next week.
    assert local(next_due(MONDAY_9, oslo(2026, 3, 2, 23, 30))) == oslo(2026, 3, 9, 9, 0)


def test_the_answer_is_utc_and_does_not_depend_on_the_zone_of_the_question() -> None:
    moment = oslo(2026, 3, 4, 15, 0)
    answers = {
        next_due(MONDAY_9, moment.astimezone(zone))
        for zone in (UTC, OSLO, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo"))
    }
    assert answers == {utc(2026, 3, 9, 8, 0)}
    (answer,) = answers
    assert answer.utcoffset() == timedelta(0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_due(MONDAY_9, datetime(2026, 3, 2, 8, 0))


# -- next_due: daylight-saving changes in Europe/Oslo ----------------------------------------------


def test_no_slot_lies_in_the_hour_that_does_not_exist_or_the_hour_that_repeats() -> None:
    # The clocks change on Sundays at 02:00–03:00; slots are Monday–Friday, 07:00–16:00. A slot in
    # the missing (spring) or repeated (autumn) hour cannot be had: it is refused.
    for weekday, at in [("6", "02:00"), ("6", "02:30"), ("6", "03:00"), ("0", "02:00")]:
        with pytest.raises(ScheduleError):
            WeeklySlot.parse(weekday, at)


def test_asking_in_the_hour_that_does_not_exist() -> None:
    # At 01:00 UTC on 29 March Oslo's clocks jump from 02:00 to 03:00; 01:30 UTC is 03:30 CEST.
    assert local(utc(2026, 3, 29, 1, 30)) == oslo(2026, 3, 29, 3, 30)
    # A wall-clock time in the gap (02:30, which no Oslo clock shows) is still a moment.
    for after in (
        utc(2026, 3, 29, 1, 30),
        oslo(2026, 3, 29, 2, 30),
        oslo(2026, 3, 29, 2, 30, fold=1),
    ):
        due = next_due(MONDAY_9, after)
        assert local(due) == oslo(2026, 3, 30, 9, 0)
        assert due == utc(2026, 3, 30, 7, 0)


@pytest.mark.parametrize("fold", [0, 1])
def test_asking_in_the_repeated_hour(fold: int) -> None:
    # 02:30 on 25 October happens twice (00:30 UTC at +2, 01:30 UTC at +1); both lead to the
    # Monday after at 09:00 CET.
    after = oslo(2026, 10, 25, 2, 30, fold=fold)
    assert after.astimezone(UTC) == utc(2026, 10, 25, fold, 30)
    due = next_due(MONDAY_9, after)
    assert local(due) == oslo(2026, 10, 26, 9, 0)
    assert due == utc(2026, 10, 26, 8, 0)


def test_monday_at_nine_stays_at_nine_when_summer_time_begins() -> None:
    before = next_due(MONDAY_9, oslo(2026, 3, 20, 12, 0))
    after = next_due(MONDAY_9, before)
    assert local(before) == oslo(2026, 3, 23, 9, 0)
    assert local(before).utcoffset() == timedelta(hours=1)
    assert before == utc(2026, 3, 23, 8, 0)
    assert local(after) == oslo(2026, 3, 30, 9, 0)
    assert local(after).utcoffset() == timedelta(hours=2)
    assert after == utc(2026, 3, 30, 7, 0)
    assert after - before == timedelta(days=7, hours=-1)  # the week was an hour short


def test_monday_at_nine_stays_at_nine_when_summer_time_ends() -> None:
    before = next_due(MONDAY_9, oslo(2026, 10, 16, 12, 0))
    after = next_due(MONDAY_9, before)
    assert local(before) == oslo(2026, 10, 19, 9, 0)
    assert local(before).utcoffset() == timedelta(hours=2)
    assert before == utc(2026, 10, 19, 7, 0)
    assert local(after) == oslo(2026, 10, 26, 9, 0)
    assert local(after).utcoffset() == timedelta(hours=1)
    assert after == utc(2026, 10, 26, 8, 0)
    assert after - before == timedelta(days=7, hours=1)  # the week was an hour long


def test_asked_on_the_change_sundays_themselves() -> None:
    for sunday in (SPRING_FORWARD, FALL_BACK):
        for hour in (0, 1, 4, 12, 23):
            after = datetime.combine(sunday, time(hour, 0), tzinfo=OSLO)
            due = local(next_due(MONDAY_9, after))
            assert due == datetime.combine(sunday + timedelta(days=1), time(9, 0), tzinfo=OSLO)


def test_a_year_of_weekly_lessons_keeps_its_local_day_and_hour() -> None:
    # Follow every slot the card offers through 2026 the way the worker does (the next due time is
    # asked at the current one): 52 or 53 lessons, each on its weekday at its hour, one week apart
    # on the Oslo calendar, whatever the UTC offset.
    for weekday in WEEKDAYS:
        for at in TIMES:
            slot = WeeklySlot(weekday, at)
            due = next_due(slot, oslo(2026, 1, 1, 0, 0))
            offsets = set()
            while due.year == 2026:
                seen = local(due)
                assert (seen.weekday(), seen.time()) == (weekday, at)
                offsets.add(seen.utcoffset())
                following = next_due(slot, due)
                assert local(following).date() - seen.date() == timedelta(days=7)
                due = following
            assert offsets == {timedelta(hours=1), timedelta(hours=2)}
