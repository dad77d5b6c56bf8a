"""python -m icam_subscriber --bootstrap localhost:9092 --topic icam.case.events --group my-system"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from icam_subscriber.subscriber import Config, Subscriber

REPO_SCHEMAS = Path(__file__).resolve().parents[4] / "contracts" / "schemas"


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(prog="icam-example-subscriber", description=__doc__)
    parser.add_argument("--bootstrap", default="localhost:9092")
    parser.add_argument("--topic", action="append", required=True, help="repeat for several topics")
    parser.add_argument("--group", required=True, help="your own consumer group, e.g. my-system")
    parser.add_argument("--schemas", type=Path, default=REPO_SCHEMAS, help="the published JSON Schemas")
    parser.add_argument("--database", type=Path, default=Path("subscriber.sqlite3"))
    args = parser.parse_args(argv)
    return Config(args.bootstrap, tuple(args.topic), args.group, args.schemas, args.database)


async def serve(config: Config) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await Subscriber(config).run(stop)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
