"""Third-party clients the tests drive: curl, openssl s_client and nginx."""
import os
import shutil
import subprocess

from . import ports, procs, waiting

NGINX = "/usr/sbin/nginx"


def need(tool):
    """The tool's path; fails (not skips) the test when it is missing, since
    the suite's outcome would otherwise look better than it is."""
    path = tool if os.path.isabs(tool) else shutil.which(tool)
    if not path or not os.access(path, os.X_OK):
        raise AssertionError("%s is required by this test (make deps installs it)" % tool)
    return path


def curl(url, pki_files, cert=None, tls=None, timeout=20, extra=()):
    """Runs curl against url; returns (exit code, http_code, body, stderr).
    tls is "1.2" (exactly 1.2) or "1.3"."""
    argv = [need("curl"), "-sS", "--max-time", str(timeout), "--cacert", pki_files.origin_ca.cert,
            "-o", "-", "-w", "\n%{http_code}"]
    if cert is not None:
        argv += ["--cert", cert.cert, "--key", cert.key]
    if tls == "1.2":
        argv += ["--tlsv1.2", "--tls-max", "1.2"]
    elif tls == "1.3":
        argv += ["--tlsv1.3"]
    argv += list(extra) + [url]
    r = subprocess.run(argv, capture_output=True, timeout=timeout + 10)
    out = r.stdout.decode("latin-1")
    body, _, code = out.rpartition("\n")
    return r.returncode, code, body, r.stderr.decode("latin-1")


def s_client(port, pki_files, cert=None, tls="1.2", request=None, timeout=20,
             servername="localhost", extra=()):
    """Runs openssl s_client, writes request on its stdin, returns
    (exit code, stdout, stderr). -ign_eof keeps it reading after stdin ends
    until the guard closes."""
    argv = [need("openssl"), "s_client", "-connect", "127.0.0.1:%d" % port,
            "-servername", servername, "-CAfile", pki_files.origin_ca.cert,
            "-verify_return_error", "-ign_eof", "-tls" + tls.replace(".", "_")]
    if cert is not None:
        argv += ["-cert", cert.cert, "-key", cert.key]
    argv += list(extra)
    if request is None:
        request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    r = subprocess.run(argv, input=request, capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1")


class Nginx:
    """nginx as an edge in front of the guard: a single process (no master),
    run as the current user, everything in workdir."""

    def __init__(self, workdir, log_dir, guard_port, pki_files, client_cert=None, name="nginx"):
        need(NGINX)
        os.makedirs(workdir, exist_ok=True)
        self.port = ports.free_port()
        self.workdir = workdir
        cert_lines = ""
        if client_cert is not None:
            cert_lines = ("proxy_ssl_certificate %s;\n            proxy_ssl_certificate_key %s;"
                          % (client_cert.cert, client_cert.key))
        conf = """
daemon off;
master_process off;
pid {w}/nginx.pid;
error_log {w}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {w}/body;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass https://127.0.0.1:{gport};
            proxy_http_version 1.1;
            proxy_set_header Host localhost;
            {cert}
            proxy_ssl_trusted_certificate {ca};
            proxy_ssl_verify on;
            proxy_ssl_name localhost;
            proxy_ssl_server_name on;
        }}
    }}
}}
""".format(w=workdir, port=self.port, gport=guard_port, cert=cert_lines,
           ca=pki_files.origin_ca.cert)
        self.conf = os.path.join(workdir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.error_log = os.path.join(workdir, "error.log")
        self.proc = procs.Proc(name, [NGINX, "-p", workdir, "-e", self.error_log,
                                      "-c", self.conf], log_dir)

        def ready():
            if not self.proc.alive():
                raise AssertionError("nginx exited:\n%s\n%s" % (self.proc.tail(),
                                                                self.error_text()))
            return ports.accepts_tcp(self.port)
        waiting.wait_for(ready, 15, "nginx to accept on port %d" % self.port)

    def error_text(self):
        try:
            with open(self.error_log) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        return self.proc.stop()
