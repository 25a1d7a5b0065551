"""The web page and REST API served by `digitrec serve`: `digitrec.web.app.create_app`.

Nothing is imported here, so that the CLI can read the settings without loading FastAPI.
"""
