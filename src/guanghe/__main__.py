"""``python -m guanghe``."""

from guanghe.cli.app import main

main()
