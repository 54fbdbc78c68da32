#!/usr/bin/python3
"""Long-lived pocketsphinx decoder fed over stdin/stdout by src/speech/pocketsphinx-pool.ts.

Loading the en-us acoustic model costs ~170 ms, so one process decodes many utterances.
Protocol (one request at a time):
  stdin : one JSON line {"id": n, "jsgf": "<grammar text>", "bytes": N} (grammar search) or
          {"id": n, "lm": "/path/model.arpa", "bytes": N} (open vocabulary, n-gram search), then
          N bytes of 16 kHz mono PCM16 little-endian.
  stdout: one JSON line {"id": n, "text": "...", "confidence": 0..1, "ms": decode ms, "cpuMs": CPU ms,
          "ascore": acoustic log score of the best path, "frames": n}
          or {"id": n, "error": "..."}. First line is {"ready": true} once the model is loaded.
Searches are cached by grammar text / model path in a few reusable slots, so switching grammars
per dialog turn never reloads the acoustic model. `ascore` lets the caller compare how well the
grammar path and the open-vocabulary path fit the same audio (same acoustic model, same frames).
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


# (option, type, default): None leaves the decoder's default (or the model's feat.params) alone.
TUNABLES = [
    ("lw", "float", None),
    ("wip", "float", None),
    ("pip", "float", None),
    ("beam", "float", None),
    ("wbeam", "float", None),
    ("pbeam", "float", None),
    ("silprob", "float", None),
    ("fillprob", "float", None),
    ("topn", "int", None),
    ("remove_noise", "bool", None),
    ("remove_silence", "bool", None),
    ("cmn", "str", None),
    ("cmninit", "str", None),
    ("dither", "bool", None),
    ("lowerf", "float", None),
    ("upperf", "float", None),
    ("samprate", "float", None),
    ("nfft", "int", None),
]


def make_decoder():
    config = Decoder.default_config()
    config.set_string("-hmm", os.path.join(MODEL_DIR, "en-us"))
    config.set_string("-dict", os.path.join(MODEL_DIR, "cmudict-en-us.dict"))
    config.set_string("-logfn", "/dev/null")  # its chatty log would fill the stderr pipe
    # Open-vocabulary (n-gram) search tuned for speed: one forward pass (no flat-lexicon rescoring,
    # no lattice best path) and a cap on active HMMs per frame. Measured on the understanding
    # benchmark: about 3x faster than the defaults for the same intent accuracy. JSGF search
    # ignores these.
    env = lambda key, default: os.environ.get("PS_" + key.upper(), default)
    config.set_boolean("-fwdflat", env("fwdflat", "no") == "yes")
    config.set_boolean("-bestpath", env("bestpath", "no") == "yes")
    config.set_int("-maxhmmpf", int(env("maxhmmpf", "3000")))
    config.set_int("-maxwpf", int(env("maxwpf", "10")))
    # Search weights, beams and front-end switches: PS_LW=7 etc. override (for sweeps on the
    # understanding benchmark's tuning part); a None default keeps the model's/decoder's own value.
    for key, kind, default in TUNABLES:
        value = env(key, default)
        if value is None:
            continue
        if kind == "float":
            config.set_float("-" + key, float(value))
        elif kind == "int":
            config.set_int("-" + key, int(value))
        elif kind == "bool":
            config.set_boolean("-" + key, value == "yes")
        else:
            config.set_string("-" + key, value)
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

    lms = {}  # model path -> search name (few per process: one per agent config)

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

    def select_lm(path):
        name = lms.get(path)
        if name is None:
            name = "lm%d" % len(lms)
            decoder.set_lm_file(name, path)  # raises RuntimeError on a bad model
            lms[path] = name
        decoder.set_search(name)

    preload = os.environ.get("PS_PRELOAD_LM")
    if preload:
        select_lm(preload)  # parsing the model takes seconds: do it before saying ready
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
            cpu_started = time.process_time()
            if req.get("lm"):
                select_lm(req["lm"])
            else:
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
            ascore = sum(seg.ascore for seg in decoder.seg()) if text else 0
            ms = (time.perf_counter() - started) * 1000.0
            cpu_ms = (time.process_time() - cpu_started) * 1000.0
            reply({"id": rid, "text": text, "confidence": min(1.0, confidence), "ms": ms,
                   "cpuMs": cpu_ms, "ascore": ascore, "frames": decoder.n_frames()})
        except Exception as exc:  # bad grammar, decoder error: report, keep serving
            grammars.clear()  # a failed set_jsgf_string may leave a slot half-defined
            reply({"id": rid, "error": "%s: %s" % (type(exc).__name__, exc)})


if __name__ == "__main__":
    main()
