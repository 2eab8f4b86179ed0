"""A TLS front for the local engine's socket that demands a client certificate signed by the
test's CA: usage tls_proxy.py SERVER_CERT SERVER_KEY CA UNIX_SOCKET; prints its port."""
import select, socket, ssl, sys, threading

cert, key, ca, unix_path = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(32)
print(srv.getsockname()[1], flush=True)


def serve(conn):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()
        return
    engine = socket.socket(socket.AF_UNIX)
    engine.connect(unix_path)
    try:
        while True:
            ready = [tls] if tls.pending() else select.select([tls, engine], [], [])[0]
            if tls in ready:
                data = tls.recv(65536)
                if not data:
                    break
                engine.sendall(data)
            if engine in ready:
                data = engine.recv(65536)
                if not data:
                    break
                tls.sendall(data)
    except (ssl.SSLError, OSError):
        pass
    finally:
        engine.close()
        tls.close()


while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
