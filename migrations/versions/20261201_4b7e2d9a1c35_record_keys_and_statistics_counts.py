"""record keys and pre-aggregated statistics counts, kept current by the database itself

Every incident gets a permanent random record key (0..2**32-1; the cell key is a hash of a sum);
existing rows get one from Python's ``secrets``. The database keeps, in ``statistics_count``, the
number of counted incidents and the sum of their record keys for each cell of each grouping in
``statistics_grouping`` (a set of dimensions, under the most severe type or every coded type).

Triggers on ``incident`` and ``case_code`` move an incident's contribution from its old cells to
its new ones in the same statement, on SQLite and PostgreSQL alike, whatever path wrote the row:
services, bulk statements, foreign-key actions. On PostgreSQL they take one transaction-level
advisory lock before touching a count, so two changes never deadlock on the counts, and a
``case_code`` change locks its incident's row, so that it cannot race a change of the incident.
While ``statistics_state.counts_current`` is false (a bulk load in progress) the triggers do
nothing and readers count from the incidents; ``rebuild_statistics_counts()`` (which first locks
both tables against writers on PostgreSQL) counts afresh and sets it again.

Keep in step with ``app/research/counts.py``. On SQLite a migration that rebuilds ``incident`` or
``case_code`` (batch mode) drops their triggers and must create them again
(tests/integration/test_statistics_counts.py checks they exist at head).

Revision ID: 4b7e2d9a1c35
Revises: 8c3d1b6e4f20
Create Date: 2026-12-01 15:00:00
"""

# ruff: noqa: S608 - every statement is built from the constant names and codes of this file

import secrets

import sqlalchemy as sa
from alembic import op

revision = "4b7e2d9a1c35"
down_revision = "8c3d1b6e4f20"
branch_labels = None
depends_on = None

# statistics_count column -> (statistics_grouping flag, incident column it is read from)
DIMENSIONS = {
    "incident_type": ("by_incident_type", "coded_most_severe_type"),
    "land": ("by_land", "coded_land"),
    "town": ("by_town", "coded_town"),
    "place_type": ("by_place_type", "coded_place_type"),
    "target": ("by_target", "coded_target"),
    "gender": ("by_gender", "gender"),
    "age_band": ("by_age_band", "age_band"),
}
CELL = ("grouping_id", "verification", "month", "codebook_version", *DIMENSIONS)
EVERY = tuple(DIMENSIONS)
MONTH = ("month",)
# (id, every coded type?, dimensions); within each kind ascending by rows at a million demo
# incidents (in the comments), because a table is read from the first grouping that has its
# dimensions. Decision and codebook version are in every grouping, the month in all but two.
# Chosen so that every table whose rows, columns and filters name at most three dimensions
# (under "every coded type": the type and two more) reads at most about 260,000 rows; larger
# ones the full grouping, without the month when they have no period and no range of months.
GROUPINGS = (
    (1, False, MONTH),  # 86
    (2, False, (*MONTH, "incident_type")),  # 1,237
    (3, False, (*MONTH, "land")),  # 1,333
    (4, False, (*MONTH, "land", "town")),  # 7,854
    (5, False, (*MONTH, "incident_type", "land")),  # 16,372
    (6, False, (*MONTH, "place_type", "target", "gender", "age_band")),  # 24,459
    (7, False, (*MONTH, "incident_type", "place_type", "target", "gender")),  # 34,994
    (8, False, (*MONTH, "incident_type", "place_type", "age_band")),  # 38,992
    (9, False, (*MONTH, "land", "town", "target", "gender")),  # 41,851
    (10, False, (*MONTH, "land", "town", "target", "age_band")),  # 54,683
    (11, False, (*MONTH, "land", "town", "place_type")),  # 64,155
    (12, False, (*MONTH, "incident_type", "land", "town")),  # 71,193
    (13, False, (*MONTH, "land", "place_type", "target", "age_band")),  # 76,805
    (14, False, (*MONTH, "land", "town", "gender", "age_band")),  # 112,722
    (15, False, EVERY),  # 136,588
    (16, False, (*MONTH, "incident_type", "land", "target", "gender", "age_band")),  # 156,135
    (17, False, (*MONTH, "incident_type", "land", "town", "target", "gender")),  # 188,570
    (18, False, (*MONTH, "land", "town", "place_type", "target", "gender")),  # 189,840
    (19, False, (*MONTH, "incident_type", "land", "town", "place_type")),  # 199,797
    (20, False, (*MONTH, "incident_type", "land", "town", "age_band")),  # 208,028
    (21, False, (*MONTH, "land", "town", "place_type", "age_band")),  # 209,363
    (22, False, (*MONTH, *EVERY)),  # 523,485
    (23, True, (*MONTH, "incident_type")),  # 1,243
    (24, True, (*MONTH, "incident_type", "land")),  # 16,757
    (25, True, (*MONTH, "incident_type", "target", "gender", "age_band")),  # 28,920
    (26, True, (*MONTH, "incident_type", "place_type", "target", "gender")),  # 39,945
    (27, True, (*MONTH, "incident_type", "place_type", "age_band")),  # 43,762
    (28, True, (*MONTH, "incident_type", "land", "town")),  # 76,410
    (29, True, (*MONTH, "incident_type", "land", "place_type")),  # 81,708
    (30, True, (*MONTH, "incident_type", "land", "town", "target")),  # 132,577
    (31, True, EVERY),  # 173,466
    (32, True, (*MONTH, "incident_type", "land", "target", "gender", "age_band")),  # 179,366
    (33, True, (*MONTH, "incident_type", "land", "town", "gender")),  # 187,897
    (34, True, (*MONTH, "incident_type", "land", "town", "age_band")),  # 240,935
    (35, True, (*MONTH, "incident_type", "land", "town", "place_type")),  # 256,181
    (36, True, (*MONTH, *EVERY)),  # 725,756
)
COUNTED_DECISIONS = "('verified', 'not_verifiable')"
# Columns whose change can move an incident to another cell (or in or out of the counts).
COUNTED_COLUMNS = ("date_from", "verification", "duplicate_of", "coded_on",
                   "coded_codebook_version", *(source for _flag, source in DIMENSIONS.values()),
                   "record_key")  # fmt: skip
ADVISORY_LOCK = 7240131  # any constant; the same in rebuild_statistics_counts()
KEY_BATCH = 5000
# Record keys are 0..2**32-1 (app/models/incident.py; a copy: migrations never import models).
RECORD_KEYS = 2**32


def _month(row: str, dialect: str) -> str:
    if dialect == "sqlite":
        return f"CAST(strftime('%Y%m', {row}.date_from) AS INTEGER)"
    year, month = f"EXTRACT(YEAR FROM {row}.date_from)", f"EXTRACT(MONTH FROM {row}.date_from)"
    return f"CAST({year} * 100 + {month} AS INTEGER)"


def _counted(row: str) -> str:
    return (
        f"({row}.coded_on IS NOT NULL AND {row}.duplicate_of IS NULL"
        f" AND {row}.verification IN {COUNTED_DECISIONS})"
    )


def _cells(row: str, sign: str, dialect: str, *, every_type: bool, code: str = "c.code") -> str:
    """One row per grouping of the kind (and, for every coded type, per coded type) that the
    incident ``row`` contributes to with ``sign``; nothing when it is not counted."""
    values = []
    for column, (flag, source) in DIMENSIONS.items():
        value = code if every_type and column == "incident_type" else f"{row}.{source}"
        values.append(f"CASE WHEN g.{flag} THEN COALESCE({value}, '') ELSE '*' END AS {column}")
    select = (
        f"SELECT g.id AS grouping_id, {row}.verification AS verification,"
        f" CASE WHEN g.by_month THEN {_month(row, dialect)} ELSE 0 END AS month,"
        f" COALESCE({row}.coded_codebook_version, '') AS codebook_version, {', '.join(values)},"
        f" {sign} AS count, {sign} * {row}.record_key AS key_sum FROM statistics_grouping AS g"
    )
    if every_type and code == "c.code":
        select += (
            f" JOIN case_code AS c ON c.incident_id = {row}.id AND c.question = 'incident_types'"
        )
    kind = "g.every_type" if every_type else "NOT g.every_type"
    return f"{select} WHERE {kind} AND {_counted(row)}"


def _add(parts: list[str]) -> str:
    """Add the rows of ``parts`` to the counts, netted per cell first: a cell is touched once
    per statement (PostgreSQL refuses twice), and a move within a cell touches nothing."""
    cell, delta = ", ".join(CELL), " UNION ALL ".join(parts)
    return (
        f"INSERT INTO statistics_count ({cell}, count, key_sum)"
        f" SELECT {cell}, SUM(count), SUM(key_sum) FROM ({delta}) AS delta"
        f" WHERE true GROUP BY {cell}"
        " HAVING SUM(count) <> 0 OR SUM(key_sum) <> 0"
        f" ON CONFLICT ({cell}) DO UPDATE SET count = statistics_count.count + excluded.count,"
        " key_sum = statistics_count.key_sum + excluded.key_sum"
    )


def _incident_cells(row: str, sign: str, dialect: str) -> list[str]:
    return [
        _cells(row, sign, dialect, every_type=False),
        _cells(row, sign, dialect, every_type=True),
    ]


def _moved_incident(dialect: str) -> list[str]:
    """An incident's contribution taken from its old cells and added to its new ones."""
    return _incident_cells("OLD", "-1", dialect) + _incident_cells("NEW", "1", dialect)


def _case_code_cells(row: str, sign: str, dialect: str, incident: str) -> str:
    """The cells a case code ``row`` adds to, under its incident's (``incident``) dimensions."""
    cells = _cells(incident, sign, dialect, every_type=True, code=f"{row}.code")
    return f"{cells} AND {row}.question = 'incident_types'"


def _changed(columns: tuple[str, ...], dialect: str) -> str:
    differ = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    return " OR ".join(f"OLD.{column} {differ} NEW.{column}" for column in columns)


CURRENT = "(SELECT counts_current FROM statistics_state WHERE id = 1)"


def _sqlite_triggers() -> list[str]:
    join = "JOIN incident AS i ON i.id = {row}.incident_id"
    code_columns = ("incident_id", "question", "code")

    def case_code(row: str, sign: str) -> str:
        # The incident joined in: the FROM of the cells gets it before the WHERE.
        cells = _case_code_cells(row, sign, "sqlite", "i")
        return cells.replace(" WHERE ", f" {join.format(row=row)} WHERE ", 1)

    return [
        "CREATE TRIGGER incident_record_key_is_permanent BEFORE UPDATE OF record_key ON incident"
        " WHEN NEW.record_key IS NOT OLD.record_key"
        " BEGIN SELECT RAISE(ABORT, 'incident.record_key is permanent'); END",
        f"CREATE TRIGGER statistics_count_incident_insert AFTER INSERT ON incident"
        f" WHEN {_counted('NEW')} AND {CURRENT}"
        f" BEGIN {_add(_incident_cells('NEW', '1', 'sqlite'))}; END",
        f"CREATE TRIGGER statistics_count_incident_update AFTER UPDATE OF"
        f" {', '.join(COUNTED_COLUMNS)} ON incident"
        f" WHEN ({_changed(COUNTED_COLUMNS, 'sqlite')})"
        f" AND ({_counted('OLD')} OR {_counted('NEW')}) AND {CURRENT}"
        f" BEGIN {_add(_moved_incident('sqlite'))}; END",
        # Before the row goes: its case codes are still there (a cascade deletes them next,
        # and their own trigger then finds no incident to count them under).
        f"CREATE TRIGGER statistics_count_incident_delete BEFORE DELETE ON incident"
        f" WHEN {_counted('OLD')} AND {CURRENT}"
        f" BEGIN {_add(_incident_cells('OLD', '-1', 'sqlite'))}; END",
        f"CREATE TRIGGER statistics_count_case_code_insert AFTER INSERT ON case_code"
        f" WHEN NEW.question = 'incident_types' AND {CURRENT}"
        f" BEGIN {_add([case_code('NEW', '1')])}; END",
        f"CREATE TRIGGER statistics_count_case_code_update AFTER UPDATE ON case_code"
        f" WHEN ({_changed(code_columns, 'sqlite')}) AND {CURRENT}"
        f" BEGIN {_add([case_code('OLD', '-1'), case_code('NEW', '1')])}; END",
        f"CREATE TRIGGER statistics_count_case_code_delete AFTER DELETE ON case_code"
        f" WHEN OLD.question = 'incident_types' AND {CURRENT}"
        f" BEGIN {_add([case_code('OLD', '-1')])}; END",
    ]


def _postgresql_triggers() -> list[str]:
    current = f"COALESCE({CURRENT}, false)"
    # Checked first without a lock, so that a bulk load with the counts suspended pays little;
    # then again after the advisory lock, which a suspension takes too. A rebuild locks both
    # tables against writers first, so a change that skipped the counts is in what it counts.
    take_turn = (
        f"PERFORM pg_advisory_xact_lock({ADVISORY_LOCK});"
        f" IF NOT {current} THEN RETURN result; END IF;"
    )
    incident_body = (
        # The triggers' WHEN calls this only for incidents counted before or after. PostgreSQL
        # 11+: OLD is NULL on INSERT and NEW on DELETE, so one statement serves every
        # operation (a NULL row is not counted).
        "BEGIN IF TG_OP = 'DELETE' THEN result := OLD; ELSE result := NEW; END IF;"
        f" IF NOT {current} THEN RETURN result; END IF; {take_turn}"
        f" {_add(_moved_incident('postgresql'))}; RETURN result; END"
    )
    moved_code = [_case_code_cells("OLD", "-1", "postgresql", "old_incident"),
                  _case_code_cells("NEW", "1", "postgresql", "new_incident")]  # fmt: skip
    case_code_body = (
        f"BEGIN IF NOT {current} THEN RETURN result; END IF;"
        # Lock the incident's row: a change of the incident waits for this case code's
        # transaction (and the other way round), so neither counts with a stale view.
        " IF TG_OP <> 'INSERT' AND OLD.question = 'incident_types' THEN"
        " SELECT * INTO old_incident FROM incident WHERE id = OLD.incident_id FOR NO KEY UPDATE;"
        " END IF;"
        " IF TG_OP <> 'DELETE' AND NEW.question = 'incident_types' THEN"
        " SELECT * INTO new_incident FROM incident WHERE id = NEW.incident_id FOR NO KEY UPDATE;"
        " END IF;"
        f" IF NOT (COALESCE({_counted('old_incident')}, false)"
        f" OR COALESCE({_counted('new_incident')}, false)) THEN RETURN result; END IF;"
        f" {take_turn} {_add(moved_code)}; RETURN result; END"
    )
    return [
        "CREATE FUNCTION incident_record_key_is_permanent() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'incident.record_key is permanent'; END $$",
        "CREATE TRIGGER incident_record_key_is_permanent BEFORE UPDATE OF record_key ON incident"
        " FOR EACH ROW WHEN (NEW.record_key IS DISTINCT FROM OLD.record_key)"
        " EXECUTE FUNCTION incident_record_key_is_permanent()",
        "CREATE FUNCTION statistics_count_incident() RETURNS trigger LANGUAGE plpgsql AS"
        f" $$ DECLARE result incident; {incident_body} $$",
        # Not even called for a new report: it is not coded yet, so it counts nowhere.
        "CREATE TRIGGER statistics_count_incident_insert AFTER INSERT ON incident"
        f" FOR EACH ROW WHEN {_counted('NEW')} EXECUTE FUNCTION statistics_count_incident()",
        f"CREATE TRIGGER statistics_count_incident_update AFTER UPDATE OF"
        f" {', '.join(COUNTED_COLUMNS)} ON incident FOR EACH ROW"
        f" WHEN (({_changed(COUNTED_COLUMNS, 'postgresql')})"
        f" AND ({_counted('OLD')} OR {_counted('NEW')}))"
        " EXECUTE FUNCTION statistics_count_incident()",
        # Before the row goes, while its case codes are still there (see the SQLite trigger).
        "CREATE TRIGGER statistics_count_incident_delete BEFORE DELETE ON incident"
        f" FOR EACH ROW WHEN {_counted('OLD')} EXECUTE FUNCTION statistics_count_incident()",
        "CREATE FUNCTION statistics_count_case_code() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ DECLARE old_incident incident; new_incident incident; result case_code;"
        f" {case_code_body} $$",
        # Only incident types are counted: the other codes do not even call the function.
        "CREATE TRIGGER statistics_count_case_code_insert AFTER INSERT ON case_code FOR EACH ROW"
        " WHEN (NEW.question = 'incident_types') EXECUTE FUNCTION statistics_count_case_code()",
        "CREATE TRIGGER statistics_count_case_code_update AFTER UPDATE ON case_code FOR EACH ROW"
        " WHEN (OLD.question = 'incident_types' OR NEW.question = 'incident_types')"
        " EXECUTE FUNCTION statistics_count_case_code()",
        "CREATE TRIGGER statistics_count_case_code_delete AFTER DELETE ON case_code FOR EACH ROW"
        " WHEN (OLD.question = 'incident_types') EXECUTE FUNCTION statistics_count_case_code()",
    ]


def _fill_record_keys() -> None:
    """A key from ``secrets`` for every existing incident (the database's random() is not
    meant for secrets on either engine)."""
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM incident ORDER BY id")).scalars().all()
    update = sa.text("UPDATE incident SET record_key = :key WHERE id = :id")
    for start in range(0, len(ids), KEY_BATCH):
        batch = ids[start : start + KEY_BATCH]
        connection.execute(
            update, [{"id": id_, "key": secrets.randbelow(RECORD_KEYS)} for id_ in batch]
        )


def _fill_counts(dialect: str) -> None:
    """Every grouping from the incidents, as ``rebuild_statistics_counts()`` does."""
    cell = ", ".join(CELL)
    for every_type in (False, True):
        cells = _cells("incident", "1", dialect, every_type=every_type).replace(
            "FROM statistics_grouping AS g", "FROM incident CROSS JOIN statistics_grouping AS g", 1
        )
        op.execute(
            f"INSERT INTO statistics_count ({cell}, count, key_sum)"
            f" SELECT {cell}, SUM(count), SUM(key_sum) FROM ({cells}) AS cells GROUP BY {cell}"
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite adds a NOT NULL column only with a default; the keys replace it at once, and
        # the application always writes its own (``Incident.record_key``'s default).
        op.execute(
            "ALTER TABLE incident ADD COLUMN record_key BIGINT NOT NULL DEFAULT 0"
            " CONSTRAINT ck_incident_record_key_range"
            f" CHECK (record_key BETWEEN 0 AND {RECORD_KEYS - 1})"
        )
        _fill_record_keys()
    else:
        op.add_column("incident", sa.Column("record_key", sa.BigInteger(), nullable=True))
        _fill_record_keys()
        op.alter_column("incident", "record_key", nullable=False)
        op.create_check_constraint(
            op.f("ck_incident_record_key_range"),
            "incident",
            f"record_key BETWEEN 0 AND {RECORD_KEYS - 1}",
        )
    op.create_table(
        "statistics_grouping",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("every_type", sa.Boolean(), nullable=False),
        sa.Column("by_month", sa.Boolean(), nullable=False),
        *(sa.Column(flag, sa.Boolean(), nullable=False) for flag, _ in DIMENSIONS.values()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_grouping")),
    )
    op.create_table(
        "statistics_count",
        sa.Column("grouping_id", sa.SmallInteger(), nullable=False),
        sa.Column("verification", sa.String(length=16), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("codebook_version", sa.String(length=32), nullable=False),
        sa.Column("incident_type", sa.String(length=64), nullable=False),
        sa.Column("land", sa.String(length=2), nullable=False),
        sa.Column("town", sa.String(length=64), nullable=False),
        sa.Column("place_type", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=False),
        sa.Column("age_band", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("key_sum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grouping_id"],
            ["statistics_grouping.id"],
            name=op.f("fk_statistics_count_grouping_id_statistics_grouping"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(*CELL, name=op.f("pk_statistics_count")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "statistics_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counts_current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_state")),
    )
    groupings = sa.table(
        "statistics_grouping",
        sa.column("id"),
        sa.column("every_type"),
        sa.column("by_month"),
        *(sa.column(flag) for flag, _ in DIMENSIONS.values()),
    )
    op.bulk_insert(
        groupings,
        [
            {"id": number, "every_type": every_type, "by_month": "month" in dimensions,
             **{flag: column in dimensions for column, (flag, _) in DIMENSIONS.items()}}
            for number, every_type, dimensions in GROUPINGS
        ],
    )  # fmt: skip
    op.execute(
        sa.text(
            "INSERT INTO statistics_state (id, counts_current) VALUES (1, :current)"
        ).bindparams(current=True)
    )
    _fill_counts(dialect)
    for statement in _sqlite_triggers() if dialect == "sqlite" else _postgresql_triggers():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("incident_record_key_is_permanent", "statistics_count_incident_insert",
                     "statistics_count_incident_update", "statistics_count_incident_delete",
                     "statistics_count_case_code_insert", "statistics_count_case_code_update",
                     "statistics_count_case_code_delete"):  # fmt: skip
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name, table in (("incident_record_key_is_permanent", "incident"),
                            ("statistics_count_incident_insert", "incident"),
                            ("statistics_count_incident_update", "incident"),
                            ("statistics_count_incident_delete", "incident"),
                            ("statistics_count_case_code_insert", "case_code"),
                            ("statistics_count_case_code_update", "case_code"),
                            ("statistics_count_case_code_delete", "case_code")):  # fmt: skip
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for function in ("incident_record_key_is_permanent", "statistics_count_incident",
                         "statistics_count_case_code"):  # fmt: skip
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("statistics_state")
    op.drop_table("statistics_count")
    op.drop_table("statistics_grouping")
    if dialect == "sqlite":
        op.execute("ALTER TABLE incident DROP COLUMN record_key")
    else:
        op.drop_constraint(op.f("ck_incident_record_key_range"), "incident", type_="check")
        op.drop_column("incident", "record_key")
