"""``chakra migrate …`` from Python: the same Rust command line as the ``chakra`` binary
(``apply``, ``rollback``, ``status``, ``sql``, ``make``, ``check``, ``lint``, ``schema``,
``inspect``; same flags, same output, same exit codes), with this process's Python models as
the models ``make`` and ``check`` compare the migrations with.

The package installs it as the ``chakra`` console script (also ``python -m chakra``)::

    chakra migrate make --models myapp.models --app blog
    chakra migrate apply --database-url postgres://app@localhost/app
    chakra migrate check --models myapp.models
    chakra migrate inspect --database-url postgres://app@localhost/app --app shop

``--models MODULE`` (repeatable, or comma-separated) imports the modules that define the
models; without it, ``[migrations] models = ["myapp.models"]`` in ``./chakra.toml`` names
them. The working directory is importable, as with ``python -m``. From Python (tests,
scripts)::

    from chakra import migrate

    assert migrate.run("apply", database_url=url, dir="migrations") == 0
    code = migrate.main(["migrate", "make", "--models", "myapp.models", "--check"])

Exit codes: ``0`` success, ``1`` the command failed or found something (``check``, ``lint``,
``make --check``), ``2`` bad usage (an unknown flag, a ``--models`` module that cannot be
imported).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn

from . import _chakra

if TYPE_CHECKING:
    from .models import Model

__all__ = ["check_schema", "console", "main", "register_model_layer", "run"]

PROG = "chakra"
CONFIG = "chakra.toml"
_TOP_LEVEL = {"migrate", "generate", "help", "-h", "--help", "-V", "--version"}
_HELP_NOTE = (
    "\nFrom the Python package, `make` and `check` also take:\n"
    "  --models <MODULE>  Import MODULE (repeatable, or comma-separated) for the models; "
    "default:\n"
    f'                     [migrations] models = ["myapp.models"] in ./{CONFIG}\n'
)


class UsageError(Exception):
    """A bad command line or configuration (exit status 2)."""


def main(
    argv: Sequence[str] | None = None,
    *,
    models: Iterable[str | ModuleType | type[Model]] | None = None,
) -> int:
    """Runs a ``chakra`` command line and returns its exit status.

    ``argv`` is what follows the program name (default ``sys.argv[1:]``):
    ``["migrate", "apply", "--dir", "migrations"]``; the leading ``"migrate"`` may be left
    out. ``--models`` options are taken out and their modules imported (else, for ``make``
    and ``check``, those of ``[migrations] models`` in ``./chakra.toml``); every registered
    model then counts.
    ``models`` instead says which models count: module names (imported) or module objects
    (their model classes, including imported ones) and model classes; an empty list means
    none (``check`` then compares only the database with the migrations).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args, modules = _take_models(args)
        if not args or args[0] not in _TOP_LEVEL:
            args.insert(0, "migrate")
        # chakra.toml's models are imported only where they are compared: `apply` in a
        # deployment does not import the application.
        uses_models = args[:1] == ["migrate"] and args[1:2] in (["make"], ["check"])
        handles = _models(modules, models, read_config=uses_models)
        if not handles and args[:2] == ["migrate", "make"] and not _asks_for_help(args):
            if "--merge" not in args and models is None:
                raise UsageError(
                    "make compares the migrations with your models: say where they are with "
                    f'--models myapp.models, or [migrations] models = ["myapp.models"] in '
                    f"./{CONFIG}"
                )
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        print(f"\nFor more information, try '{PROG} migrate --help'.", file=sys.stderr)
        return 2
    args = _with_configured_url(args)
    sys.stdout.flush()
    sys.stderr.flush()
    code = _chakra.migrate_main([PROG, *args], handles, _bindings())
    if code == 0 and _asks_for_help(args):
        print(_HELP_NOTE, end="")
    return code


def run(
    command: str,
    *args: str,
    database_url: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    models: Iterable[str | ModuleType | type[Model]] | None = None,
) -> int:
    """Runs ``chakra migrate <command> <args…>`` and returns its exit status:
    ``run("apply", database_url=url, dir="migrations")``, ``run("rollback", "--steps",
    "2", database_url=url)``, ``run("make", "--check", models=["myapp.models"])``.

    ``database_url`` and ``dir`` become ``--database-url`` and ``--dir`` (``make``, ``lint``
    and ``schema`` take no ``--database-url``); without ``database_url``, the database
    ``chakra.configure(…)`` set (when this program called it), else the default lookup
    (``CHAKRA_DATABASE_URL``, ``./chakra.toml``). ``models`` is as in :func:`main`. The
    stale-models check (``schema_check``) never stops it: migrations bring the database to
    the generated models.
    """
    argv = ["migrate", command, *args]
    if database_url is not None:
        argv += ["--database-url", database_url]
    if dir is not None:
        argv += ["--dir", os.fspath(dir)]
    return main(argv, models=models)


_CONNECTING = {"apply", "rollback", "status", "check", "sql", "inspect"}


def _with_configured_url(args: list[str]) -> list[str]:
    """``args`` with ``--database-url`` added when the command connects, none was given, and
    this program configured its database in code (``chakra.configure(…)``): migrating then
    uses the settings the models use, as ``manage.py migrate`` does. The stale-models check
    a pool runs at connect never stops a migration command."""
    from . import config

    if args[:1] != ["migrate"] or args[1:2] == [] or args[1] not in _CONNECTING:
        return args
    given = ("--database-url", "--database", "--dialect")
    if any(a in given or a.split("=", 1)[0] in given for a in args) or _asks_for_help(args):
        return args
    if config._url is None and not config._configured_named:
        return args
    return [*args, "--database-url", config.current_url()]


def console() -> NoReturn:
    """The ``chakra`` console script: :func:`main` on ``sys.argv``, then exit with its
    status."""
    # The command runs in Rust with the GIL released, where Python's SIGINT handler cannot
    # run: Ctrl-C ends the process at once, as it does the Rust binary.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main())


def _take_models(args: list[str]) -> tuple[list[str], list[str] | None]:
    """Splits the ``--models`` options (Python only) from the rest of the command line."""
    rest: list[str] = []
    modules: list[str] | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        if a == "--models":
            if i + 1 >= len(args) or args[i + 1].startswith("-"):
                raise UsageError("--models needs a value: --models myapp.models")
            value = args[i + 1]
            i += 2
        elif a.startswith("--models="):
            value = a.removeprefix("--models=")
            i += 1
        else:
            rest.append(a)
            i += 1
            continue
        names = [n.strip() for n in value.split(",") if n.strip()]
        if not names:
            raise UsageError(f"--models {value!r}: name a module, e.g. --models myapp.models")
        modules = [*(modules or []), *names]
    return rest, modules


def _bindings() -> dict[str, str]:
    """Model name → its ``__database__``, for ``--database NAME``'s model set."""
    from .models import registry

    return {
        name: db
        for name, cls in registry.items()
        if isinstance(db := getattr(cls, "__database__", None), str)
    }


def _asks_for_help(args: list[str]) -> bool:
    before = args[: args.index("--")] if "--" in args else args
    return any(a in ("-h", "--help") for a in before) or "help" in before[:2]


def _config_modules() -> list[str] | None:
    """``[migrations] models`` of ``./chakra.toml``, if set."""
    path = Path(CONFIG)
    if not path.is_file():
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise UsageError(
                f"reading {CONFIG} on Python 3.10 needs the tomli package "
                "(pip install tomli), or pass --models"
            ) from None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read {path.resolve()}: {e}") from None
    section = data.get("migrations", {})
    value = section.get("models") if isinstance(section, dict) else None
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(
            f"{path.resolve()}: [migrations] models must be a list of module names, e.g. "
            f'models = ["myapp.models"]; got {value!r}'
        )
    return list(value)


def _import(name: str, how: str) -> ModuleType:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        # As with `python -m`: the project's own packages import from its directory.
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and (name == e.name or name.startswith(e.name + ".")):
            raise UsageError(
                f"{how}: no module named {name!r} (looked in the working directory {cwd} "
                "and sys.path; is the package installed, or the working directory right?)"
            ) from None
        traceback.print_exc()
        raise UsageError(f"{how}: importing {name!r} failed: {type(e).__name__}: {e}") from None
    except Exception as e:
        traceback.print_exc()
        raise UsageError(f"{how}: importing {name!r} failed: {type(e).__name__}: {e}") from None


def _models(
    flag_modules: list[str] | None,
    given: Iterable[str | ModuleType | type[Model]] | None,
    read_config: bool,
) -> list[_chakra.ModelHandle]:
    """The handles of the models the command compares with."""
    from .models import ModelBase, registry

    if given is None:
        if flag_modules is not None:
            for name in flag_modules:
                _import(name, "--models")
        elif read_config:
            config = _config_modules()
            for name in config or []:
                _import(name, f"[migrations] models in {CONFIG}")
        return [m.__chakra__ for m in registry.values()]
    chosen: dict[str, type[Model]] = {}
    for item in [*(flag_modules or []), *given]:
        if isinstance(item, str):
            item = _import(item, "models")
        if isinstance(item, ModuleType):
            # Its registered model classes, defined there or imported into it.
            for v in vars(item).values():
                m = registry.get(getattr(v, "__name__", ""))
                if m is not None and m is v:
                    chosen.setdefault(m.__name__, m)
        elif isinstance(item, ModelBase) and hasattr(item, "__chakra__"):
            model: type[Model] = item
            chosen.setdefault(model.__name__, model)
        else:
            raise TypeError(f"models: {item!r} is not a module name, a module or a model class")
    return [m.__chakra__ for m in chosen.values()]


def register_model_layer(
    module: str,
    fingerprint: str,
    migrations: Sequence[tuple[str, str, str]],
    models: Sequence[str],
) -> None:
    """Registers a generated model layer (a module ``chakra generate models`` wrote calls
    this when imported): a pool connected afterwards compares the migrations it was
    generated from with the database's applied history, once per pool, and a stale layer
    fails the first query with ``chakra.errors.StaleModels`` naming the module, its models
    and each difference (``schema_check`` = ``warn`` logs it, ``off`` skips it: a URL
    parameter, ``chakra.toml``'s ``[database]``)."""
    _chakra.register_model_layer(
        module, fingerprint, [(a, i, c) for a, i, c in migrations], list(models)
    )


def check_schema(
    models: ModuleType | Sequence[tuple[str, str, str]], url: str | None = None
) -> list[str]:
    """Is a generated model layer stale? ``models`` is a module ``chakra generate models``
    wrote (its ``SCHEMA_MIGRATIONS``) or that list itself; returns what differs between the
    migrations it was generated from and those the database at ``url`` (default: the
    configured one) has applied, one message each naming the migration; empty when they
    agree. Reads only the history table."""
    from . import config

    if isinstance(models, ModuleType):
        listed = getattr(models, "SCHEMA_MIGRATIONS", None)
        if listed is None:
            raise TypeError(
                f"{models.__name__} has no SCHEMA_MIGRATIONS: it was not written by "
                "chakra generate models"
            )
        migrations = [tuple(m) for m in listed]
    else:
        migrations = [tuple(m) for m in models]
    return _chakra.check_schema(config.pool(url), migrations)
