"""Amounts as people read them: the incentive token always with its symbol, the chain's own
currency (what gas is paid in) in ether. Every table, sentence and refusal formats amounts here,
so that one amount reads the same everywhere."""

from __future__ import annotations

#: The incentive token's symbol and decimals (JourneyToken: "Journey Incentive", JIT, 18).
SYMBOL = "JIT"
DECIMALS = 18


def decimal(amount: int, decimals: int = DECIMALS) -> str:
    """`amount` units of 10**-decimals as an exact decimal number, thousands separated:
    1,000 or 12.5 or 0.000000000000000001 (never rounded)."""
    sign = "-" if int(amount) < 0 else ""
    whole, frac = divmod(abs(int(amount)), 10**decimals)
    text = f"{sign}{whole:,}"
    if frac:
        text += "." + str(frac).rjust(decimals, "0").rstrip("0")
    return text


def tokens(amount: int, decimals: int = DECIMALS, symbol: str = SYMBOL) -> str:
    """An amount of the incentive token with its unit: '1,000 JIT', '12.5 JIT'."""
    return f"{decimal(amount, decimals)} {symbol}"


def ether(wei: int) -> str:
    """An amount of the chain's own currency (gas and balances) in ether: '0.0042 ether'."""
    return f"{decimal(wei, 18)} ether"


def gwei(wei: int) -> str:
    """A gas price in gwei: '1.5 gwei'."""
    return f"{decimal(wei, 9)} gwei"
