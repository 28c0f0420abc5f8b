from actlint.cli import entry

entry()
