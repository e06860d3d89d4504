"""Tool executors: the python code interpreter (a limited child process) and MCP servers.

No Qt here (an import-linter contract in pyproject.toml says so): everything runs on an
asyncio loop — qasync's in the window, ``asyncio.run`` in the CLI.
"""
