"""The HTTP service (FastAPI): thin routes over the library; the only package that knows of HTTP."""
