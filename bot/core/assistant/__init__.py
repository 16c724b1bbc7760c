"""The conversation engine: a simulated instruction-tuned assistant, and a base model beside it.

`engine.Assistant` is what the companion calls; `simulated` holds the skills, `base_model` the
n-gram model, `retrieval` the course index, `knowledge` the phrasebook and facts.
"""

from .engine import Assistant

__all__ = ["Assistant"]
