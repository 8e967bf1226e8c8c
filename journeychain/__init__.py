"""journeychain: a customer journey across company silos as a chain of linked, timed steps."""

from journeychain.errors import JourneyError

__all__ = ["JourneyError"]
__version__ = "0.1.0"
