"""How fast the index answers `journey list` and `journey report` with 10,000 journeys indexed.

Run by `make bench` (after the gas benchmark), or alone: ``python scripts/bench_index.py``.
On a throwaway chain the demo's five journeys run for real and are indexed; then their events
are copied under 10,000 new journey ids (the same blocks, other log positions) and folded into
the tables by the index's own fold, as a sync folds what it reads. It times, each the best of
three runs: `journey list` (the table, and --json) and `journey report` through the command line
as a user types them, and the index's API (`journeys` with a filter, `report`); and, for scale,
`journey list --no-index` over the chain's five real journeys, per journey. Prints a table with
PASS or MISS against the one-second target and writes reports/index.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select
from typer.testing import CliRunner

from journeychain.cli import app
from journeychain.demo import SCENARIOS, network
from journeychain.index import Index
from journeychain.index import schema as tables

JOURNEYS = 10_000
TARGET_SECONDS = 1.0
REPORT = Path("reports/index.json")
#: Log positions of the copies: copy k of a log at position i sits at i + k * SPREAD.
SPREAD = 1_000


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def synthesise(index: Index, count: int) -> None:
    """Copies the indexed journeys' events under new ids until `count` journeys are indexed,
    and folds every copy into the tables."""
    with index.db.begin() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(tables.events).where(tables.events.c.journey_id.is_not(None))
            ).mappings()
        ]
        templates: dict[str, list[dict]] = {}
        for r in rows:
            templates.setdefault(r["journey_id"], []).append(r)
        made: list[str] = []
        copy = 1
        while len(made) + len(templates) < count:
            batch = []
            for original, events in templates.items():
                if len(made) + len(templates) >= count:
                    break
                jid = "0x" + (int(original, 16) ^ copy).to_bytes(32, "big").hex()
                for r in events:
                    args = r["args"].replace(original[2:], jid[2:])
                    batch.append(
                        r | {"journey_id": jid, "log_index": r["log_index"] + copy * SPREAD, "args": args}
                    )
                made.append(jid)
            conn.execute(insert(tables.events), batch)
            copy += 1
        index._refold(conn, made)


READS = (
    "list_seconds",
    "list_json_seconds",
    "list_overdue_seconds",
    "report_seconds",
    "report_csv_seconds",
    "api_journeys_open_50_seconds",
    "api_report_seconds",
)


def measure(chain, crew, work: Path, url: str) -> dict[str, float]:
    """The figures of one index (a SQLite file or a PostgreSQL database) filled to JOURNEYS."""
    env = {
        "JOURNEY_RPC": chain.url,
        "JOURNEY_DEPLOYMENTS": str(work / "deployments"),
        "JOURNEY_HOME": str(work / "home"),
        "JOURNEY_INDEX": url,
    }
    runner = CliRunner()

    def journey(*args: str) -> Callable[[], None]:
        def run() -> None:
            result = runner.invoke(app, list(args), env=env)
            if result.exit_code != 0:
                raise SystemExit(f"journey {' '.join(args)} failed: {result.output}")

        return run

    with Index.open(url, crew.deployment) as index:
        index.sync(chain)
        started = time.perf_counter()
        synthesise(index, JOURNEYS)
        fold = time.perf_counter() - started
        now = chain.now()
        return {
            "journeys_indexed": index.counts()["journeys"],
            "fold_seconds": fold,
            "list_seconds": best_of(3, journey("list")),
            "list_json_seconds": best_of(3, journey("--json", "list")),
            "list_overdue_seconds": best_of(3, journey("list", "--overdue")),
            "report_seconds": best_of(3, journey("report", "--by", "participant")),
            "report_csv_seconds": best_of(3, journey("report", "--by", "step", "--csv")),
            "api_journeys_open_50_seconds": best_of(
                3, lambda: index.journeys(status="open", limit=50, now=now)
            ),
            "api_report_seconds": best_of(3, lambda: index.report(group_by="organisation")),
        }


def chain_list_per_journey(chain, work: Path) -> float:
    """`journey list --no-index` over the chain's real journeys, per journey."""
    env = {
        "JOURNEY_RPC": chain.url,
        "JOURNEY_DEPLOYMENTS": str(work / "deployments"),
        "JOURNEY_HOME": str(work / "home"),
    }
    runner = CliRunner()
    return best_of(3, lambda: runner.invoke(app, ["list", "--no-index"], env=env)) / len(SCENARIOS)


def main() -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="journey-bench-index-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        chain, crew = stack.enter_context(network(work=work))
        for reference, scenario in SCENARIOS:
            scenario(crew, reference, lambda: None)
        per_journey = chain_list_per_journey(chain, work)
        results["sqlite"] = measure(chain, crew, work, str(work / "index.sqlite"))
        try:
            from tests.pg import new_database, postgres_server, server_binaries

            server_binaries()
        except (ImportError, RuntimeError) as exc:
            print(f"PostgreSQL not measured: {exc}")
        else:
            server = stack.enter_context(postgres_server())
            results["postgresql"] = measure(chain, crew, work, new_database(server))
    report: dict[str, dict[str, float] | float] = {"chain_list_seconds_per_journey": per_journey}
    print()
    print(
        f"journey list --no-index: {per_journey * 1000:.1f} ms per journey on the chain "
        f"({per_journey * JOURNEYS:.0f} s for 10,000, extrapolated)"
    )
    for backend, figures in results.items():
        figures["list_speedup_over_chain_at_10000"] = per_journey * JOURNEYS / figures["list_seconds"]
        print()
        print(
            f"{backend}: {figures['journeys_indexed']:,} journeys indexed "
            f"(folded in {figures['fold_seconds']:.1f} s)"
        )
        print(f"{'read':<34}{'ms':>10}")
        print("-" * 44)
        for name in READS:
            print(f"{name.removesuffix('_seconds'):<34}{figures[name] * 1000:>10.1f}")
        print(
            f"the index answers journey list {figures['list_speedup_over_chain_at_10000']:.0f}x faster "
            "than the chain would"
        )
        for name in ("list_seconds", "report_seconds"):
            ok = figures[name] < TARGET_SECONDS
            print(
                f"{name.removesuffix('_seconds')} with 10,000 journeys under {TARGET_SECONDS:.0f} s  "
                + ("PASS" if ok else "MISS")
            )
        report[backend] = {k: round(v, 6) for k, v in figures.items()}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {REPORT}")
    return results


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
