/*
 * edge_probe: `pullgate edge probe -c FILE --record NAME --cert C --key K` —
 * before switching an origin-pull certificate, ask the record's origin
 * whether it accepts the candidate: one pull made exactly as the edge would
 * (SSL mode, SNI, verification) but with the candidate certificate, and a
 * report of what the origin said. Exit 0 when accepted, 1 when refused, 2
 * for usage or configuration errors.
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/net.h"
#include "edge/edge.h"

#define PROBE_TIMEOUT_S 10

static void probe_usage(FILE *out)
{
	fprintf(out, "usage: pullgate edge probe -c FILE --record NAME --cert CERT --key KEY\n"
		     "  tries CERT as the record's origin-pull certificate against its origin, and says\n"
		     "  whether the origin accepts it (exit 0) or refuses it (exit 1)\n");
}

static int connect_origin(const struct edge_record *rec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (net_resolve(rec->origin.host, rec->origin.port, &ss, &len, err, errlen) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = PROBE_TIMEOUT_S };
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		snprintf(err, errlen, "%s: %s", rec->origin.text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One HEAD request over a handshake made with the candidate. */
static int probe(struct edge_tls *set, const struct edge_record *rec)
{
	char err[256];
	int fd = connect_origin(rec, err, sizeof err);
	if (fd < 0) {
		printf("refused: cannot connect: %s\n", err);
		return 1;
	}
	SSL *ssl = edge_tls_origin_ssl(set, rec);
	if (!ssl) {
		close(fd);
		printf("refused: cannot make a TLS connection for this record\n");
		return 2;
	}
	SSL_set_fd(ssl, fd);
	char req[512], resp[512];
	int n = snprintf(req, sizeof req, "HEAD / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nVia: 1.1 pullgate (probe)\r\n\r\n",
			 rec->name[0] == '*' ? rec->name + 2 : rec->name);
	int got = -1;
	ERR_clear_error();
	if (SSL_connect(ssl) == 1 && SSL_write(ssl, req, n) == n)
		got = SSL_read(ssl, resp, sizeof resp - 1);
	int status = 1;
	if (got > 0) {
		resp[got] = '\0';
		char *eol = strstr(resp, "\r\n");
		if (eol)
			*eol = '\0';
		printf("accepted: %s answered \"%s\" (%s)\n", rec->origin.text, resp, SSL_get_version(ssl));
		status = 0;
	} else {
		char detail[200] = "";
		unsigned long e = ERR_peek_error();
		enum origin_tls_failure f = edge_tls_classify_origin_failure(ssl, e, detail, sizeof detail);
		printf("refused: %s: %s\n",
		       f == ORIGIN_TLS_REFUSED_CERT   ? "the origin refused the certificate"
		       : f == ORIGIN_TLS_INVALID_CERT ? "the origin's certificate failed verification"
						      : "the TLS handshake failed",
		       detail[0] ? detail : "connection closed");
	}
	SSL_free(ssl);
	close(fd);
	return status;
}

int edge_probe_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "record", required_argument, NULL, 'r' },
		{ "cert", required_argument, NULL, 'C' },   { "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	const char *path = NULL, *name = NULL, *cert = NULL, *key = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'r': name = optarg; break;
		case 'C': cert = optarg; break;
		case 'K': key = optarg; break;
		case 'h': probe_usage(stdout); return 0;
		default: probe_usage(stderr); return 2;
		}
	}
	if (!path || !name || !cert || !key || optind != argc) {
		probe_usage(stderr);
		return 2;
	}
	struct conf_errors errs = { 0 };
	struct edge_conf *conf = edge_conf_load(path, &errs);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	if (!conf)
		return 2;
	struct edge_record *rec = (struct edge_record *)edge_conf_find_record(conf, name, strlen(name));
	int status = 2;
	if (!rec || !rec->proxied) {
		fprintf(stderr, "pullgate edge probe: %s: no proxied record named %s\n", path, name);
	} else if (rec->ssl != SSL_MODE_FULL && rec->ssl != SSL_MODE_STRICT) {
		fprintf(stderr, "pullgate edge probe: %s: record %s pulls without TLS (ssl off or flexible)\n", path,
			name);
	} else {
		/* The record pulls with the candidate as its own certificate; the
		 * set checks it (a leaf, key match, clientAuth, validity) first. */
		free(rec->own_client_cert.certificate);
		free(rec->own_client_cert.key);
		rec->own_client_cert.certificate = strdup(cert);
		rec->own_client_cert.key = strdup(key);
		rec->own_client_cert.line = rec->line;
		rec->client_cert = &rec->own_client_cert;
		rec->pull = ORIGIN_PULL_HOSTNAME;
		char err[512] = "";
		struct edge_tls *set = edge_tls_build(conf, err, sizeof err);
		if (!set) {
			fprintf(stderr, "pullgate edge probe: %s\n", err);
		} else {
			status = probe(set, rec);
			edge_tls_unref(set);
		}
	}
	edge_conf_free(conf);
	return status;
}
