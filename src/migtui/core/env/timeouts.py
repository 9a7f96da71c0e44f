"""How long migtui waits while it only looks at a database (see core/env/looking.py).

Apart from looking.py so that what only needs the numbers (reading environments in
other processes) does not import SQLAlchemy for them.
"""

LOCK_TIMEOUT_S = 3  # waiting this long for a lock while only looking is an error
STATEMENT_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 5  # a host that does not answer at all, while only looking
