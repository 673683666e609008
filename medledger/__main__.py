"""``python -m medledger ...`` is the same as the ``medledger`` command."""

from medledger.cli import main

main()
