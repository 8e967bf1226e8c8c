"""The index: a read model of one deployment, folded from its contracts' events into tables.

The chain stays the source of truth; the index can always be rebuilt from it. Tables
(journeychain.index.schema): journeys (where each stands, as the engine's views answer),
steps, breaches, payouts, claims, ratings, participants, organisations, playbooks; events
(every decoded log, which the other journey tables are folded from); and the cursor (the last
block indexed and its hash) with the hashes of recent blocks, which find where a
reorganisation forked off.

Where it lives: a SQLite file per deployment in the journeychain home
(`$JOURNEY_HOME/index/<chain id>-<engine>-<first block's hash>.sqlite`), or the database a
URL names: `$JOURNEY_INDEX` or the `url` argument (`postgresql://user@host:port/db` moves it
to PostgreSQL, through psycopg 3; a path is a SQLite file). One database holds one deployment.

The API (what the service and the command line call):

    from journeychain.index import Index, JourneyFilter

    index = Index.open(url_or_None, deployment)       # creates or migrates the schema
    last = index.sync(chain, confirmations=2)         # a Chain, a JourneyClient or a Web3
    index.last_reorganisation                         # Reorganisation(fork, cursor) or None
    index.journey("OPP-1")                            # dict | None: state, steps, breaches, payouts, ratings
    index.journeys(status="open", playbook=1, overdue=True, at_risk=False,
                   organisation=3, assignee="0x…", now=None, limit=50, offset=0)
    index.journeys(JourneyFilter(status="open"))      # the same filters as an object (any dataclass
                                                      # with those fields) or a mapping
    # overdue / at_risk: True only those, False only the others, None no filter; organisation:
    # its number or name (its own steps and its participants'); rows as the service shows them
    # (status value_delivered, a closed journey's owner None), oldest first
    index.report(since=None, until=None, group_by="organisation")   # or team, participant, step
    index.timeline("OPP-1")                           # the Timeline journeychain.timeline builds
    index.state(jid, now)                             # the JourneyState client.journey returns

`sync` reads the blocks after the cursor up to the chain's head less `confirmations` blocks
(the last value given is kept), `batch` blocks per log request and per database transaction
(each committed with the cursor, under the index's write lock, so that an interrupted sync
resumes where it stopped and two syncs of one index write each block once), reporting
`progress(done, total)`. Before that it checks the stored hash of the cursor's block against
the chain: when they differ, a reorganisation replaced it, and the index deletes everything the
blocks after the newest still-matching stored block wrote, folds again the journeys they touched
and indexes the new blocks. Journeys are keyed by their 0x id (a reference is hashed to it).
"""

from journeychain.index.report import GROUPS
from journeychain.index.store import (
    Index,
    JourneyFilter,
    Reorganisation,
    database_url,
    default_path,
    index_exists,
)

__all__ = [
    "GROUPS",
    "Index",
    "JourneyFilter",
    "Reorganisation",
    "database_url",
    "default_path",
    "index_exists",
]
