"""pytest wiring: the harness's plugin (nnparity/plugin.py) holds the Hypothesis
profiles, the options (--impl, --nn, --records), the parametrisation of the check
test files from the catalog (named in pyproject.toml, [tool.nnparity]) and the
record plugin."""

pytest_plugins = ["nnparity.plugin"]
