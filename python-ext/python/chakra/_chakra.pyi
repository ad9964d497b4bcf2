"""Type stubs of the native module ``chakra._chakra`` (the Rust half of the package)."""

import os
from collections.abc import Sequence
from typing import Any, Literal, TypedDict, final

from typing_extensions import NotRequired

from chakra.sqlite_copy import SqliteInfo

__all__ = [
    "TRACE",
    "ChunkCursor",
    "Completer",
    "Job",
    "ModelHandle",
    "PoolRef",
    "Query",
    "TxHandle",
    "WalMark",
    "batch_job",
    "check_schema",
    "check_url",
    "configure_databases",
    "create_table_sql",
    "create_tables_job",
    "database_models",
    "database_names",
    "database_pool",
    "database_url",
    "default_url",
    "drop_tables_job",
    "execute_job",
    "fetch_job",
    "flush_order",
    "fork_child",
    "fork_parent",
    "fork_prepare",
    "generate_models",
    "migrate_main",
    "noop_job",
    "raw_job",
    "register_model",
    "register_model_layer",
    "reset_databases",
    "shutdown",
    "sqlite_info",
    "tracked_updates_job",
]

TRACE: int
"""The ``logging`` level of ``chakra.sql`` records carrying bound values."""

@final
class Job:
    """One unit of database work; runs once, awaited or with :meth:`run_sync`."""

    def run_sync(self) -> Any:
        """Runs on this thread with the GIL released and returns the result."""

@final
class Completer:
    """The completion side of one event loop."""

    def __new__(cls) -> Completer: ...
    def fileno(self) -> int:
        """The descriptor the loop watches."""
    def pending(self) -> int:
        """Jobs submitted and not yet drained."""
    def submit(self, job: Job, future: Any) -> int:
        """Starts ``job``; ``future`` is resolved by :meth:`drain`. Returns the job's id."""
    def cancel(self, id: int) -> None:
        """Aborts a running job (its statement is cancelled on the server)."""
    def drain(self) -> None:
        """Resolves the futures of finished jobs."""

@final
class PoolRef:
    """The pool of one database URL."""

    def __new__(cls, url: str) -> PoolRef: ...
    @property
    def url(self) -> str: ...
    @property
    def dialect(self) -> Literal["postgres", "sqlite", "mysql"]: ...
    def close(self) -> None:
        """Closes the pool; the next statement reconnects."""
    def status(self) -> tuple[int, int, int] | None:
        """``(size, available, max_size)``, or ``None`` before connecting."""
    def scoped(
        self,
        replica: bool | None = None,
        mark: WalMark | None = None,
        raw_read_only: bool = False,
    ) -> PoolRef:
        """The same database, routed by a read-your-writes scope."""
    def same_database(self, other: PoolRef) -> bool: ...
    def has_replicas(self) -> bool: ...
    def read_counts(self) -> tuple[int, int] | None:
        """``(replica, primary)`` plain reads so far, or ``None`` before connecting."""

@final
class WalMark:
    """A read-your-writes scope's mark."""

    def __new__(cls) -> WalMark: ...
    @property
    def lsn(self) -> str | None: ...

@final
class TxHandle:
    """One session's transaction slot."""

    def __new__(cls, pool: PoolRef) -> TxHandle: ...
    def begin_job(self, isolation: str | None = None) -> Job: ...
    def savepoint_job(self) -> Job: ...
    def release_job(self) -> Job: ...
    def rollback_to_job(self) -> Job: ...
    def commit_job(self) -> Job: ...
    def rollback_job(self) -> Job: ...
    def is_open(self) -> bool: ...

_Target = PoolRef | TxHandle

@final
class ChunkCursor:
    """A chunked read of a query's model rows (``QuerySet.iterator``)."""

    def next_job(self, target: _Target) -> Job | None: ...

@final
class Query:
    """Immutable query state over one model."""

    def filter(self, q: Any) -> Query: ...
    def order_by(self, specs: list[str]) -> Query: ...
    def ordered_by_pk(self) -> Query: ...
    def reversed(self) -> Query: ...
    def limit(self, n: int | None) -> Query: ...
    def offset(self, n: int | None) -> Query: ...
    def distinct(self, fields: list[str] = ...) -> Query: ...
    def for_update(
        self, nowait: bool = False, skip_locked: bool = False, of: list[str] = ...
    ) -> Query: ...
    @property
    def locked(self) -> bool: ...
    @property
    def loads_relations(self) -> bool: ...
    def chunks(self, chunk_size: int) -> ChunkCursor: ...
    def only(self, fields: list[str]) -> Query: ...
    def defer(self, fields: list[str]) -> Query: ...
    def select_related(self, paths: list[str]) -> Query: ...
    def prefetch_related(self, specs: list[tuple[str, Query | None, str | None]]) -> Query: ...
    def load_paths(self) -> tuple[list[str], list[str]]: ...
    @property
    def model(self) -> type[Any]: ...
    @property
    def limit_value(self) -> int | None: ...
    @property
    def offset_value(self) -> int | None: ...
    def ir(self) -> str: ...
    def sql(self, dialect: str, fields: list[str] | None = None) -> str: ...
    def tables(self) -> list[str]: ...
    def fetch_job(self, target: _Target) -> Job: ...
    def get_job(self, target: _Target, detail: str) -> Job: ...
    def pk_get_job(self, target: _Target, name: str, value: object, detail: str) -> Job | None: ...
    def pk_get_run(self, target: _Target, name: str, value: object, block: bool) -> Any:
        """``get(name=value)`` run now: the instance (with ``block``, or a SQLite get done
        inline), a ``Job`` to await through the bridge, or ``NotImplemented`` when the get
        does not qualify."""
    def first_job(self, target: _Target) -> Job: ...
    def count_job(self, target: _Target, fields: list[str] | None = None) -> Job: ...
    def exists_job(self, target: _Target) -> Job: ...
    def annotate(self, items: list[tuple[str, Any]]) -> Query: ...
    def group_by(self, fields: list[str]) -> Query: ...
    def annotation_names(self) -> list[str]: ...
    def aggregate_job(
        self, target: _Target, items: list[tuple[str, str, str | None, bool, Any | None]]
    ) -> Job: ...
    def aggregate_sql(
        self, dialect: str, items: list[tuple[str, str, str | None, bool, Any | None]]
    ) -> str: ...
    def values_job(self, target: _Target, fields: list[str], shape: str) -> Job: ...
    def update_job(self, target: _Target, sets: dict[str, Any]) -> Job: ...
    def delete_job(self, target: _Target) -> Job: ...
    def combine(
        self,
        op: str,
        all: bool,
        other: Query,
        fields: list[str] | None = None,
        other_fields: list[str] | None = None,
    ) -> Query: ...
    def combined(self) -> bool: ...
    def explain_job(self, target: _Target, fields: list[str] | None = None) -> Job: ...

@final
class ModelHandle:
    """A model class registered with the core."""

    @property
    def name(self) -> str: ...
    @property
    def table(self) -> str: ...
    @property
    def app(self) -> str | None:
        """The migrations app a new table goes to (``__app__``), if declared."""
    def field_names(self) -> list[str]: ...
    def pk_name(self) -> str | None:
        """The key field's name; ``None`` without a key or with a composite one."""
    def pk_names(self) -> list[str]:
        """Every primary-key field name, in declared order (several for a composite key)."""
    def auto_now_values(self, inserting: bool) -> list[tuple[str, Any]]:
        """The ``auto_now`` (and, when ``inserting``, ``auto_now_add``) fields with the
        time to set, one instant for all."""
    def describe(self) -> str: ...
    def query(self) -> Query: ...
    def bulk_update_job(self, target: _Target, objs: list[Any], fields: list[str]) -> Job: ...
    def insert_job(
        self,
        target: _Target,
        objs: list[Any],
        conflict: tuple[list[str], list[str]] | None = None,
        return_ids: bool = True,
    ) -> Job: ...
    def update_job(self, target: _Target, obj: Any, fields: list[str] | None = None) -> Job: ...
    def delete_pk_job(self, target: _Target, pk: Any) -> Job: ...
    def get_pk_job(self, target: _Target, pk: Any, for_update: bool = False) -> Job: ...
    def check(self, name: str, value: Any) -> Any: ...
    def related_query(self, obj: Any, name: str) -> Query: ...
    def links_job(self, target: _Target, obj: Any, name: str, op: str, objs: list[Any]) -> Job: ...
    def fetch_related_job(self, target: _Target, obj: Any, paths: list[str]) -> Job: ...
    def not_loaded(self, relation: str) -> BaseException: ...

# The specs the Python package sends when it registers a model (private: they exist only
# for the type checkers; at run time they are plain dicts and tuples). The core parses the
# names in them (type, kind, concurrency) with the same parsers as the migration files.

_TypeSpec = tuple[Any, ...]
"""A field type: ``(name, *parameters)`` (``("String", 50)``, ``("Array", ("Integer",))``,
``("Enum", name, values, enum_class)``)."""

class _ReferenceSpec(TypedDict):
    """The foreign key a key column carries."""

    model: str
    on_delete: str

class _FieldSpec(TypedDict):
    """One column of a model."""

    name: str
    column: str
    type: _TypeSpec
    primary_key: bool
    auto_increment: bool
    unique: bool
    nullable: bool
    index: bool
    default_now: bool
    concurrency: NotRequired[Literal["compare", "version", "unchecked"]]
    default: NotRequired[Any]
    auto_now: NotRequired[Literal["save", "add"]]
    references: NotRequired[_ReferenceSpec]

class _RelationSpec(TypedDict):
    """One declared relation (``kind``: ``ForeignKey``, ``OneToOne``, ``OneToMany``,
    ``ManyToMany``, the last with its join table and columns)."""

    name: str
    kind: str
    target: str
    foreign_key: str | None
    back_populates: str | None
    through: NotRequired[str | None]
    source_column: NotRequired[str | None]
    target_column: NotRequired[str | None]

class _IndexSpec(TypedDict):
    """A ``Meta`` index or unique constraint (``expressions``: index key trees)."""

    kind: Literal["index"]
    name: str
    fields: list[str]
    expressions: list[tuple[Any, ...]]
    unique: bool
    condition: NotRequired[tuple[Any, ...]]

class _CheckSpec(TypedDict):
    """A ``Meta`` check constraint (``check``: a lookup-condition tree)."""

    kind: Literal["check"]
    name: str
    check: tuple[Any, ...]

_OptionSpec = _IndexSpec | _CheckSpec

def register_model(
    cls: type,
    name: str,
    table: str,
    fields: list[_FieldSpec],
    relations: list[_RelationSpec],
    app: str | None = None,
    options: list[_OptionSpec] | None = None,
    ordering: list[str] | None = None,
) -> ModelHandle:
    """Registers a model's metadata with the core (``app``: the model's ``__app__``;
    ``options``: its ``Meta`` indexes and constraints; ``ordering``: its
    ``Meta.ordering``)."""

def tracked_updates_job(
    target: _Target, items: list[tuple[ModelHandle, Any, list[str], dict[str, Any]]]
) -> Job:
    """Several tracked objects' guarded UPDATEs in one job, in order (pipelined on
    PostgreSQL); the result is the list of their version fields' new values."""

def flush_order(items: list[tuple[ModelHandle, Any]]) -> list[int]:
    """The positions of ``items`` ((model, primary key) pairs) in the order a flush writes
    them, the core's: tables as first seen, each table's rows in primary-key order."""

def migrate_main(
    argv: list[str], models: list[ModelHandle], bindings: dict[str, str] | None = None
) -> int:
    """Runs the ``chakra`` command line ``argv`` (program name first) with ``models`` as the
    program's models, the GIL released; returns the exit status (0, 1 or 2)."""

def check_schema(pool: PoolRef, migrations: list[tuple[str, str, str]]) -> list[str]:
    """The differences between the migrations a generated model layer came from (app, id,
    checksum) and those the database of ``pool`` has applied; empty when they agree."""

def register_model_layer(
    module: str, fingerprint: str, migrations: list[tuple[str, str, str]], models: list[str]
) -> None:
    """Registers a generated model layer for the check pools run when they connect."""

def generate_models(
    migrations: str | os.PathLike[str],
    lang: str,
    *,
    app: str | None = None,
    existing: str | None = None,
    schema: str = "crate::schema",
) -> tuple[str, list[str]]:
    """``chakra generate models`` without writing: the module for ``lang`` (``"rust"`` or
    ``"python"``) from the migrations folder, and the notes about what the models cannot
    say as the migrations do. ``existing`` (the current file's text) gives its keep regions;
    ``app`` keeps one app's tables; ``schema`` is the Rust models' ``schema.rs`` path
    (``""``: no schema check)."""

def create_tables_job(
    target: _Target, models: list[ModelHandle], if_not_exists: bool = False
) -> Job: ...
def drop_tables_job(target: _Target, models: list[ModelHandle]) -> Job: ...
def create_table_sql(model: ModelHandle, dialect: str) -> list[str]: ...
def default_url() -> str:
    """``CHAKRA_DATABASE_URL``, else ``chakra.toml``, else ``sqlite://chakra.db``."""

def fork_prepare() -> None:
    """Before ``fork()``: waits for running SQLite calls and holds new ones."""

def fork_parent() -> None:
    """After ``fork()``, in the parent: SQLite calls go on."""

def fork_child() -> None:
    """After ``fork()``, in the child: SQLite calls go on."""

def configure_databases(spec: dict[str, Any]) -> None:
    """Configures the named databases (``chakra.configure({...})``)."""

def reset_databases() -> None: ...
def database_names() -> list[str]: ...
def database_url(name: str) -> str: ...
def database_models() -> dict[str, str]:
    """Model name → database, from the configured databases' ``models`` lists."""

def database_pool(name: str) -> PoolRef: ...
def check_url(url: str) -> None:
    """Raises ``chakra.errors.InvalidUrl`` for a URL that cannot be used."""

def sqlite_info() -> SqliteInfo:
    """Which SQLite Chakra runs on and whether Python's ``sqlite3`` module shares it."""

def noop_job() -> Job:
    """A job that does nothing (measures the bridge)."""

def shutdown() -> None:
    """Stops the runtime thread and closes every pool."""

def batch_job(target: _Target, sql: str) -> Job:
    """Runs SQL text without parameters (never built from untrusted input)."""

def raw_job(
    model: ModelHandle, target: _Target, sql: str, params: Sequence[Any] | None = None
) -> Job:
    """Raw SQL (``%s`` placeholders, values bound) whose rows are the model's instances."""

def fetch_job(
    target: _Target, sql: str, params: Sequence[Any] | None = None, dicts: bool = False
) -> Job:
    """Raw SQL (``%s`` placeholders, values bound) whose rows come back as tuples or dicts."""

def execute_job(target: _Target, sql: str, params: Sequence[Any] | None = None) -> Job:
    """Raw SQL (``%s`` placeholders, values bound) run for its affected-row count."""
