#!/usr/bin/env python3
"""Measures `kfpl lsp`: time from a didChange to its publishDiagnostics, and
the server's peak RSS. Not a test (no timing assertions anywhere).

    cargo build --release
    python3 benches/gen_kfp.py 175 > /tmp/2k.kfp
    python3 tests/lsp/measure_latency.py target/release/kfpl /tmp/2k.kfp 20

Each change types one character at the end of the first step's command
string and the next one deletes it, so every text is a real program.
"""
import json
import statistics
import subprocess
import sys
import time


def send(proc, message):
    body = json.dumps(message).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def receive(proc):
    length = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise EOFError("server closed")
        line = line.strip()
        if not line:
            break
        if line.startswith(b"Content-Length:"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))


def wait_for(proc, predicate):
    while True:
        message = receive(proc)
        if predicate(message):
            return message


def main():
    binary, path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    text = open(path).read()
    uri = "file:///measure.kfp"
    proc = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    wait_for(proc, lambda m: m.get("id") == 1)
    send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
    is_diagnostics = lambda m: m.get("method") == "textDocument/publishDiagnostics"
    start = time.perf_counter()
    send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "kfp", "version": 1, "text": text}}})
    published = wait_for(proc, is_diagnostics)
    opened = time.perf_counter() - start
    lines = text.split("\n")
    line = next(i for i, l in enumerate(lines) if "command = \"" in l)
    column = lines[line].rindex('"')
    times = []
    for n in range(rounds):
        insert = n % 2 == 0
        end = column + (0 if insert else 1)
        change = {"range": {"start": {"line": line, "character": column},
                            "end": {"line": line, "character": end}},
                  "text": "x" if insert else ""}
        start = time.perf_counter()
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": n + 2}, "contentChanges": [change]}})
        wait_for(proc, is_diagnostics)
        times.append(time.perf_counter() - start)
    with open(f"/proc/{proc.pid}/status") as status:
        peak = next(l for l in status if l.startswith("VmHWM")).split()[1]
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    wait_for(proc, lambda m: m.get("id") == 2)
    send(proc, {"jsonrpc": "2.0", "method": "exit"})
    proc.wait()
    ms = sorted(t * 1000 for t in times)
    print(f"{path}: {len(lines)} lines, {len(published['params']['diagnostics'])} diagnostics; "
          f"didOpen {opened * 1000:.1f} ms; didChange→publishDiagnostics over {rounds}: "
          f"median {statistics.median(ms):.1f} ms, min {ms[0]:.1f}, max {ms[-1]:.1f}; "
          f"peak RSS {int(peak) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
