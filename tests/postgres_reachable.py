"""Exit 0 when the test PostgreSQL (TEST_DATABASE_URL) answers, 1 otherwise. Used by `make test`."""
import asyncio
import os
import sys

import asyncpg

URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def main() -> int:
    try:
        connection = await asyncpg.connect(URL, timeout=3)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return 1
    await connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
