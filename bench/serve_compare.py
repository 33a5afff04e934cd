#!/usr/bin/env python3
"""Serving side by side: Agora's `agora serve` against another OpenAI-compatible server (for
example llama.cpp's llama-server) on the same model file, threads and slots.

    bench/serve_compare.py --model MODEL.gguf [--agora build/release/agora]
                           [--llama-server PATH] [--threads 2] [--slots 8] [--tokens 32]
                           [--prefix 2000]

For each server: starts it on a free loopback port, then
  * throughput: 1, 4 and `--slots` concurrent clients, each one /v1/completions request of
    `--tokens` tokens (temperature 0, ignore_eos) → aggregate completion tokens/s;
  * time to first token (streaming) for a prompt of about `--prefix` tokens, cold and then again
    with the same prefix (prefix cache: Agora's is always on; llama-server gets --cache-reuse).
Prints one markdown table. Standard library only; a benchmark, not a test.
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/v1/models")
            r = c.getresponse()
            r.read()
            if r.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError("server did not become ready")


def post(port, body, stream=False):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:300]!r}")
    return c, r


def completion(port, model, prompt, tokens):
    # ignore_eos (an extension both servers take): every request generates exactly `tokens`
    # tokens, whatever a random model's end-of-text probability.
    c, r = post(port, {"model": model, "prompt": prompt, "max_tokens": tokens, "temperature": 0, "ignore_eos": True})
    data = json.loads(r.read())
    c.close()
    return data["usage"]["completion_tokens"]


def ttft(port, model, prompt):
    t0 = time.time()
    c, r = post(port, {"model": model, "prompt": prompt, "max_tokens": 4, "temperature": 0, "stream": True}, True)
    first = None
    while True:
        line = r.readline()
        if not line:
            break
        if line.startswith(b"data: ") and line.strip() != b"data: [DONE]" and first is None:
            first = time.time() - t0
    c.close()
    return first


def throughput(port, model, clients, tokens):
    done = []
    errors = []

    def one(i):
        try:
            done.append(completion(port, model, f"Once upon a time, number {i},", tokens))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(str(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return sum(done) / (time.time() - t0)


def measure(name, cmd, port, model, args):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        throughput(port, model, 1, 4)  # warm-up
        rows = {}
        for n in sorted({1, 4, 8, args.slots}):
            rows[f"tok/s, {n} clients"] = throughput(port, model, n, args.tokens)
        # A long prefix of plain words (about one token each with a small vocabulary).
        words = " ".join(f"w{i % 97}" for i in range(args.prefix))
        rows["TTFT cold, long prompt (s)"] = ttft(port, model, words + " The end.")
        rows["TTFT, same prefix again (s)"] = ttft(port, model, words + " Another end.")
        c, r = post(port, {"model": model, "prompt": words + " The end.", "max_tokens": 1, "temperature": 0})
        rows["long prompt, tokens"] = json.loads(r.read())["usage"]["prompt_tokens"]
        c.close()
        return rows
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--agora", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "agora"))
    ap.add_argument("--llama-server")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--slots", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--prefix", type=int, default=700, help="words in the long prompt (report shows its tokens)")
    ap.add_argument("--ctx", type=int, default=4096)
    args = ap.parse_args()

    results = {}
    port = free_port()
    results["Agora"] = measure("Agora", [args.agora, "serve", "--model", args.model, "--alias", "m", "--port", str(port),
                                         "--threads", str(args.threads), "--parallel", str(args.slots),
                                         "--ctx-size", str(args.ctx), "--no-auth",
                                         "--data-dir", tempfile.mkdtemp(prefix="agora-serve-compare-")], port, "m", args)
    if args.llama_server:
        port = free_port()
        results["llama-server"] = measure("llama-server", [args.llama_server, "-m", args.model, "--port", str(port),
                                                           "-t", str(args.threads), "-np", str(args.slots),
                                                           "-c", str(args.ctx * args.slots), "--cache-reuse", "256",
                                                           "-a", "m"], port, "m", args)
    names = list(results)
    # Last column: how many times better Agora is (tokens/s: Agora / other; seconds: other / Agora).
    print("| measure | " + " | ".join(names) + (" | Agora advantage |" if len(names) == 2 else " |"))
    print("| --- | " + " | ".join("---:" for _ in names) + (" | ---: |" if len(names) == 2 else " |"))
    for key in results["Agora"]:
        vals = [results[n][key] for n in names]
        cells = " | ".join(f"{v:.2f}" if v is not None else "-" for v in vals)
        ratio = ""
        if len(names) == 2 and vals[0] and vals[1] and "TTFT" in key:
            ratio = f" | {vals[1] / vals[0]:.2f}x"
        elif len(names) == 2 and vals[0] and vals[1] and "tok/s" in key:
            ratio = f" | {vals[0] / vals[1]:.2f}x"
        elif len(names) == 2:
            ratio = " | |"
        print(f"| {key} | {cells}{ratio} |")


if __name__ == "__main__":
    sys.exit(main())
