"""The feature value record every area exchanges: what, for whom, which definition, known when."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date


@dataclass(frozen=True)
class FeatureValue:
    """One feature value, as logged in the answer trail.

    Attributes:
        entity: Ticker, issuer, portfolio id or macro entity (``US``).
        feature: Feature name, e.g. ``realized_vol_20d``.
        version: Hash of the feature definition that produced the value.
        as_of: The date the value describes; it was computable from data known at that date
            (streamed quote features carry a ``datetime``, a subclass of ``date``).
        value: The value in the feature's unit (``None`` when not computable).
    """

    entity: str
    feature: str
    version: str
    as_of: date
    value: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (``as_of`` as ISO text)."""
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        return out
