"""The natural-language RPC of `bitseg.v1.Bitseg`: Translate (decode, translate, encode).

Mixed into `BitsegServicer`; runs on the calling server thread (building an org's
grammar the first time takes a moment, and an external language model, set with
$BITSEG_NL_MODEL, see `bitseg.nl.model`, may take up to its timeout, without holding
up other calls). The model is loaded once, on the first call.
"""

from __future__ import annotations

import logging
import threading

import grpc

from bitseg.nl import Translation, Translator, model_from_env
from bitseg.nl.result import Phrase
from bitseg.rules import rule_to_json_text
from bitseg.rules.limits import Limits
from bitseg.server import rule_proto
from bitseg.server.segment_rpcs import required
from bitseg.server.wire import micros, parse_now
from bitseg.service import Service
from bitseg.v1 import bitseg_pb2 as pb

log = logging.getLogger("bitseg.server")
_LOCK = threading.Lock()


class NlRpcs:
    """Natural-language mode (a mixin: needs `service` and `limits`)."""

    service: Service
    limits: Limits
    _translator: Translator | None = None

    def translator(self) -> Translator:
        with _LOCK:
            if self._translator is None:
                model, timeout = model_from_env()
                if model is not None:
                    log.info("natural-language mode: language model %r, timeout %g s",
                             model, timeout)  # fmt: skip
                self._translator = Translator(self.service, model=model, timeout=timeout)
            return self._translator

    def Translate(
        self, request: pb.TranslateRequest, context: grpc.ServicerContext
    ) -> pb.TranslateResponse:
        org = required(request.org, "org")
        sentence = required(request.sentence, "sentence")
        now = parse_now(request.now)
        result = self.translator().translate(org, sentence, now, request.offline)
        return translation_message(result)


def translation_message(result: Translation) -> pb.TranslateResponse:
    response = pb.TranslateResponse(
        text=result.text,
        not_understood=[_phrase(p) for p in result.not_understood],
        ambiguities=[
            pb.Ambiguity(phrase=_phrase(a.phrase), chosen=a.chosen, alternatives=a.alternatives)
            for a in result.ambiguities
        ],
        notes=result.notes,
        rejected=result.rejected,
        translator=result.translator,
        eval_micros=micros(result.seconds),
    )
    if result.rule is not None:
        response.json = rule_to_json_text(result.rule)
        response.node.CopyFrom(rule_proto.to_proto(result.rule))  # CopyFrom: no re-parse
    if result.count is not None:
        response.count = result.count
    return response


def _phrase(phrase: Phrase) -> pb.Phrase:
    return pb.Phrase(text=phrase.text, start=phrase.start, end=phrase.end)
