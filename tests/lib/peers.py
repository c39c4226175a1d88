"""nginx and HAProxy as peers of pullgate in the interop tests, each run as a
single foreground process of the current user with everything in a
temporary directory, stopped by its own PID:

  NginxTlsOrigin   nginx as an HTTPS origin (optionally ssl_verify_client on)
  HaproxyEdge      HAProxy as an edge pulling from the guard with a client
                   certificate (crt = certificate and key in one PEM file)

tools.Nginx (nginx as an edge in front of the guard) is the guard suite's."""
import os

from . import ports, procs, waiting
from .tools import NGINX, need

HAPROXY = "/usr/sbin/haproxy"

_NGINX_MAIN = """
daemon off;
master_process off;
pid {w}/nginx.pid;
error_log {w}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {w}/access.log;
    client_body_temp_path {w}/body;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;
{server}
}}
"""


class _Peer:
    """A started peer process with its own work directory."""

    def _start(self, name, argv, log_dir, port):
        self.proc = procs.Proc(name, argv, log_dir)

        def ready():
            if not self.proc.alive():
                raise AssertionError("%s exited:\n%s\n%s" % (name, self.proc.tail(),
                                                             self.error_text()))
            return ports.accepts_tcp(port)
        waiting.wait_for(ready, 15, "%s to accept on port %d" % (name, port))

    def error_text(self):
        return ""

    def stop(self):
        return self.proc.stop()


class NginxTlsOrigin(_Peer):
    """nginx serving HTTPS on .port with server_cert. With client_ca it asks
    for a client certificate (`ssl_verify_client on`) and answers every
    request with 200 and "subject=$ssl_client_s_dn verify=$ssl_client_verify".
    protocols is nginx's ssl_protocols value."""

    def __init__(self, workdir, log_dir, server_cert, client_ca=None, protocols="TLSv1.2 TLSv1.3",
                 name="nginx-origin"):
        need(NGINX)
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        self.port = ports.free_port()
        verify = ""
        if client_ca:
            verify = ("ssl_verify_client on;\n        ssl_client_certificate %s;\n"
                      "        ssl_verify_depth 2;" % client_ca)
        server = """
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name _;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols {protocols};
        {verify}
        location / {{
            default_type text/plain;
            return 200 "subject=$ssl_client_s_dn verify=$ssl_client_verify
proto=$ssl_protocol host=$host\\n";
        }}
    }}""".format(port=self.port, cert=server_cert.cert, key=server_cert.key,
                 protocols=protocols, verify=verify)
        self.conf = os.path.join(workdir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(_NGINX_MAIN.format(w=workdir, server=server))
        self.error_log = os.path.join(workdir, "error.log")
        self.access_log = os.path.join(workdir, "access.log")
        self._start(name, [NGINX, "-p", workdir, "-e", self.error_log, "-c", self.conf],
                    log_dir, self.port)

    def error_text(self):
        try:
            with open(self.error_log) as f:
                return f.read()
        except OSError:
            return ""

    def access_lines(self):
        """The access log's lines: one per request nginx answered."""
        try:
            with open(self.access_log) as f:
                return f.read().splitlines()
        except OSError:
            return []


class HaproxyEdge(_Peer):
    """HAProxy in front of a guard: plain HTTP on .port, each request pulled
    over TLS from 127.0.0.1:guard_port, verifying the guard's certificate
    against server_ca for sni, presenting client_cert when given."""

    def __init__(self, workdir, log_dir, guard_port, server_ca, client_cert=None,
                 sni="localhost", name="haproxy"):
        need(HAPROXY)
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        self.port = ports.free_port()
        crt = ""
        if client_cert is not None:
            # HAProxy's crt takes the certificate and its key in one file.
            combined = os.path.join(workdir, "client-combined.pem")
            with open(combined, "w") as out:
                for part in (client_cert.cert, client_cert.key):
                    with open(part) as f:
                        out.write(f.read())
            crt = "crt %s " % combined
        conf = """
global
    maxconn 100
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend visitors
    bind 127.0.0.1:{port}
    default_backend guard

backend guard
    http-request set-header Host localhost
    server s1 127.0.0.1:{gport} ssl {crt}ca-file {ca} verify required sni str({sni})
""".format(port=self.port, gport=guard_port, crt=crt, ca=server_ca, sni=sni)
        self.conf = os.path.join(workdir, "haproxy.cfg")
        with open(self.conf, "w") as f:
            f.write(conf)
        self._start(name, [HAPROXY, "-db", "-f", self.conf], log_dir, self.port)

    def error_text(self):
        return self.proc.stderr_text()
