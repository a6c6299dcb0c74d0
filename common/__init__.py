"""What both ``training`` and ``service`` need and neither may import from the other: today only
the TOML file reader (``common.toml_file``). Imports nothing of the repo's other packages."""
