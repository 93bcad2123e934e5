"""The market-event broker: NATS JetStream behind one small interface.

``EventSource`` is what a consumer needs (``fetch`` a batch, ``ack`` up to a delivery); a Kafka
consumer would be a second implementation of it. ``JetStreamBroker`` creates one durable stream
per event kind (``QUOTES``, ``TRADES``, ``BARS``; subjects ``sightline.<kind>s.<TICKER>``),
publishes events in order, and opens a durable pull consumer per stream that starts after a
given stream sequence (what a restored snapshot already covers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ingestion.errors import StoreError
from ingestion.events.schemas import STREAMS, encode_event

PUBLISH_WINDOW = 5_000  # async publishes in flight before waiting for the broker's acks
MAX_ACK_PENDING = 20_000  # per stream: the broker waits for our acks (every <= 5,000 events)


@dataclass(frozen=True)
class Delivery:
    """One message as delivered: its stream, stream sequence, payload and broker timestamp."""

    stream: str
    sequence: int
    payload: bytes
    stored_at: datetime | None
    handle: Any = field(default=None, repr=False, compare=False)


class EventSource(Protocol):
    """A consumer of event streams (one implementation per broker)."""

    async def fetch(self, max_events: int, timeout: float) -> list[Delivery]:
        """The next deliveries (possibly none after ``timeout`` seconds), in stream order."""
        ...

    async def ack(self, upto: Mapping[str, Delivery]) -> None:
        """Acknowledge every delivery up to and including ``upto[stream]``, per stream."""
        ...


def _broker_error(exc: Exception, url: str) -> StoreError:
    return StoreError(
        f"NATS JetStream at {url}: {exc.__class__.__name__} {exc}",
        hint="start it with `nats-server -js -a 127.0.0.1 -p 4222 -sd DIR` "
        "(docs/realtime.md) or set SIGHTLINE_NATS_URL",
    )


class JetStreamBroker:
    """A connection to NATS JetStream: streams, publishing, durable consumers."""

    def __init__(self, url: str) -> None:
        """Remember ``url``; ``connect()`` opens the connection."""
        self.url = url
        self.nc: Any = None
        self.js: Any = None

    async def connect(self) -> JetStreamBroker:
        """Connect and make sure the three streams exist (StoreError when unreachable)."""
        import nats

        try:
            self.nc = await nats.connect(
                self.url, connect_timeout=3, max_reconnect_attempts=2, allow_reconnect=False
            )
            self.js = self.nc.jetstream(timeout=10)
            await self.ensure_streams()
        except (OSError, TimeoutError) as exc:
            raise _broker_error(exc, self.url) from None
        except Exception as exc:  # nats raises its own error classes
            if exc.__class__.__module__.startswith("nats"):
                raise _broker_error(exc, self.url) from None
            raise
        return self

    async def close(self) -> None:
        """Drain and close the connection."""
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
            self.nc = None

    async def ensure_streams(self) -> None:
        """One file-backed stream per event kind (created once; existing ones are kept)."""
        from nats.js.api import StorageType, StreamConfig
        from nats.js.errors import NotFoundError

        for stream, prefix in STREAMS.values():
            try:
                await self.js.stream_info(stream)
            except NotFoundError:
                await self.js.add_stream(
                    StreamConfig(name=stream, subjects=[f"{prefix}.>"], storage=StorageType.FILE)
                )

    async def publish(self, events: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Publish events in order; return {stream: last sequence} once the broker stored all."""
        last: dict[str, int] = {}
        pending: list[Any] = []

        async def settle() -> None:
            for ack in await asyncio.gather(*pending):
                last[ack.stream] = max(last.get(ack.stream, 0), ack.seq)
            pending.clear()

        for event in events:
            subject, payload = encode_event(event)
            pending.append(await self.js.publish_async(subject, payload))
            if len(pending) >= PUBLISH_WINDOW:
                await settle()
        await settle()
        return last

    async def publish_raw(self, subject: str, payload: bytes) -> int:
        """Publish one payload as it is (tests of malformed messages); its stream sequence."""
        ack = await self.js.publish(subject, payload)
        return int(ack.seq)

    async def last_sequences(self) -> dict[str, int]:
        """The last sequence stored in each stream."""
        out = {}
        for stream, _ in STREAMS.values():
            info = await self.js.stream_info(stream)
            out[stream] = int(info.state.last_seq)
        return out

    async def stream_ids(self) -> dict[str, str]:
        """When each stream was created: a stream deleted and made again restarts at 1."""
        out = {}
        for stream, _ in STREAMS.values():
            info = await self.js.stream_info(stream)
            out[stream] = str(info.created)
        return out

    async def source(self, durable: str, after: Mapping[str, int]) -> JetStreamSource:
        """A durable consumer per stream that delivers the sequences after ``after[stream]``.

        The consumer keeps its name (and the broker its acknowledged floor) across restarts;
        when its floor is not where the snapshot says, or deliveries are still unacknowledged
        (a crash between snapshot and ack, or a lost snapshot), it is recreated to start right
        after the snapshot's sequence, so nothing is skipped and nothing is applied twice.
        Messages are pushed to us as they are stored (no polling delay), at most
        ``MAX_ACK_PENDING`` unacknowledged per stream.
        """
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        source = JetStreamSource()
        for stream, prefix in STREAMS.values():
            start = int(after.get(stream, 0))
            name = f"{durable}-{stream.lower()}"
            config = None
            try:
                info = await self.js.consumer_info(stream, name)
                if int(info.ack_floor.stream_seq) != start or info.num_ack_pending:
                    await self.js.delete_consumer(stream, name)
                    raise NotFoundError
            except NotFoundError:
                config = ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=start + 1,
                    ack_policy=AckPolicy.ALL,
                    ack_wait=300,
                    max_ack_pending=MAX_ACK_PENDING,
                )
            sub = await self.js.subscribe(
                f"{prefix}.>",
                stream=stream,
                durable=name,
                manual_ack=True,
                config=config,
                cb=source.handler(stream),
            )
            source.subs.append(sub)
        return source


class JetStreamSource:
    """``EventSource`` over one push subscription per stream, merged into one queue.

    Each subscription's callback runs in delivery order, so each stream's order is kept.
    """

    def __init__(self) -> None:
        """An empty source; ``JetStreamBroker.source`` adds the subscriptions."""
        self.subs: list[Any] = []
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue()

    def handler(self, stream: str) -> Any:
        """The callback that queues one stream's messages."""

        async def on_message(m: Any) -> None:
            meta = m.metadata
            self.queue.put_nowait(
                Delivery(stream, int(meta.sequence.stream), m.data, meta.timestamp, m)
            )

        return on_message

    async def fetch(self, max_events: int, timeout: float) -> list[Delivery]:
        """Deliveries queued so far (waiting up to ``timeout`` for the first one)."""
        out: list[Delivery] = []
        try:
            out.append(await asyncio.wait_for(self.queue.get(), timeout))
        except TimeoutError:
            return out
        while len(out) < max_events and not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out

    async def ack(self, upto: Mapping[str, Delivery]) -> None:
        """AckAll: acknowledging a delivery acknowledges every earlier one of its stream."""
        for delivery in upto.values():
            await delivery.handle.ack()

    async def close(self) -> None:
        """Stop the subscriptions (the durable consumers stay on the broker)."""
        for sub in self.subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
