"""The web pages `journey serve` serves: the operations dashboard and the customer's own page.

- `journeychain.web.routes.web_router(source, links)`: the pages and their JSON, a FastAPI router;
- `journeychain.web.source.WebSource`: what the pages show, read from the chain;
- `journeychain.web.links.CustomerLinks`: the customer's unguessable, expiring links;
- `journeychain.web.assets`: the browser libraries, from the npm lock file.
"""
