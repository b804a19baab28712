"""Filling a consent log for a test the way the server does: through ConsentLog, chained."""

import asyncio

from gatekeeper.consent_log import ConsentLog, ConsentRecord
from gatekeeper.db import create_engine, migrate


def log_rows(url: str, rows: list[dict]) -> None:
    """Append each row (ConsentRecord fields) in order, in shared commits."""

    async def run():
        engine = create_engine(url)
        await migrate(engine)
        log = ConsentLog(engine)
        await log.start()
        try:
            await asyncio.gather(*(log.append(ConsentRecord(**row)) for row in rows))
        finally:
            await log.stop()
            await engine.dispose()

    asyncio.run(run())
