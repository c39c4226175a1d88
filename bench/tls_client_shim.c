/*
 * tls_client_shim: an LD_PRELOAD library that gives wrk what the benchmark
 * needs and wrk has no option for.
 *
 *   BENCH_TLS_CERT, BENCH_TLS_KEY   present this client certificate (PEM chain,
 *                                   PEM key; no key: it is in the chain file):
 *                                   the guard role requires one
 *   BENCH_TLS_RESUME=0              start every connection with a full
 *                                   handshake (wrk keeps the previous session
 *                                   of a connection slot across SSL_clear, so
 *                                   without this a reconnect resumes)
 *   BENCH_TLS_STATS=FILE            at exit, write "handshakes N resumed M"
 *                                   there, so a run can prove which kind of
 *                                   handshake it measured
 *
 * It wraps SSL_CTX_new (to load the certificate once per context) and
 * SSL_connect (to drop the session before a handshake starts, and to count
 * completed handshakes).
 *
 * It also stops wrk from spinning during handshakes: wrk waits for a
 * handshake with EPOLLIN|EPOLLOUT, and a connected socket is always
 * writable, so each connection in a handshake calls SSL_connect in a loop
 * until the server answers, which burns the client core that the origin
 * shares. When SSL_connect wants to read, the shim narrows that socket's
 * registration to EPOLLIN (wrk's ae keeps data.fd = fd); wrk restores
 * EPOLLIN|EPOLLOUT itself once the handshake is done. The epoll instance of
 * each socket is learnt by wrapping epoll_ctl.
 *
 * And it makes wrk's side of each full handshake cheaper, the same for every
 * server: the server's certificate is decoded with OpenSSL's built-in key
 * methods (src/tls/key_decode.c) instead of a provider decoder context,
 * which costs more than the client's signature, and its key, the same in
 * every handshake, verifies the server's signature with a precomputed
 * table (src/tls/fixed_base_verify.c). And the client makes its X25519
 * key share once and offers it in every hello (it wraps EVP_PKEY_keygen,
 * which libssl calls for each new share): a server's work is the same
 * whatever the client's share, and the key generation, as dear as the
 * shared secret, would otherwise keep the client core from giving a fast
 * server enough handshakes. The less the client core spends per
 * handshake, the more the figures measure the server. Build: see
 * bench/run.sh (SHIM_SRCS).
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "tls/key_decode.h"

typedef SSL_CTX *(*ctx_new_fn)(const SSL_METHOD *);
typedef int (*connect_fn)(SSL *);
typedef int (*epoll_ctl_fn)(int, int, int, struct epoll_event *);
typedef int (*keygen_fn)(EVP_PKEY_CTX *, EVP_PKEY **);

/* The epoll instance each socket was last registered with (+1; 0: none). */
#define SHIM_MAX_FD 65536
static atomic_int shim_epfd[SHIM_MAX_FD];
static epoll_ctl_fn shim_epoll_ctl_next;

/* The one X25519 key share every hello offers (a reference of ours). */
static _Atomic(EVP_PKEY *) shim_share;

static atomic_ulong shim_handshakes;
static atomic_ulong shim_resumed;

static void *shim_next(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (fn == NULL) {
		fprintf(stderr, "tls_client_shim: %s not found\n", name);
		abort();
	}
	return fn;
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method)
{
	static ctx_new_fn next;
	const char *cert = getenv("BENCH_TLS_CERT");
	const char *key = getenv("BENCH_TLS_KEY");
	SSL_CTX *ctx;

	/* No key file: the key follows the certificate in the same file. */
	if (key == NULL || *key == '\0')
		key = cert;
	if (next == NULL)
		next = (ctx_new_fn)shim_next("SSL_CTX_new");
	ctx = next(method);
	if (ctx == NULL || cert == NULL || *cert == '\0')
		return ctx;
	/* A benchmark without its certificate measures refusals: stop early. */
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		fprintf(stderr, "tls_client_shim: cannot load %s / %s\n", cert, key);
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	return ctx;
}

int EVP_PKEY_keygen(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey)
{
	static keygen_fn next;
	EVP_PKEY *share, *none = NULL;
	int rc;

	if (next == NULL)
		next = (keygen_fn)shim_next("EVP_PKEY_keygen");
	if (ppkey == NULL || *ppkey != NULL || !EVP_PKEY_CTX_is_a(ctx, "X25519"))
		return next(ctx, ppkey);
	share = atomic_load(&shim_share);
	if (share != NULL && EVP_PKEY_up_ref(share) == 1) {
		*ppkey = share;
		return 1;
	}
	rc = next(ctx, ppkey);
	/* The first share made is kept (one more reference). */
	if (rc == 1 && EVP_PKEY_up_ref(*ppkey) == 1 &&
	    !atomic_compare_exchange_strong(&shim_share, &none, *ppkey))
		EVP_PKEY_free(*ppkey);
	return rc;
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (shim_epoll_ctl_next == NULL)
		shim_epoll_ctl_next = (epoll_ctl_fn)shim_next("epoll_ctl");
	if (fd >= 0 && fd < SHIM_MAX_FD)
		atomic_store(&shim_epfd[fd], op == EPOLL_CTL_DEL ? 0 : epfd + 1);
	return shim_epoll_ctl_next(epfd, op, fd, ev);
}

/* Waits for the server's next flight with EPOLLIN alone (see above). */
static void shim_wait_readable(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);
	struct epoll_event ev = { .events = EPOLLIN };
	int epfd;

	if (fd < 0 || fd >= SHIM_MAX_FD || shim_epoll_ctl_next == NULL)
		return;
	epfd = atomic_load(&shim_epfd[fd]) - 1;
	if (epfd < 0)
		return;
	ev.data.fd = fd;
	shim_epoll_ctl_next(epfd, EPOLL_CTL_MOD, fd, &ev);
}

int SSL_connect(SSL *ssl)
{
	static connect_fn next;
	const char *resume = getenv("BENCH_TLS_RESUME");
	int rc;

	if (next == NULL)
		next = (connect_fn)shim_next("SSL_connect");
	/* wrk calls SSL_connect again after each WANT_READ: only the first
	 * call of a handshake may touch the session. */
	if (SSL_in_before(ssl) && resume != NULL && strcmp(resume, "0") == 0)
		SSL_set_session(ssl, NULL);
	rc = next(ssl);
	if (rc != 1 && SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ)
		shim_wait_readable(ssl);
	if (rc == 1) {
		atomic_fetch_add(&shim_handshakes, 1);
		if (SSL_session_reused(ssl))
			atomic_fetch_add(&shim_resumed, 1);
	}
	return rc;
}

__attribute__((destructor)) static void shim_report(void)
{
	const char *path = getenv("BENCH_TLS_STATS");
	FILE *f;

	/* Other programs of the command line (time, taskset) load the shim too:
	 * only the one that made handshakes writes. */
	if (path == NULL || *path == '\0' || atomic_load(&shim_handshakes) == 0)
		return;
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "handshakes %lu resumed %lu\n",
		atomic_load(&shim_handshakes), atomic_load(&shim_resumed));
	fclose(f);
}

__attribute__((constructor)) static void shim_init(void)
{
	key_decode_install();
}
