// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEngineHooks} from "./interfaces/IEngineHooks.sol";

/// @title Calendars
/// @notice Working-time calendars, as SLA tools count an SLA: weekly working hours (one
/// window a day, in local time at a fixed UTC offset) and a bounded list of holidays. A
/// calendar is published once, numbered, and never changes. `deadline` is the instant at
/// which a given amount of working time has passed since a start: the instant a step's
/// SLA runs out when it counts working time only. Every loop is bounded: at most two weeks
/// of days around a jump over whole weeks, and one pass over the calendar's holidays.
contract Calendars {
    /*//////////////////////////////////////////////////////////////
                                  TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A calendar as published. `opens` and `closes` are minutes after local
    /// midnight, Monday first; a day with `opens == closes` is not a working day.
    /// `utcOffset` is in minutes (local = UTC + offset). `holidays` are local days
    /// (days since 1970-01-01 in local time), strictly ascending.
    struct Calendar {
        uint16[7] opens;
        uint16[7] closes;
        int16 utcOffset;
        uint32[] holidays;
    }

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The most holidays a calendar may list.
    uint256 public constant MAX_HOLIDAYS = 64;
    uint256 private constant _DAY = 86_400;
    uint256 private constant _WEEK = 7 * _DAY;
    bytes32 private constant _ADMIN = bytes32(0);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The engine whose ADMIN publishes calendars.
    IEngineHooks public immutable engine;

    mapping(uint32 id => Calendar) private _calendars;
    /// @notice How many calendars have been published (their numbers run from 1).
    uint32 public calendarCount;

    /*//////////////////////////////////////////////////////////////
                              ERRORS, EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @param day The first weekday (0: Monday) whose window is not within the day.
    error InvalidWindow(uint256 day);
    /// @dev A calendar with no working time at all (its deadlines would never come).
    error NoWorkingTime();
    /// @param offset A UTC offset outside -12:00 to +14:00.
    error InvalidOffset(int16 offset);
    /// @param count More holidays than MAX_HOLIDAYS.
    error TooManyHolidays(uint256 count);
    /// @param index The first holiday not after the one before it.
    error HolidaysNotAscending(uint256 index);
    /// @param id A calendar that was never published.
    error UnknownCalendar(uint32 id);

    /// @param id Its number.
    /// @param opens Each weekday's opening minute (Monday first).
    /// @param closes Each weekday's closing minute.
    /// @param utcOffset Minutes east of UTC.
    /// @param holidays The local days off.
    event CalendarPublished(uint32 indexed id, uint16[7] opens, uint16[7] closes, int16 utcOffset, uint32[] holidays);

    /// @param engine_ The engine whose ADMIN publishes calendars.
    constructor(IEngineHooks engine_) {
        engine = engine_;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Publishes a calendar; it never changes afterwards.
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook; each window is
    /// within its day (`opens <= closes <= 1440`); some day has working time; the offset
    /// is within -720 and +840 minutes; at most MAX_HOLIDAYS holidays, strictly ascending.
    /// Emits {CalendarPublished}.
    /// @param c The calendar.
    /// @return id Its number (from 1).
    function publish(Calendar calldata c) external returns (uint32 id) {
        // slither-disable-next-line unused-return (it reverts unless the caller is ADMIN)
        engine.checkActor(msg.sender, _ADMIN);
        uint256 weekly = 0;
        for (uint256 d = 0; d < 7; ++d) {
            if (c.opens[d] > c.closes[d] || c.closes[d] > 1440) revert InvalidWindow(d);
            weekly += c.closes[d] - c.opens[d];
        }
        if (weekly == 0) revert NoWorkingTime();
        if (c.utcOffset < -720 || c.utcOffset > 840) revert InvalidOffset(c.utcOffset);
        if (c.holidays.length > MAX_HOLIDAYS) revert TooManyHolidays(c.holidays.length);
        for (uint256 i = 1; i < c.holidays.length; ++i) {
            if (c.holidays[i] <= c.holidays[i - 1]) revert HolidaysNotAscending(i);
        }
        id = ++calendarCount;
        _calendars[id] = c;
        emit CalendarPublished(id, c.opens, c.closes, c.utcOffset, c.holidays);
    }

    /// @notice A published calendar.
    /// @param id Its number.
    /// @return The calendar.
    function calendar(uint32 id) external view returns (Calendar memory) {
        return _load(id);
    }

    /// @notice The instant at which `sla` seconds of working time have passed since `start`
    /// by calendar `id`.
    /// @param id The calendar.
    /// @param start When the clock starts (a UNIX time).
    /// @param sla Working seconds (0: `start` itself).
    /// @return The UNIX time the SLA runs out.
    function deadline(uint32 id, uint256 start, uint256 sla) external view returns (uint256) {
        Calendar memory c = _load(id);
        if (sla == 0) return start;
        int256 offset = int256(c.utcOffset) * 60;
        // local time; a start before 1970 in local time is not a case (timestamps are recent)
        uint256 local = uint256(int256(start) + offset);
        uint256 due = _advance(c, local, sla);
        // Holidays: each one between the start and the deadline so far took working time
        // that was counted; count it again after it (and after the deadline so far).
        uint256 startDay = local / _DAY;
        for (uint256 i = 0; i < c.holidays.length; ++i) {
            uint256 h = c.holidays[i];
            if (h < startDay) continue;
            if (h * _DAY > due) break;
            (uint256 open, uint256 close) = _window(c, h);
            uint256 from = open > local ? open : local;
            uint256 to = close < due ? close : due;
            if (to <= from) continue;
            due = _advance(c, close > due ? close : due, to - from);
        }
        return uint256(int256(due) - offset);
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    function _load(uint32 id) private view returns (Calendar memory c) {
        if (id == 0 || id > calendarCount) revert UnknownCalendar(id);
        c = _calendars[id];
    }

    /// @dev Local day `day`'s working window, as local times.
    function _window(Calendar memory c, uint256 day) private pure returns (uint256 open, uint256 close) {
        // 1970-01-01 was a Thursday: Monday-first weekday 3
        uint256 weekday = (day + 3) % 7;
        open = day * _DAY + uint256(c.opens[weekday]) * 60;
        close = day * _DAY + uint256(c.closes[weekday]) * 60;
    }

    /// @dev The local time at which `amount` working seconds have passed since local time
    /// `t`, holidays aside: the rest of this week day by day, then whole weeks at once,
    /// then at most a week of days.
    function _advance(Calendar memory c, uint256 t, uint256 amount) private pure returns (uint256) {
        uint256 weekly = 0;
        for (uint256 d = 0; d < 7; ++d) {
            weekly += uint256(c.closes[d] - c.opens[d]) * 60;
        }
        // Whole days and weeks are floored on purpose: they index days, the rest is kept.
        // slither-disable-next-line divide-before-multiply
        uint256 day = t / _DAY;
        for (uint256 n = 0; n < 8; ++n) {
            (uint256 open, uint256 close) = _window(c, day);
            if (t < open) t = open;
            if (t < close) {
                if (amount <= close - t) return t + amount;
                amount -= close - t;
            }
            ++day;
            // slither-disable-next-line divide-before-multiply
            t = day * _DAY;
        }
        // `t` is a local midnight: jump whole weeks, keeping at least one week's worth of
        // working time (or all of it, if less is left) for the day loop below.
        if (amount > weekly) {
            // slither-disable-next-line divide-before-multiply
            uint256 whole = (amount - 1) / weekly;
            // slither-disable-next-line divide-before-multiply
            amount -= whole * weekly;
            // slither-disable-next-line divide-before-multiply
            t += whole * _WEEK;
            // slither-disable-next-line divide-before-multiply
            day = t / _DAY;
        }
        // At most a week's working time is left, at most eight days away.
        for (uint256 n = 0; n < 8; ++n) {
            (uint256 open, uint256 close) = _window(c, day);
            if (t < open) t = open;
            if (t < close) {
                if (amount <= close - t) return t + amount;
                amount -= close - t;
            }
            ++day;
            // slither-disable-next-line divide-before-multiply
            t = day * _DAY;
        }
        // unreachable: a week holds `weekly` seconds and `amount <= weekly`
        return t;
    }
}
