"""policykg: a policy-tracking knowledge graph for European cultural-heritage policy."""


def __getattr__(name: str) -> str:
    """`policykg.__version__`, read from the package's metadata (pyproject.toml is the one place it is written).

    Looked up on first use, not at import: query workers import this package and need no metadata.
    """
    if name == "__version__":
        from importlib.metadata import version

        return version("policykg")
    raise AttributeError(f"module 'policykg' has no attribute {name!r}")
