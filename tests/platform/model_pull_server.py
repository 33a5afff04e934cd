#!/usr/bin/env python3
"""A Hugging Face-style file server for model_pull_test: loopback only, stops with its parent.

  model_pull_server.py ROOT PORT_FILE LOG_FILE

Serves ROOT/FILE at /OWNER/NAME/resolve/main/FILE with Range support, an ETag and an
X-Linked-Etag that are the file's sha256 (as huggingface.co sends for LFS files). The OWNER
picks a behaviour:
  plain     as described
  redirect  a 302 to /plain/... carrying X-Linked-Etag (as huggingface.co redirects to its CDN)
  cut       the first request without a Range gets half the body, then the connection closes
  badsum    X-Linked-Etag is the sha256 of something else
  norange   Range is ignored (always 200 with the whole file)
A missing file is a 404. Each request is logged to LOG_FILE as "METHOD PATH RANGE".
"""
import hashlib
import http.server
import os
import sys
import threading

ROOT, PORT_FILE, LOG_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
cut_done = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        rng = self.headers.get("Range", "-")
        with lock, open(LOG_FILE, "a") as log:
            log.write(f"GET {self.path} {rng}\n")
        parts = self.path.split("/")
        # ['', owner, name, 'resolve', 'main', file]
        if len(parts) != 6 or parts[3] != "resolve" or parts[4] != "main":
            return self.fail(404)
        owner, name, fname = parts[1], parts[2], parts[5]
        path = os.path.join(ROOT, fname)
        if "/" in fname or not os.path.isfile(path):
            return self.fail(404)
        data = open(path, "rb").read()
        digest = hashlib.sha256(data).hexdigest()
        if owner == "redirect":
            self.send_response(302)
            self.send_header("Location", f"/plain/{name}/resolve/main/{fname}")
            self.send_header("X-Linked-Etag", f'"{digest}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if owner == "badsum":
            digest = hashlib.sha256(b"not this file").hexdigest()
        start = 0
        if rng.startswith("bytes=") and owner != "norange":
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("ETag", f'"{digest}"')
        self.send_header("X-Linked-Etag", f'"{digest}"')
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        body = data[start:]
        if owner == "cut" and rng == "-":
            with lock:
                first = fname not in cut_done
                cut_done.add(fname)
            if first:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
        self.wfile.write(body)

    def fail(self, status):
        body = b"Entry not found"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    parent = os.getppid()

    def watch_parent():  # exit when the test that started us is gone
        import time
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
