"""Alembic environment: runs on the connection ``Database.migrate`` hands over.

The hub's own revisions compare against the hub's tables; a plugin's run on
their own version table (``version_table``), against no metadata of ours.
"""

from alembic import context

import hub.store  # noqa: F401 - every repository's tables on Base.metadata
from hub.store.database import Base

attributes = context.config.attributes
context.configure(connection=attributes["connection"],
                  target_metadata=Base.metadata if attributes.get("hub_tables", True) else None,
                  version_table=attributes.get("version_table", "alembic_version"), render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
