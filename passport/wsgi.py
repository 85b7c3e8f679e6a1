"""WSGI entry point for any server: ``gunicorn passport.wsgi:app``."""

from passport.app import create_app

app = create_app()
