"""Session reuse through Python's ssl module, for a plain and a preloaded run to compare.

A TLS 1.2 server without tickets (so resumption goes through the server's session cache) and
a client that offers each connection the previous session; both close cleanly (unwrap, i.e.
SSL_shutdown) so libssl keeps the sessions. Prints reuse flags and both contexts' statistics.
usage: tls_reuse.py CERT KEY
"""
import socket
import ssl
import sys
import threading

CONNECTIONS = 5

server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain(sys.argv[1], sys.argv[2])
server.maximum_version = ssl.TLSVersion.TLSv1_2
server.options |= ssl.OP_NO_TICKET
client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
client.check_hostname = False
client.verify_mode = ssl.CERT_NONE
client.maximum_version = ssl.TLSVersion.TLSv1_2

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(CONNECTIONS)
listener.settimeout(20)


def serve():
    for _ in range(CONNECTIONS):
        conn, _ = listener.accept()
        conn.settimeout(20)
        tls = server.wrap_socket(conn, server_side=True)
        tls.recv(16)
        tls.sendall(b"ok")
        tls.unwrap().close()


thread = threading.Thread(target=serve)
thread.start()
session = None
for i in range(CONNECTIONS):
    raw = socket.create_connection(listener.getsockname(), timeout=20)
    tls = client.wrap_socket(raw, session=session)
    tls.sendall(b"hi")
    tls.recv(16)
    print("connection", i, "reused", tls.session_reused)
    session = tls.session
    tls.unwrap().close()
thread.join()
print("server", sorted(server.session_stats().items()))
print("client", sorted(client.session_stats().items()))
