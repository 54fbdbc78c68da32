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
Streams (decoded while the caller speaks, on PS_STREAM_DECODERS extra decoders):
  {"op": "feed", "stream": s, "jsgf"|"lm": ..., "bytes": N} + PCM: no reply; the first feed of a
          stream takes a free stream decoder and starts its utterance with that search.
  {"op": "finish", "id": n, "stream": s, "bytes": N} + PCM (may be 0 bytes): ends the utterance,
          replies as a whole-utterance decode does (or {"id": n, "error": "stream: ..."}).
  {"op": "drop", "stream": s}: abandon the stream, no reply.
  The ready line says how many stream decoders there are: {"ready": true, "streams": k}.
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


class Searches:
    """One decoder and the searches it has loaded: grammars cached by text in a few reusable slots,
    n-gram models by path, so switching per dialog turn never reloads the acoustic model."""

    def __init__(self, decoder):
        self.decoder = decoder
        self.grammars = OrderedDict()  # jsgf text -> slot name, most recently used last
        self.lms = {}  # model path -> search name (few per process: one per agent config)

    def select(self, req):
        if req.get("lm"):
            self.select_lm(req["lm"])
        else:
            self.select_grammar(req["jsgf"])

    def select_grammar(self, jsgf):
        slot = self.grammars.get(jsgf)
        if slot is not None:
            self.grammars.move_to_end(jsgf)
        else:
            if len(self.grammars) >= MAX_GRAMMARS:
                _, slot = self.grammars.popitem(last=False)
            else:
                slot = "g%d" % len(self.grammars)
            try:
                self.decoder.set_jsgf_string(slot, jsgf)  # raises RuntimeError on a bad grammar
            except Exception:
                self.grammars.clear()  # a failed set_jsgf_string may leave a slot half-defined
                raise
            self.grammars[jsgf] = slot
        self.decoder.set_search(slot)

    def select_lm(self, path):
        name = self.lms.get(path)
        if name is None:
            name = "lm%d" % len(self.lms)
            # Its own copy: a model shared between decoders (set_lm with another's get_lm) decoded
            # streamed audio wrongly, its weights applied once per decoder.
            self.decoder.set_lm_file(name, path)  # raises RuntimeError on a bad model
            self.lms[path] = name
        self.decoder.set_search(name)


def result(decoder, rid, started, cpu_started):
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
    return {"id": rid, "text": text, "confidence": min(1.0, confidence), "ms": ms,
            "cpuMs": cpu_ms, "ascore": ascore, "frames": decoder.n_frames()}


class Streams:
    """Utterances decoded while the caller speaks, each on a decoder of its own (a pocketsphinx
    decoder holds one utterance at a time): `feed` opens a stream on a free decoder and processes
    audio as it comes, `finish` ends the utterance and replies like a whole-utterance decode, so
    at the caller's pause only the last bit of audio is left to decode. Few decoders (each holds
    its own copy of the models): a stream that finds none is told so at `finish` and the caller
    decodes the utterance whole instead."""

    def __init__(self, count, preload):
        self.free = []
        for _ in range(count):
            searches = Searches(make_decoder())
            if preload:
                searches.select_lm(preload)
            self.free.append(searches)
        self.active = {}  # stream id -> (Searches, cpu ms spent so far)
        self.failed = {}  # stream id -> why it has no decoder

    def feed(self, req, pcm):
        sid = req["stream"]
        if sid in self.failed:
            return
        entry = self.active.get(sid)
        cpu_started = time.process_time()
        try:
            if entry is None:
                if not self.free:
                    self.failed[sid] = "no free stream decoder"
                    return
                searches = self.free.pop()
                entry = [searches, 0.0]
                self.active[sid] = entry
                searches.select(req)
                searches.decoder.start_utt()
            entry[0].decoder.process_raw(pcm, False, False)
        except Exception as exc:
            self.failed[sid] = "%s: %s" % (type(exc).__name__, exc)
            self.drop(sid, keep_failure=True)
            return
        entry[1] += (time.process_time() - cpu_started) * 1000.0

    def finish(self, req, pcm):
        sid = req["stream"]
        rid = req.get("id")
        if sid in self.failed:
            return {"id": rid, "error": "stream: " + self.failed.pop(sid)}
        if len(pcm) > 0:
            self.feed(req, pcm)
            if sid in self.failed:
                return {"id": rid, "error": "stream: " + self.failed.pop(sid)}
        entry = self.active.pop(sid, None)
        if entry is None:
            return {"id": rid, "error": "stream: no audio"}
        searches, fed_cpu = entry
        started = time.perf_counter()
        cpu_started = time.process_time()
        try:
            searches.decoder.end_utt()
            reply = result(searches.decoder, rid, started, cpu_started)
            reply["cpuMs"] += fed_cpu  # the whole utterance's CPU, not only the finishing part
            return reply
        finally:
            self.free.append(searches)

    def drop(self, sid, keep_failure=False):
        if not keep_failure:
            self.failed.pop(sid, None)
        entry = self.active.pop(sid, None)
        if entry is None:
            return
        try:
            entry[0].decoder.end_utt()
        except Exception:
            pass
        self.free.append(entry[0])


def main():
    batch = Searches(make_decoder())
    decoder = batch.decoder
    stdin = sys.stdin.buffer
    # The C JSGF parser prints syntax errors to fd 1. Keep a private copy of the real stdout for
    # protocol replies and point fd 1 at stderr so nothing else can corrupt the reply stream.
    stdout = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    def reply(obj):
        stdout.write(json.dumps(obj) + "\n")
        stdout.flush()

    preload = os.environ.get("PS_PRELOAD_LM")
    if preload:
        batch.select_lm(preload)  # parsing the model takes seconds: do it before saying ready
    streams = Streams(int(os.environ.get("PS_STREAM_DECODERS", "0")), preload)
    reply({"ready": True, "streams": len(streams.free)})
    while True:
        line = stdin.readline()
        if not line:
            return  # parent closed the pipe: exit quietly
        req = json.loads(line)
        n = int(req.get("bytes", 0))
        pcm = stdin.read(n) if n > 0 else b""
        if len(pcm) != n:
            return
        op = req.get("op", "decode")
        if op == "feed":
            streams.feed(req, pcm)  # no reply: a failure is reported at finish
            continue
        if op == "drop":
            streams.drop(req["stream"])
            continue
        if op == "finish":
            try:
                reply(streams.finish(req, pcm))
            except Exception as exc:
                reply({"id": req.get("id"), "error": "%s: %s" % (type(exc).__name__, exc)})
            continue
        rid = req.get("id")
        try:
            started = time.perf_counter()
            cpu_started = time.process_time()
            batch.select(req)
            decoder.start_utt()
            decoder.process_raw(pcm, False, True)  # full utterance: no internal VAD re-segmenting
            decoder.end_utt()
            reply(result(decoder, rid, started, cpu_started))
        except Exception as exc:  # bad grammar, decoder error: report, keep serving
            reply({"id": rid, "error": "%s: %s" % (type(exc).__name__, exc)})


if __name__ == "__main__":
    main()
