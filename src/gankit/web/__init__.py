"""The web dashboard (``gankit serve``): a FastAPI app over a folder of runs, and a static page.

- ``app.py``: ``create_app``, which wires the guard, the page and the routers;
- ``security.py``: Host/Origin checks, body limits, security headers, generation slots;
- ``schemas.py``: request and response models, bounds, documented errors;
- ``store.py``: runs found by id, logs read incrementally (on top of ``gankit.runs``);
- ``generators.py``: loaded generators and what their declared inputs offer the page;
- ``runs_api.py``, ``generate.py``, ``translate.py``: the routes;
- ``server.py``: the listening socket and the uvicorn server.
"""
