#!/usr/bin/env python3
"""Runs pg_dash's page parser, and optionally its front end, over the pages
of Taipy's own examples and tutorials.

Usage: scripts/taipy-examples.py [--render] CHECKOUT [SUBDIR]

CHECKOUT is a checkout of Taipy's repository, or of taipy-doc (not part of
pg_dash; nothing of it is copied here); SUBDIR defaults to doc/gui/examples
(for taipy-doc: docs/tutorials).  Every string constant of its Python files
that holds a Taipy element ("<|") is a page, and so is every .md file holding
one under a src/ folder (a tutorial's application; the tutorials' own
documentation pages are not pages).  Each page is given to the parser of
src/lib (built here with cc, as define_page() runs it) and listed with its
outcome:

  ok              accepted
  ok+N            accepted with N notices (what Taipy accepts with a warning)
  refused         an error, with line, column and message
  excluded        an error that issue 15 leaves out on purpose: lambdas and
                  calls into Python libraries, which pg_dash refuses with a
                  hint to use a named query or a SQL action

With --render, every accepted page is also defined in a throw-away cluster
and drawn in headless chromium (scripts/run-browser-tests.sh running
scripts/taipy-render.mjs; PGBIN as for the browser tests): "rendered" when
its visible text shows no literal markup (<|, |>, <br/>, {:), the browser
logs no error and no element is a placeholder, otherwise what is wrong
(TAIPY_RENDER_SHOTS=1 also saves a screenshot of each page).
The last lines give the pass rates (accepted / pages not excluded; rendered
/ accepted).  Run by hand, not by `make test`.
"""
import ast
import json
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
    # the parser's own modules only: the others need libcrypto
    sources = [os.path.join(ROOT, 'scripts', 'page_check.c')] + sorted(
        os.path.join(lib, f) for f in os.listdir(lib) if f.endswith('.c') and (f.startswith('page_') or f == 'strbuf.c'))
    subprocess.run(['cc', '-std=gnu11', '-O1', '-I', lib, '-o', out] + sources + ['-lm'], check=True)
    return out


def pages_of(path):
    """The pages of a file, with their line: a Python file's string constants
    that hold an element, or a whole .md file under a src/ folder."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        if path.endswith('.md'):
            if '<|' in text and 'src' in path.split(os.sep)[:-1]:
                yield 1, text
            return
        tree = ast.parse(text, path)
    except (SyntaxError, UnicodeDecodeError) as e:
        print(f'{path}: not read ({e.__class__.__name__})', file=sys.stderr)
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and '<|' in node.value:
            yield node.lineno, node.value


def parse_all(checkout, base):
    """Runs the parser over every page: a list of [id, text, outcome, notices]."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        checker = build_checker(tmp)
        for dirpath, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(('.py', '.md')):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, checkout)
                for line, page in pages_of(path):
                    r = subprocess.run([checker], input=page.encode('utf-8'), capture_output=True, check=True)
                    first, *notices = r.stdout.decode('utf-8').splitlines()
                    if first.startswith('ok'):
                        n = int(first.split()[1])
                        outcome = 'ok' + (f'+{n}' if n else '')
                    else:
                        kind = 'excluded' if any(x in first for x in EXCLUDED) else 'refused'
                        outcome = f'{kind}\t{first[6:]}'
                    results.append([f'{rel}:{line}', page, outcome, [m.strip() for m in notices]])
    return results


# Pages drawn by one browser run: node's test runner ends a test file after
# run-browser-tests.sh's --test-timeout (two minutes), about 100 pages.
BATCH = 40


def render_all(results):
    """Draws the accepted pages in the browser, BATCH at a time; {id: [problems]},
    or None when a browser run could not start."""
    pages = [{'id': r[0], 'text': r[1]} for r in results if r[2].startswith('ok')]
    drawn = {}
    for i in range(0, len(pages), BATCH):
        part = render_batch(pages[i:i + BATCH])
        if part is None:
            return None
        drawn.update(part)
    return drawn


def render_batch(pages):
    """One browser run (a cluster of its own) over some pages."""
    # the browser tests run as postgres when started as root: a folder it can write
    tmp = tempfile.mkdtemp(prefix='taipy-render.')
    os.chmod(tmp, 0o777)
    try:
        with open(os.path.join(tmp, 'pages.json'), 'w', encoding='utf-8') as f:
            json.dump(pages, f)
        out = os.path.join(tmp, 'outcomes.json')
        env = dict(os.environ, BROWSER_TESTS='scripts/taipy-render.mjs',
                   TAIPY_PAGES=os.path.join(tmp, 'pages.json'), TAIPY_RENDER_OUT=out)
        r = subprocess.run(['sh', os.path.join(ROOT, 'scripts', 'run-browser-tests.sh')], cwd=ROOT, env=env,
                           capture_output=True, text=True)
        os.makedirs(os.path.join(ROOT, 'artifacts'), exist_ok=True)
        with open(os.path.join(ROOT, 'artifacts', 'taipy-render.log'), 'a', encoding='utf-8') as f:
            f.write(r.stdout + r.stderr)
        if not os.path.exists(out):
            print(r.stdout[-3000:], r.stderr[-2000:], file=sys.stderr)
            return None
        with open(out, encoding='utf-8') as f:
            return json.load(f)
    finally:
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


def main():
    args = [a for a in sys.argv[1:] if a != '--render']
    render = len(args) < len(sys.argv) - 1
    if not args or not os.path.isdir(args[0]):
        sys.exit(__doc__)
    base = os.path.join(args[0], args[1] if len(args) > 1 else 'doc/gui/examples')
    results = parse_all(args[0], base)
    if render and os.path.exists(os.path.join(ROOT, 'artifacts', 'taipy-render.log')):
        os.unlink(os.path.join(ROOT, 'artifacts', 'taipy-render.log'))
    drawn = render_all(results) if render else None
    if render and drawn is None:
        sys.exit('the browser run failed (see above)')
    counts = {'ok': 0, 'refused': 0, 'excluded': 0, 'rendered': 0}
    for pid, _, outcome, notices in results:
        kind = outcome.split('\t')[0].split('+')[0]
        counts[kind] += 1
        shown = ''
        if drawn is not None and kind == 'ok':
            problems = drawn.get(pid, ['not drawn'])
            counts['rendered'] += not problems
            shown = '\trendered' if not problems else '\tnot rendered cleanly: ' + '; '.join(problems)
        print(f'{pid}\t{outcome}{shown}')
        for m in notices:
            print(f'\t{m}')
    total = counts['ok'] + counts['refused']
    rate = 100.0 * counts['ok'] / total if total else 0.0
    print(f"pages: {total + counts['excluded']}, accepted: {counts['ok']}, refused: {counts['refused']}, "
          f"excluded (lambdas, library calls): {counts['excluded']}; pass rate {rate:.1f}%")
    if drawn is not None:
        print(f"rendered without literal markup or browser errors: {counts['rendered']} of {counts['ok']} accepted")


if __name__ == '__main__':
    main()
