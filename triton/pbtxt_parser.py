"""A small parser for protobuf text format (Triton's config.pbtxt), enough to read model configs.

parse_pbtxt(text) -> dict: field name -> list of values (every field may repeat); a value is an int,
float, bool, str (quoted strings and enum identifiers alike) or a nested dict. `a [x, y]` and
`a: [x, y]` give a list of the items; map entries stay as repeated {key, value} messages.
"""
import re

_TOKEN = re.compile(r'''
    \s+ | \#[^\n]* |                              # whitespace and comments (skipped)
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*') |
    (?P<num>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?) |
    (?P<ident>[A-Za-z_][A-Za-z0-9_.]*) |
    (?P<punct>[{}\[\]:,;<>])
''', re.VERBOSE)


class PbtxtError(ValueError):
    pass


def _tokens(text):
    pos = 0
    out = []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise PbtxtError(f'unexpected character {text[pos]!r} at offset {pos}')
        pos = m.end()
        kind = m.lastgroup
        if kind:
            out.append((kind, m.group(kind)))
    return out


def _scalar(kind, raw):
    if kind == 'str':
        return bytes(raw[1:-1], 'utf-8').decode('unicode_escape')
    if kind == 'num':
        return float(raw) if any(c in raw for c in '.eE') else int(raw)
    if raw in ('true', 'True'):
        return True
    if raw in ('false', 'False'):
        return False
    return raw  # enum value such as TYPE_FP32 or KIND_GPU


class _Parser:
    def __init__(self, text):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, want=None):
        tok = self.peek()
        if tok[0] is None or (want is not None and tok[1] != want):
            raise PbtxtError(f'expected {want or "a token"}, got {tok[1]!r} (token {self.i})')
        self.i += 1
        return tok

    def message(self, closer=None):
        fields = {}
        while True:
            kind, raw = self.peek()
            if kind is None:
                if closer is not None:
                    raise PbtxtError(f'missing {closer!r}')
                return fields
            if raw == closer:
                self.i += 1
                return fields
            if kind != 'ident':
                raise PbtxtError(f'expected a field name, got {raw!r}')
            self.i += 1
            if self.peek()[1] == ':':
                self.i += 1
            values = self.value_or_list()
            fields.setdefault(raw, []).extend(values)
            if self.peek()[1] in (',', ';'):
                self.i += 1

    def value_or_list(self):
        kind, raw = self.peek()
        if raw == '[':
            self.i += 1
            items = []
            while self.peek()[1] != ']':
                items.append(self.value())
                if self.peek()[1] == ',':
                    self.i += 1
            self.take(']')
            return items
        return [self.value()]

    def value(self):
        kind, raw = self.take()
        if raw in ('{', '<'):
            return self.message('}' if raw == '{' else '>')
        if kind in ('str', 'num', 'ident'):
            return _scalar(kind, raw)
        raise PbtxtError(f'unexpected {raw!r}')


def parse_pbtxt(text):
    return _Parser(text).message()


def first(fields, name, default=None):
    """The first value of a field (singular fields), or default."""
    values = fields.get(name)
    return values[0] if values else default
