"""The tests create a new app for every test; two things each new app did from scratch cost a
run minutes, and this test-only plugin does them once per run instead. Production creates its
app once per worker and does not load this.

- Werkzeug compiles two URL builder functions per route (Python source to AST to code, about
  0.2 s for all our routes). A builder depends only on its rule's text, converters and
  defaults and is called with the rule as ``self``, so each distinct one is compiled once.
- Jinja compiles every template again in each app's new environment (lexing, parsing, code
  generation: about a third of a typical page test). A shared in-memory bytecode cache, keyed
  by Jinja on the template's name and checked against its source, skips that for every
  template already compiled in the run; the environment's options are the same in every app.
"""

from __future__ import annotations

import flask
from jinja2 import BytecodeCache
from werkzeug.routing.rules import Rule

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
flask.Flask.create_jinja_environment = _jinja_environment_with_shared_bytecode
