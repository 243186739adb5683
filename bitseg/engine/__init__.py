"""The bitmap engine: a normalised rule tree -> a plan -> roaring bitmap algebra per shard.

Pure: it imports nothing from store/ or server/; it reads bitmaps through the
`BitmapSource` protocol, which a dict-backed fake can implement in tests.
"""

from bitseg.engine.executor import Executor
from bitseg.engine.planner import plan
from bitseg.engine.source import BitmapSource

__all__ = ["BitmapSource", "Executor", "plan"]
