"""Subcommands of ``fefet-spice`` (discovered by :mod:`fefet_spice.cli`)."""
