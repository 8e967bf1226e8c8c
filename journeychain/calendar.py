"""Working-time calendars: weekly hours, a UTC offset and holidays, and the deadline an SLA
counted in working time comes to. The contract `Calendars` computes the same deadline (with
whole-week jumps, so that its loops are bounded); this module counts day by day, and the two
are tested against each other on random calendars, starts and SLAs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from journeychain.errors import ConfigError

DAY = 86_400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_HOLIDAYS = 64
MAX_DAY = 65_535  # the last local day a calendar can name (16 bits)
WEEK = 7 * DAY
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_OFFSET = re.compile(r"^\s*([+-])(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Calendar:
    """One working window a day (minutes after local midnight, Monday first; opens == closes:
    no work that day), local time = UTC + `utc_offset` minutes, and holidays as local days
    since 1970-01-01, ascending."""

    opens: tuple[int, ...]
    closes: tuple[int, ...]
    utc_offset: int = 0
    holidays: tuple[int, ...] = ()
    _days_off: frozenset[int] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.opens) != 7 or len(self.closes) != 7:
            raise ConfigError("a calendar has one window for each of the seven weekdays")
        for day, (a, b) in enumerate(zip(self.opens, self.closes, strict=True)):
            if not 0 <= a <= b <= 1440:
                raise ConfigError(f"{WEEKDAYS[day]}: a working window lies within its day, opening first")
        if sum(b - a for a, b in zip(self.opens, self.closes, strict=True)) == 0:
            raise ConfigError("a calendar needs some working time in its week")
        if not -720 <= self.utc_offset <= 840:
            raise ConfigError(f"UTC offset {self.utc_offset} minutes is outside -12:00 to +14:00")
        if len(self.holidays) > MAX_HOLIDAYS:
            raise ConfigError(f"a calendar lists at most {MAX_HOLIDAYS} holidays, not {len(self.holidays)}")
        if any(b <= a for a, b in zip(self.holidays, self.holidays[1:], strict=False)):
            raise ConfigError("a calendar's holidays are listed once each, in date order")
        if any(not 0 <= h <= MAX_DAY for h in self.holidays):
            raise ConfigError("a calendar's holidays fall between 1970 and 2149")
        object.__setattr__(self, "_days_off", frozenset(self.holidays))

    @classmethod
    def from_spec(
        cls, hours: Mapping[str, str], utc_offset: str = "+00:00", holidays: Sequence[str] = ()
    ) -> Calendar:
        """From readable parts: {"mon": "09:00-17:30", ...} (days left out do not work), an
        offset like "+01:00" and ISO dates."""
        unknown = set(hours) - set(WEEKDAYS)
        if unknown:
            raise ConfigError(f"unknown weekday(s) {', '.join(sorted(unknown))} (use {', '.join(WEEKDAYS)})")
        opens, closes = [0] * 7, [0] * 7
        for name, window in hours.items():
            m = _WINDOW.match(str(window))
            if not m:
                raise ConfigError(f"{name}: {window!r} is not a window like 09:00-17:30")
            h1, m1, h2, m2 = (int(x) for x in m.groups())
            i = WEEKDAYS.index(name)
            opens[i], closes[i] = h1 * 60 + m1, h2 * 60 + m2
        m = _OFFSET.match(utc_offset)
        if not m:
            raise ConfigError(f"{utc_offset!r} is not a UTC offset like +01:00")
        sign = -1 if m.group(1) == "-" else 1
        offset = sign * (int(m.group(2)) * 60 + int(m.group(3)))
        try:
            days = sorted((dt.date.fromisoformat(d) - dt.date(1970, 1, 1)).days for d in holidays)
        except ValueError as exc:
            raise ConfigError(f"a holiday is an ISO date (2026-12-25): {exc}") from None
        return cls(tuple(opens), tuple(closes), offset, tuple(days))

    @classmethod
    def from_chain(cls, raw: Sequence) -> Calendar:
        """From the struct `Calendars.calendar` returns."""
        opens, closes, offset, holidays = raw
        return cls(
            tuple(int(x) for x in opens),
            tuple(int(x) for x in closes),
            int(offset),
            tuple(int(h) for h in holidays),
        )

    def as_tuple(self) -> tuple:
        """The Calendar struct `Calendars.publish` takes."""
        return (list(self.opens), list(self.closes), self.utc_offset, list(self.holidays))

    def _window(self, day: int) -> tuple[int, int]:
        """Local day `day`'s working window as local times (empty on a holiday)."""
        if day in self._days_off:
            return day * DAY, day * DAY
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        return day * DAY + self.opens[weekday] * 60, day * DAY + self.closes[weekday] * 60

    def working_time(self, start: int, end: int) -> int:
        """The working seconds in [start, end), counting day by day."""
        if end <= start:
            return 0
        offset = self.utc_offset * 60
        a, b = start + offset, end + offset
        total = 0
        for day in range(a // DAY, (b - 1) // DAY + 1):
            open_, close = self._window(day)
            total += max(0, min(close, b) - max(open_, a))
        return total

    def before(self, end: int, amount: int) -> int:
        """The earliest UNIX time at which a step due at `end` has `amount` working seconds
        left, counting back day by day; `DAY` (1970-01-02, the reference the contract counts
        from) when there is not that much working time after it."""
        offset = self.utc_offset * 60
        ref = DAY + offset  # the reference, in local time
        t = end + offset
        remaining = amount
        day = (t - 1) // DAY
        while True:
            open_, close = self._window(day)
            open_ = max(open_, ref)
            stop = min(t, close)
            if stop > open_:
                if remaining == 0:
                    return stop - offset
                if remaining < stop - open_:
                    return stop - remaining - offset
                remaining -= stop - open_
            if day * DAY <= ref:
                return DAY
            day -= 1
            t = (day + 1) * DAY

    def move_deadline(self, stopped: int, due: int, restart: int) -> tuple[int, int]:
        """A clock stopped at `stopped` with deadline `due` and run again at `restart`: the
        working seconds it had left, and its new deadline."""
        if due <= stopped:
            return 0, due + max(0, restart - stopped)
        left = self.working_time(stopped, due)
        return left, self.deadline(restart, left)

    def deadline(self, start: int, sla: int) -> int:
        """The UNIX time at which `sla` seconds of working time have passed since `start`
        (0: `start` itself), counting day by day."""
        if sla == 0:
            return start
        offset = self.utc_offset * 60
        t = start + offset
        remaining = sla
        day = t // DAY
        off = set(self.holidays)
        while True:
            if day not in off:
                weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
                open_ = day * DAY + self.opens[weekday] * 60
                close = day * DAY + self.closes[weekday] * 60
                begin = max(t, open_)
                if begin < close:
                    if remaining <= close - begin:
                        return begin + remaining - offset
                    remaining -= close - begin
            day += 1
            t = day * DAY


# One deadline function for the SDK, the timeline and the keeper: `None` is wall-clock time
# (calendar 0 on chain), every second counts.


def deadline(calendar: Calendar | None, start: int, sla: int) -> int:
    """The UNIX time `sla` working seconds after `start` (wall-clock seconds with no calendar)."""
    return start + sla if calendar is None else calendar.deadline(start, sla)


def working_time(calendar: Calendar | None, start: int, end: int) -> int:
    """The working seconds in [start, end) (wall-clock seconds with no calendar)."""
    if calendar is None:
        return max(0, end - start)
    return calendar.working_time(start, end)


def before(calendar: Calendar | None, end: int, amount: int) -> int:
    """The earliest UNIX time at which a step due at `end` has `amount` working seconds left."""
    if calendar is None:
        return max(0, end - amount)
    return calendar.before(end, amount)


def warn_at(calendar: Calendar | None, due: int, sla: int, warn_bps: int) -> int:
    """When a step due at `due` with an SLA of `sla` working seconds is at risk: `warn_bps` of
    its SLA has passed, as the engine's `stepAtRisk` counts (back from the deadline)."""
    return before(calendar, due, sla - sla * warn_bps // 10_000)
