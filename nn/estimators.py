"""Moved to ``nn.train.estimators``; this name keeps old imports working.

``nn.estimators`` *is* that module (one object in ``sys.modules`` under both names), so every name
in it, private ones included, and ``monkeypatch.setattr(nn.estimators, ...)`` reach the real code.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("nn.train.estimators")
