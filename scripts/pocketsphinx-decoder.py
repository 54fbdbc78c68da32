#!/usr/bin/python3
"""Long-lived pocketsphinx JSGF decoder fed over stdin/stdout by src/speech/pocketsphinx-pool.ts.

Loading the en-us acoustic model costs ~170 ms, so one process decodes many utterances.
Protocol (one request at a time):
  stdin : one JSON line {"id": n, "jsgf": "<grammar text>", "bytes": N} then N bytes of
          16 kHz mono PCM16 little-endian.
  stdout: one JSON line {"id": n, "text": "...", "confidence": 0..1, "ms": decode ms}
          or {"id": n, "error": "..."}. First line is {"ready": true} once the model is loaded.
Grammars are cached by text in a few reusable search slots, so switching grammars per dialog
turn never reloads the acoustic model.
"""
import json
import math
import os
import sys
import time
from collections import OrderedDict

from pocketsphinx import Decoder

MODEL_DIR = os.environ.get("PS_MODEL_DIR", "/usr/share/pocketsphinx/model/en-us")
MAX_GRAMMARS = 16  # search slots; the oldest grammar's slot is reused (set_jsgf_string replaces it)


def make_decoder():
    config = Decoder.default_config()
    config.set_string("-hmm", os.path.join(MODEL_DIR, "en-us"))
    config.set_string("-dict", os.path.join(MODEL_DIR, "cmudict-en-us.dict"))
    config.set_string("-logfn", "/dev/null")  # its chatty log would fill the stderr pipe
    return Decoder(config)


def main():
    decoder = make_decoder()
    grammars = OrderedDict()  # jsgf text -> slot name, most recently used last
    stdin = sys.stdin.buffer
    # The C JSGF parser prints syntax errors to fd 1. Keep a private copy of the real stdout for
    # protocol replies and point fd 1 at stderr so nothing else can corrupt the reply stream.
    stdout = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    def reply(obj):
        stdout.write(json.dumps(obj) + "\n")
        stdout.flush()

    def select_grammar(jsgf):
        slot = grammars.get(jsgf)
        if slot is not None:
            grammars.move_to_end(jsgf)
        else:
            if len(grammars) >= MAX_GRAMMARS:
                _, slot = grammars.popitem(last=False)
            else:
                slot = "g%d" % len(grammars)
            decoder.set_jsgf_string(slot, jsgf)  # raises RuntimeError on a bad grammar
            grammars[jsgf] = slot
        decoder.set_search(slot)

    reply({"ready": True})
    while True:
        line = stdin.readline()
        if not line:
            return  # parent closed the pipe: exit quietly
        req = json.loads(line)
        n = int(req["bytes"])
        pcm = stdin.read(n)
        if len(pcm) != n:
            return
        rid = req.get("id")
        try:
            started = time.perf_counter()
            select_grammar(req["jsgf"])
            decoder.start_utt()
            decoder.process_raw(pcm, False, True)  # full utterance: no internal VAD re-segmenting
            decoder.end_utt()
            hyp = decoder.hyp()
            text = hyp.hypstr if hyp is not None else ""
            confidence = 0.0
            if text:
                # Posterior of the best path; log domain in the decoder's log base.
                confidence = decoder.get_logmath().exp(hyp.prob)
                if not math.isfinite(confidence) or confidence <= 0:
                    confidence = 1.0
            ms = (time.perf_counter() - started) * 1000.0
            reply({"id": rid, "text": text, "confidence": min(1.0, confidence), "ms": ms})
        except Exception as exc:  # bad grammar, decoder error: report, keep serving
            grammars.clear()  # a failed set_jsgf_string may leave a slot half-defined
            reply({"id": rid, "error": "%s: %s" % (type(exc).__name__, exc)})


if __name__ == "__main__":
    main()
