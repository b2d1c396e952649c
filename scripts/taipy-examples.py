#!/usr/bin/env python3
"""Runs pg_dash's page parser over the pages of Taipy's own examples.

Usage: scripts/taipy-examples.py CHECKOUT [SUBDIR]

CHECKOUT is a checkout of Taipy's repository (not part of pg_dash; nothing
of it is copied here); SUBDIR defaults to doc/gui/examples.  Every string
constant of its Python files that holds a Taipy element ("<|") is a page.
Each page is given to the parser of src/lib (built here with cc, as
define_page() runs it) and listed with its outcome:

  ok              accepted
  ok+N            accepted with N notices (what Taipy accepts with a warning)
  refused         an error, with line, column and message
  excluded        an error that issue 15 leaves out on purpose: lambdas and
                  calls into Python libraries, which pg_dash refuses with a
                  hint to use a named query or a SQL action

and the last line gives the pass rate (accepted / pages not excluded).  It
checks what define_page() does; how a page is drawn is checked by the
browser tests.  Run by hand, not by `make test`.
"""
import ast
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXCLUDED = ('lambda expressions are not supported', 'cannot call ', 'function "', 'method calls',
            'comprehensions are not supported')


def build_checker(tmp):
    """Compiles scripts/page_check.c with the parser; returns its path."""
    lib = os.path.join(ROOT, 'src', 'lib')
    out = os.path.join(tmp, 'page_check')
    sources = [os.path.join(ROOT, 'scripts', 'page_check.c')] + sorted(
        os.path.join(lib, f) for f in os.listdir(lib) if f.endswith('.c'))
    subprocess.run(['cc', '-std=gnu11', '-O1', '-I', lib, '-o', out] + sources, check=True)
    return out


def pages_of(path):
    """The string constants of a Python file that hold an element, with their line."""
    try:
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
    except (SyntaxError, UnicodeDecodeError) as e:
        print(f'{path}: not read ({e.__class__.__name__})', file=sys.stderr)
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and '<|' in node.value:
            yield node.lineno, node.value


def main():
    if len(sys.argv) < 2 or not os.path.isdir(sys.argv[1]):
        sys.exit(__doc__)
    base = os.path.join(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else 'doc/gui/examples')
    counts = {'ok': 0, 'refused': 0, 'excluded': 0}
    with tempfile.TemporaryDirectory() as tmp:
        checker = build_checker(tmp)
        for dirpath, _, files in sorted(os.walk(base)):
            for name in sorted(files):
                if not name.endswith('.py'):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, sys.argv[1])
                for line, page in pages_of(path):
                    r = subprocess.run([checker], input=page.encode('utf-8'), capture_output=True, check=True)
                    first, *notices = r.stdout.decode('utf-8').splitlines()
                    if first.startswith('ok'):
                        n = int(first.split()[1])
                        counts['ok'] += 1
                        print(f'{rel}:{line}\tok' + (f'+{n}' if n else ''))
                        for m in notices:
                            print(f'\t{m.strip()}')
                    else:
                        kind = 'excluded' if any(x in first for x in EXCLUDED) else 'refused'
                        counts[kind] += 1
                        print(f'{rel}:{line}\t{kind}\t{first[6:]}')
    total = counts['ok'] + counts['refused']
    rate = 100.0 * counts['ok'] / total if total else 0.0
    print(f"pages: {total + counts['excluded']}, accepted: {counts['ok']}, refused: {counts['refused']}, "
          f"excluded (lambdas, library calls): {counts['excluded']}; pass rate {rate:.1f}%")


if __name__ == '__main__':
    main()
