"""`actlint server`: the language server's entry point. The server itself (actlint.lsp) needs pygls, the
optional `server` extra; nothing on the lint path imports either."""

from __future__ import annotations

import sys

MISSING = "actlint: error: `actlint server` needs pygls: pip install 'actlint[server]'"


def main(argv=None) -> None:
    """Serve the Language Server Protocol on stdin/stdout until the client exits."""
    argv = sys.argv[2:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print("usage: actlint server\n\nA Language Server Protocol server on stdio: diagnostics, quick fixes "
              "and hovers for Python files and notebooks.")
        return
    try:
        from actlint.lsp import serve
    except ImportError as error:
        if (error.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs", "attrs"):
            raise
        print(MISSING, file=sys.stderr)
        sys.exit(2)
    serve()
