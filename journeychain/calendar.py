"""Working-time calendars: weekly hours, a UTC offset and holidays, and the deadline an SLA
counted in working time comes to. The contract `Calendars` computes the same deadline (with
whole-week jumps, so that its loops are bounded); this module counts day by day, and the two
are tested against each other on random calendars, starts and SLAs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from journeychain.errors import ConfigError

DAY = 86_400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_HOLIDAYS = 64
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

    def as_tuple(self) -> tuple:
        """The Calendar struct `Calendars.publish` takes."""
        return (list(self.opens), list(self.closes), self.utc_offset, list(self.holidays))

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
