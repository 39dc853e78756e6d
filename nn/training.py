"""Moved to ``nn.train.fit``; this name keeps old imports working.

``nn.training`` *is* that module (one object in ``sys.modules`` under both names), so every name
in it, private ones included, and ``monkeypatch.setattr(nn.training, ...)`` reach the real code.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("nn.train.fit")
