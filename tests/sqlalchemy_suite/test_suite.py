"""SQLAlchemy's dialect compliance suite; requirements.py says what the server supports."""
from sqlalchemy.testing.suite import *  # noqa: F401,F403
