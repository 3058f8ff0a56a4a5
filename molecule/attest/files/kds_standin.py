# Stand-in for AMD's KDS on the controller, for the attest Molecule scenario only: serves a
# directory tree (vcek/v1/Milan/cert_chain, vcek/v1/Milan/<hwid>, vlek/v1/Milan/cert_chain)
# on 127.0.0.1, query strings ignored, as KDS answers GET. Writes its port and pid beside
# the tree and stops by itself after LIFETIME seconds, so nothing outlives the scenario.
#   kds_standin.py DIRECTORY LIFETIME
import functools
import http.server
import os
import sys
import threading

directory, lifetime = sys.argv[1], float(sys.argv[2])


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=directory))
with open(os.path.join(directory, "..", "kds.pid"), "w") as handle:
    handle.write(str(os.getpid()))
with open(os.path.join(directory, "..", "kds.port"), "w") as handle:
    handle.write(str(server.server_address[1]))
threading.Timer(lifetime, server.shutdown).start()
server.serve_forever(poll_interval=0.2)
