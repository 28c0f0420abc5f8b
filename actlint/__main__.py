from actlint.cli import main

main()
