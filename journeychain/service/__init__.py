"""`journey serve`: the HTTP service that CRMs and ticketing tools call.

`app.py` builds the FastAPI app, `routes/` one router per resource, `store.py` the database,
`auth.py` tokens and webhook signatures, `jobs.py` the writes sent through the SDK and
reconciled after a restart, `notify.py` notifications out, `reader.py` the read interface,
`service.py` the wiring. The service calls the SDK; the chain stays the source of truth.
"""
