"""Natural-language mode: a sentence becomes a rule to review, offline, from the org's own
vocabulary; an external language model can be plugged in.

Stages, one module each: `vocabulary` (the org's words, read from its index), `lexicon`
(those words and fixed English phrases as tables), `phrases` / `timespec` / `gbase`
(grammar building blocks: words, numbers, comparisons, time phrases), `grammar_fields` /
`grammar_activity` (the clause grammars), `grammar` (the sentence grammar, pyparsing),
`assemble` (items -> rule: subject, negation, grouping, not-understood phrases), `vet`
(checks against the org), `model` (the external model interface) and `translator`
(orchestration, counting). Only `vocabulary` and `translator` touch the store, through
the `Service`.

>>> from bitseg.nl import Translator                                  # doctest: +SKIP
>>> Translator(service).translate("acme", "VIPs in Germany").text      # doctest: +SKIP
'tags has "vip" and country = "DE"'
"""

from __future__ import annotations

from bitseg.nl.model import ModelRequest, NLModel, describe_schema, load_model, model_from_env
from bitseg.nl.result import Ambiguity, Phrase, Translation
from bitseg.nl.translator import Translator, translate_offline

__all__ = [
    "Ambiguity",
    "ModelRequest",
    "NLModel",
    "Phrase",
    "Translation",
    "Translator",
    "describe_schema",
    "load_model",
    "model_from_env",
    "translate_offline",
]
