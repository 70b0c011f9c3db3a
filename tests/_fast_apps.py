"""The tests create a new app for every test; two things each new app did from scratch cost a
run minutes, and this test-only plugin does them once per run instead. Production creates its
app once per worker and does not load this.

- Werkzeug compiles two URL builder functions per route (Python source to AST to code, about
  0.2 s for all our routes). A builder depends only on its rule's text, converters and
  defaults and is called with the rule as ``self``, so each distinct one is compiled once.
  Parsing a rule into its parts (regular expressions, weights) likewise depends only on its
  text and the map's converter classes: it is done once, and each new rule gets its own
  converter objects, made by its own map from the recorded arguments.
- Jinja compiles every template again in each app's new environment (lexing, parsing, code
  generation: about a third of a typical page test). A shared in-memory bytecode cache, keyed
  by Jinja on the template's name and checked against its source, skips that for every
  template already compiled in the run; the environment's options are the same in every app.
- SQLAlchemy compiles each statement once per engine (its cache is keyed on the engine's
  dialect object), and every test has new engines: the app's, and on SQLite the tests' own
  for its database file. Engines of one kind (driver, isolation level) share the first one's
  dialect, once that has connected (been initialised), and one compiled cache, so a statement
  is compiled once per run. Compiled SQL depends only on the dialect's kind and the server.
- A test's SQLite database is thrown away after it: its commits need not wait for the disk
  (``synchronous=OFF``; the PostgreSQL test database has ``synchronous_commit=off``).
- On PostgreSQL every test uses the same database (cleaned after each), and every new
  connection is a new server process that reads the catalogue again: with a new pool for each
  test app, and none for the tests' own sessions, a test opened about seven, and the server
  spent a third of the run's CPU on them. Test apps now share one pool per database URL for the
  run (``make_engine`` without options: the app's main engine; a replica's, with its read-only
  setting, keeps its own), and ``dispose_engines`` leaves that pool open. Its connections are
  rolled back when returned; one a test terminates fails that test's statement on it, and the
  pool then replaces its connections (``voucher.db`` pings only connections idle a while).
"""

from __future__ import annotations

import flask
import sqlalchemy
from jinja2 import BytecodeCache
from sqlalchemy import event
from sqlalchemy.util import LRUCache
from werkzeug.routing.rules import Rule

import voucher.db

_compile_builder = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _cached_compile_builder(self: Rule, append_unknown: bool = True):
    key = (append_unknown, self.rule, tuple(self._trace),
           tuple((name, type(converter)) for name, converter in self._converters.items()),
           repr(sorted((self.defaults or {}).items())))
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


_compile_rule = Rule.compile
_parsed_rules: dict[tuple, tuple] = {}


def _cached_compile_rule(self: Rule) -> None:
    key = (self.rule, self.subdomain, self.host, self.merge_slashes, self.map.host_matching,
           tuple(sorted(self.map.converters.items())))
    parsed = _parsed_rules.get(key)
    if parsed is None:
        made = []
        own_get_converter = self.get_converter

        def recording(variable, converter, args, kwargs):
            made.append((variable, converter, args, kwargs))
            return own_get_converter(variable, converter, args, kwargs)

        self.get_converter = recording
        try:
            _compile_rule(self)
        finally:
            del self.get_converter
        _parsed_rules[key] = (list(self._parts), list(self._trace), made)
        return
    parts, trace, made = parsed
    self._parts, self._trace, self._converters = list(parts), list(trace), {}
    for variable, converter, args, kwargs in made:
        self._converters[variable] = self.get_converter(variable, converter, args, kwargs)
        self.arguments.add(variable)
    self._build = self._compile_builder(False).__get__(self, None)
    self._build_unknown = self._compile_builder(True).__get__(self, None)


class _MemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_templates = _MemoryBytecodeCache()
_create_jinja_environment = flask.Flask.create_jinja_environment


def _jinja_environment_with_shared_bytecode(self: flask.Flask):
    environment = _create_jinja_environment(self)
    environment.bytecode_cache = _templates
    return environment


Rule._compile_builder = _cached_compile_builder
Rule.compile = _cached_compile_rule
flask.Flask.create_jinja_environment = _jinja_environment_with_shared_bytecode


_create_engine = sqlalchemy.create_engine
#: (driver, isolation level) → the initialised dialect that engines of that kind share.
_dialects: dict[tuple, object] = {}
#: Twice SQLAlchemy's default of 500 per engine: a module's tests use the same statements,
#: and tests/perf/test_memory_bounds.py holds every engine's cache to 1,000.
_compiled = LRUCache(1_000)


def _engine_sharing_compiled_statements(url, **kwargs):
    engine = _create_engine(url, **kwargs)
    kind = (engine.url.drivername, kwargs.get("isolation_level"))
    shared = _dialects.get(kind)
    if shared is None:
        @event.listens_for(engine, "first_connect")
        def _initialised(_dbapi_connection, _record):  # runs after the dialect's own
            _dialects.setdefault(kind, engine.dialect)
    else:
        engine.dialect = engine.pool._dialect = shared
    engine._compiled_cache = _compiled
    if engine.url.drivername.startswith("sqlite"):
        event.listen(engine, "connect", _without_waiting_for_the_disk)
    return engine


def _without_waiting_for_the_disk(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA synchronous=OFF")


sqlalchemy.create_engine = _engine_sharing_compiled_statements


_make_engine = voucher.db.make_engine
#: PostgreSQL URL → the pool that every test app's main engine on it uses.
_pools: dict[str, sqlalchemy.pool.Pool] = {}


def _engine_sharing_the_pool(url: str, **options):
    engine = _make_engine(url, **options)
    if options or not url.startswith("postgresql"):
        return engine
    shared = _pools.setdefault(url, engine.pool)
    if engine.pool is not shared:
        engine.pool.dispose()  # new, still empty
        engine.pool = shared
    return engine


def shares_its_pool(engine: sqlalchemy.Engine) -> bool:
    return any(engine.pool is pool for pool in _pools.values())


def close_shared_pools() -> None:
    """Close the shared pools' idle connections (before copying their database, which
    PostgreSQL refuses while anyone is connected to it); they reconnect when next used."""
    for pool in _pools.values():
        pool.dispose()


voucher.db.make_engine = _engine_sharing_the_pool
