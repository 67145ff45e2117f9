"""Piccolo configuration: SQLite file by default, PostgreSQL when DATABASE_URL is set."""
from piccolo.conf.apps import AppRegistry

from tracker.core.db import make_engine

DB = make_engine()

APP_REGISTRY = AppRegistry(apps=["tracker.piccolo_app"])
