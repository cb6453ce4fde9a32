"""Login attempts per client address: a sliding window, kept in memory by each replica."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field


@dataclass
class AttemptWindow:
    per_minute: int
    _attempts: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def allow(self, client: str, now: float) -> bool:
        """Record an attempt from `client` at `now` (seconds); False if over the limit."""
        recent = self._attempts[client]
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return False
        recent.append(now)
        return True
