<%!
    import re

    def uses(name, *bodies):
        """Whether the rendered operations name this module (so its import is used)."""
        return any(re.search(rf"\b{name}\.", body or "") for body in bodies)
%>\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from collections.abc import Sequence

% if uses("sa", upgrades, downgrades):
import sqlalchemy as sa
% endif
% if uses("sqlmodel", upgrades, downgrades):
import sqlmodel
% endif
% if uses("op", upgrades, downgrades):
from alembic import op
% endif
% for line in sorted((imports or "").splitlines()):
${line}
% endfor

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
