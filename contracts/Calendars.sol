// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEngineHooks} from "./interfaces/IEngineHooks.sol";

/// @title Calendars
/// @notice Working-time calendars, as SLA tools count an SLA: weekly working hours (one
/// window a day, in local time at a fixed UTC offset) and a bounded list of holidays. A
/// calendar is published once, numbered, and never changes; the engine's companion factory
/// deploys this contract (in its own transaction, so that the engine's deployment stays under a
/// block's gas limit) and binds it to the engine as the engine is built; the engine asks it for
/// the deadline of every step that names a calendar. Calendar 0
/// is wall-clock time (every second counts), so a caller needs no case of its own.
/// `deadline` is the instant at which a given amount of working time has passed since a
/// start. Every loop is bounded: at most two weeks of days around a jump over whole weeks,
/// and one pass over the calendar's holidays (at most 64).
contract Calendars {
    /*//////////////////////////////////////////////////////////////
                                  TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A calendar as published. `opens` and `closes` are minutes after local
    /// midnight, Monday first; a day with `opens == closes` is not a working day.
    /// `utcOffset` is in minutes (local = UTC + offset). `holidays` are local days
    /// (days since 1970-01-01 in local time, before 2149: below 65,536), strictly ascending.
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
    /// @notice The most calendars one engine keeps (a playbook step names one in 8 bits).
    uint32 public constant MAX_CALENDARS = 255;
    uint256 private constant _DAY = 86_400;
    uint256 private constant _WEEK = 7 * _DAY;
    bytes32 private constant _ADMIN = bytes32(0);
    /// @dev Header layout: day d's opening minute in bits 22d..22d+10 and its closing minute
    /// in bits 22d+11..22d+21 (154 bits); the UTC offset plus 720 in bits 154-164; the
    /// holiday count in 165-171; the weekly working minutes in 172-185; the first day of
    /// each of the four holiday words in 186-249 (16 bits each).
    uint256 private constant _OFFSET_AT = 154;
    uint256 private constant _COUNT_AT = 165;
    uint256 private constant _WEEKLY_AT = 172;
    uint256 private constant _FIRSTS_AT = 186;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The engine whose ADMIN publishes calendars (zero until bound).
    IEngineHooks public engine;
    /// @dev Who deployed it (the companion factory), the one account that may bind it, once.
    address private immutable _binder;

    /// @dev Each calendar in one header word (see `_OFFSET_AT`), read by every deadline.
    mapping(uint32 id => uint256 header) private _headers;
    /// @dev Its holidays, 16 bits each, sixteen to a word: a deadline reads only the words
    /// whose days its span reaches.
    mapping(uint32 id => uint256[4] words) private _holidays;
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
    /// @param index The first holiday not after the one before it, or past the last day a
    /// calendar can name (65,535).
    error HolidaysNotAscending(uint256 index);
    /// @param id A calendar that was never published.
    error UnknownCalendar(uint32 id);
    /// @dev MAX_CALENDARS are published already.
    error TooManyCalendars();
    /// @param caller Not the deployer, or the calendars are bound already.
    error NotBinder(address caller);
    /// @param due A deadline past 2^40 seconds (the year 36812), which no journey can keep.
    error DeadlineOutOfRange(uint256 due);

    /// @param id Its number.
    /// @param opens Each weekday's opening minute (Monday first).
    /// @param closes Each weekday's closing minute.
    /// @param utcOffset Minutes east of UTC.
    /// @param holidays The local days off.
    event CalendarPublished(uint32 indexed id, uint16[7] opens, uint16[7] closes, int16 utcOffset, uint32[] holidays);

    /// @param engine_ The engine the calendars serve.
    event EngineBound(address indexed engine_);

    constructor() {
        _binder = msg.sender;
    }

    /// @notice Binds the calendars to their engine, once.
    /// @dev Requirements: the caller deployed this contract; it is not bound yet. Emits {EngineBound}.
    /// @param engine_ The engine whose ADMIN publishes calendars.
    function bind(IEngineHooks engine_) external {
        if (msg.sender != _binder || address(engine) != address(0)) revert NotBinder(msg.sender);
        engine = engine_;
        emit EngineBound(address(engine_));
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Publishes a calendar; it never changes afterwards.
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook; fewer than
    /// MAX_CALENDARS are published; each window is within its day (`opens <= closes <= 1440`);
    /// some day has working time; the offset is within -720 and +840 minutes; at most
    /// MAX_HOLIDAYS holidays, strictly ascending, each below 65,536. Emits {CalendarPublished}.
    /// @param c The calendar.
    /// @return id Its number (from 1).
    function publish(Calendar calldata c) external returns (uint32 id) {
        // slither-disable-next-line unused-return (it reverts unless the caller is ADMIN)
        engine.checkActor(msg.sender, _ADMIN);
        if (calendarCount >= MAX_CALENDARS) revert TooManyCalendars();
        uint256 header = 0;
        uint256 weekly = 0;
        for (uint256 d = 0; d < 7; ++d) {
            if (c.opens[d] > c.closes[d] || c.closes[d] > 1440) revert InvalidWindow(d);
            weekly += c.closes[d] - c.opens[d];
            header |= (uint256(c.opens[d]) << (22 * d)) | (uint256(c.closes[d]) << (22 * d + 11));
        }
        if (weekly == 0) revert NoWorkingTime();
        if (c.utcOffset < -720 || c.utcOffset > 840) revert InvalidOffset(c.utcOffset);
        uint256 n = c.holidays.length;
        if (n > MAX_HOLIDAYS) revert TooManyHolidays(n);
        // the offset is within -720 and 840: plus 720 it fits 11 bits
        header |= (uint256(int256(c.utcOffset) + 720) << _OFFSET_AT) | (n << _COUNT_AT) | (weekly << _WEEKLY_AT);
        uint256[4] memory words = [uint256(0), 0, 0, 0];
        // Whole words of sixteen holidays are floored on purpose: they index words.
        // slither-disable-start divide-before-multiply
        for (uint256 i = 0; i < n; ++i) {
            uint256 h = c.holidays[i];
            if (h > type(uint16).max || (i > 0 && h <= c.holidays[i - 1])) revert HolidaysNotAscending(i);
            words[i / 16] |= h << (16 * (i % 16));
            if (i % 16 == 0) header |= h << (_FIRSTS_AT + 16 * (i / 16));
        }
        // slither-disable-end divide-before-multiply
        id = ++calendarCount;
        _headers[id] = header;
        for (uint256 w = 0; w * 16 < n; ++w) {
            _holidays[id][w] = words[w];
        }
        emit CalendarPublished(id, c.opens, c.closes, c.utcOffset, c.holidays);
    }

    /// @notice A published calendar.
    /// @param id Its number.
    /// @return c The calendar.
    function calendar(uint32 id) external view returns (Calendar memory c) {
        uint256 header = _header(id);
        for (uint256 d = 0; d < 7; ++d) {
            c.opens[d] = uint16((header >> (22 * d)) & 0x7ff);
            c.closes[d] = uint16((header >> (22 * d + 11)) & 0x7ff);
        }
        c.utcOffset = int16(int256((header >> _OFFSET_AT) & 0x7ff) - 720);
        uint256 n = (header >> _COUNT_AT) & 0x7f;
        c.holidays = new uint32[](n);
        for (uint256 i = 0; i < n; ++i) {
            c.holidays[i] = uint32((_holidays[id][i / 16] >> (16 * (i % 16))) & 0xffff);
        }
    }

    /// @notice The instant at which `sla` seconds of working time have passed since `start`
    /// by calendar `id` (0: wall-clock time).
    /// @param id The calendar.
    /// @param start When the clock starts (a UNIX time).
    /// @param sla Working seconds (0: `start` itself).
    /// @return The UNIX time the SLA runs out.
    function deadline(uint32 id, uint256 start, uint256 sla) public view returns (uint256) {
        // slither-disable-next-line incorrect-equality (calendar 0 is wall-clock time)
        if (id == 0 || sla == 0) {
            if (id != 0) _header(id);
            return start + sla;
        }
        uint256 header = _header(id);
        int256 offset = _offset(header);
        // local time; a start before 1970 in local time is not a case (timestamps are recent)
        uint256 local = uint256(int256(start) + offset);
        uint256 due = _advance(header, local, sla);
        // Holidays: each one between the start and the deadline so far took working time
        // that was counted; count it again after it (and after the deadline so far).
        uint256 startDay = local / _DAY;
        uint256 n = (header >> _COUNT_AT) & 0x7f;
        uint256 word = 0;
        for (uint256 i = 0; i < n; ++i) {
            if (i % 16 == 0) {
                // the first day of this word (and of the next): skip or stop a word at a time
                if (_firstDay(header, i / 16) * _DAY > due) break;
                if (i + 16 < n && _firstDay(header, i / 16 + 1) <= startDay) {
                    i += 15;
                    continue;
                }
                word = _holidays[id][i / 16];
            }
            uint256 h = (word >> (16 * (i % 16))) & 0xffff;
            if (h < startDay) continue;
            if (h * _DAY > due) break;
            (uint256 open, uint256 close) = _window(header, h);
            uint256 from = open > local ? open : local;
            uint256 to = close < due ? close : due;
            if (to <= from) continue;
            due = _advance(header, close > due ? close : due, to - from);
        }
        due = uint256(int256(due) - offset);
        if (due > type(uint40).max) revert DeadlineOutOfRange(due);
        return due;
    }

    /// @notice The working seconds between two instants by calendar `id` (0: wall-clock time).
    /// @param id The calendar.
    /// @param from The first instant.
    /// @param to The second (none when it is not after `from`).
    /// @return amount Working seconds in [from, to).
    function workingTime(uint32 id, uint256 from, uint256 to) public view returns (uint256 amount) {
        if (to <= from) return 0;
        // slither-disable-next-line incorrect-equality (calendar 0 is wall-clock time)
        if (id == 0) return to - from;
        uint256 header = _header(id);
        int256 offset = _offset(header);
        uint256 a = uint256(int256(from) + offset);
        uint256 b = uint256(int256(to) + offset);
        // whole weeks hold the weekly minutes each; the rest is at most eight days (whole
        // weeks and days are floored on purpose: they count and index, the rest is kept)
        // slither-disable-start divide-before-multiply
        uint256 weeks_ = (b - a) / _WEEK;
        amount = weeks_ * (((header >> _WEEKLY_AT) & 0x3fff) * 60);
        // slither-disable-next-line divide-before-multiply (whole days index days)
        for (uint256 day = (a + weeks_ * _WEEK) / _DAY; day * _DAY < b; ++day) {
            amount += _overlap(header, day, a + weeks_ * _WEEK, b);
        }
        // slither-disable-end divide-before-multiply
        uint256 n = (header >> _COUNT_AT) & 0x7f;
        uint256 first = a / _DAY;
        uint256 word = 0;
        for (uint256 i = 0; i < n; ++i) {
            if (i % 16 == 0) word = _holidays[id][i / 16];
            uint256 h = (word >> (16 * (i % 16))) & 0xffff;
            if (h * _DAY >= b) break;
            if (h >= first) amount -= _overlap(header, h, a, b);
        }
    }

    /// @notice The instant `amount` working seconds before `end` by calendar `id` (0:
    /// wall-clock time): when a step whose deadline is `end` has `amount` working seconds
    /// left. Computed from a fixed early reference: a view for the SDK and the engine's
    /// `stepAtRisk`, not for a transaction.
    /// @param id The calendar.
    /// @param end The deadline.
    /// @param amount Working seconds.
    /// @return The UNIX time (the reference, one day after 1970-01-01, if there is not that much).
    function before(uint32 id, uint256 end, uint256 amount) external view returns (uint256) {
        // slither-disable-next-line incorrect-equality (calendar 0 is wall-clock time)
        if (id == 0) return amount <= end ? end - amount : 0;
        uint256 total = workingTime(id, _DAY, end);
        if (amount >= total) return _DAY;
        return deadline(id, _DAY, total - amount);
    }

    /// @notice Moves a clock: the working seconds left at `from` before `due`, and the
    /// instant they run out when the clock starts again at `restart` (a pause, a dispute).
    /// A deadline already passed at `from` has nothing left: it moves by the time between
    /// `from` and `restart`, and stays passed.
    /// @param id The calendar (0: wall-clock time).
    /// @param from When the clock stopped.
    /// @param due Its deadline then.
    /// @param restart When it runs again.
    /// @return left The working seconds it had left.
    /// @return moved The new deadline.
    function moveDeadline(uint32 id, uint256 from, uint256 due, uint256 restart)
        external
        view
        returns (uint256 left, uint256 moved)
    {
        // slither-disable-next-line timestamp (deadlines compared)
        if (due <= from) return (0, due + (restart > from ? restart - from : 0));
        left = workingTime(id, from, due);
        moved = deadline(id, restart, left);
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev A published calendar's header (never zero: it has working time).
    function _header(uint32 id) private view returns (uint256 header) {
        header = _headers[id];
        // slither-disable-next-line incorrect-equality (an unpublished calendar's header is zero)
        if (header == 0) revert UnknownCalendar(id);
    }

    /// @dev The UTC offset in seconds.
    function _offset(uint256 header) private pure returns (int256) {
        return (int256((header >> _OFFSET_AT) & 0x7ff) - 720) * 60;
    }

    /// @dev The first holiday of holiday word `w`.
    function _firstDay(uint256 header, uint256 w) private pure returns (uint256) {
        return (header >> (_FIRSTS_AT + 16 * w)) & 0xffff;
    }

    /// @dev Local day `day`'s working window, as local times.
    function _window(uint256 header, uint256 day) private pure returns (uint256 open, uint256 close) {
        // 1970-01-01 was a Thursday: Monday-first weekday 3
        uint256 at = 22 * ((day + 3) % 7);
        open = day * _DAY + ((header >> at) & 0x7ff) * 60;
        close = day * _DAY + ((header >> (at + 11)) & 0x7ff) * 60;
    }

    /// @dev The working seconds of local day `day` within [a, b).
    function _overlap(uint256 header, uint256 day, uint256 a, uint256 b) private pure returns (uint256) {
        (uint256 open, uint256 close) = _window(header, day);
        uint256 lo = open > a ? open : a;
        uint256 hi = close < b ? close : b;
        return hi > lo ? hi - lo : 0;
    }

    /// @dev The local time at which `amount` working seconds have passed since local time
    /// `t`, holidays aside: the rest of today, then whole weeks at once, then at most seven
    /// days. Unchecked: local times and amounts stay below 2^48 (a deadline past 2^40 is
    /// refused after), so no sum or product below comes near 2^256, and every subtraction is
    /// of a smaller value (`close - t` with `t < close`; `amount` less what it exceeds).
    function _advance(uint256 header, uint256 t, uint256 amount) private pure returns (uint256) {
        // Whole days and weeks are floored on purpose: they index days, the rest is kept.
        // slither-disable-start divide-before-multiply
        unchecked {
            uint256 day = t / _DAY;
            // 1970-01-01 was a Thursday: Monday-first weekday 3
            uint256 at = 22 * ((day + 3) % 7);
            for (uint256 n = 0; n < 8; ++n) {
                uint256 base = day * _DAY;
                uint256 open = base + ((header >> at) & 0x7ff) * 60;
                uint256 close = base + ((header >> (at + 11)) & 0x7ff) * 60;
                if (t < open) t = open;
                if (t < close) {
                    if (amount <= close - t) return t + amount;
                    amount -= close - t;
                }
                ++day;
                t = day * _DAY;
                at = at == 132 ? 0 : at + 22;
                if (n == 0) {
                    // `t` is a local midnight: jump whole weeks, keeping at least one week's
                    // worth of working time (or all of it, if less is left) for seven days.
                    uint256 weekly = ((header >> _WEEKLY_AT) & 0x3fff) * 60;
                    if (amount > weekly) {
                        uint256 whole = (amount - 1) / weekly;
                        amount -= whole * weekly;
                        t += whole * _WEEK;
                        day += whole * 7;
                    }
                }
            }
            // unreachable: seven days hold `weekly` seconds and `amount <= weekly`
            return t;
        }
        // slither-disable-end divide-before-multiply
    }
}
