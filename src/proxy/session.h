/*
 * session: one client connection through its whole life — TLS handshake,
 * requests read and checked in order (keep-alive, pipelining), each
 * forwarded to an upstream connection with bodies streamed both ways through
 * bounded buffers, responses relayed back, and one close with a reason.
 *
 * The role (guard, later edge) plugs in through proxy_role: it judges each
 * request, adds its own headers and names the upstream pool.
 */
#ifndef PULLGATE_PROXY_SESSION_H
#define PULLGATE_PROXY_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/loop.h"
#include "http/http_parser.h"
#include "proxy/access_log.h"
#include "proxy/body_pump.h"
#include "proxy/upstream.h"
#include "tls/transport.h"

/* Buffer sizes of a request in flight (an idle connection holds none): the
 * request direction, and the response direction, which is larger so that a
 * body moves in few reads and leaves in sends of several TLS records. */
#define SESSION_IO_BUF (32 * 1024)
#define SESSION_OUT_BUF (64 * 1024)
/* A body passing through unchanged is read straight into the response
 * buffer while it has at least this much room at its end (one TLS record). */
#define SESSION_DIRECT_MIN (16 * 1024)
/* The copy of a forwarded head kept to send it again on a new connection. */
#define RETRY_HEAD_BUF (8 * 1024)

struct proxy_session;

struct proxy_limits {
	struct http_limits http;
	uint64_t body_max;          /* 0: unlimited */
	uint32_t handshake_ms;
	uint32_t header_ms;
	uint32_t idle_ms;
	uint32_t body_ms;
	uint32_t response_ms;       /* request sent -> response head */
	uint32_t wait_ms;           /* a parked request's longest wait (collapsed misses) */
};

struct proxy_role {
	/* After the handshake; false closes the connection (reason set). */
	bool (*on_established)(struct proxy_session *s);
	/* Judges a parsed request: 0 to forward it, or a status to answer. */
	int (*check_request)(struct proxy_session *s, const struct http_request *req);
	/* True for client headers the role replaces (identity headers). */
	bool (*drop_header)(struct proxy_session *s, struct slice name);
	/* Appends the role's own request headers; false when they do not fit. */
	bool (*add_headers)(struct proxy_session *s, struct buf *out);
	/* Logs a refused handshake (once). */
	void (*on_handshake_failed)(struct proxy_session *s);
	/* Chooses the upstream pool for a request (NULL: the worker's pool). */
	struct upstream_pool *(*select_pool)(struct proxy_session *s, const struct http_request *req);
	/* The status for a failed pull (NULL: 504 for timeouts, else 502). */
	int (*upstream_status)(struct proxy_session *s, enum upstream_error err);
	/* Cache hooks (all optional). Before a request is forwarded: 0 to
	 * forward it, PROXY_SERVED when the role answered it (response head in
	 * cout, body set with proxy_session_serve), PROXY_WAIT to park the
	 * request until the role calls proxy_session_resume. */
	int (*cache_request)(struct proxy_session *s, const struct http_request *req, size_t head_len);
	/* A final response head from upstream, before it is relayed: 0 to relay
	 * it (the role may set s->tee), PROXY_SERVED when the role answered
	 * from elsewhere instead (the upstream response is dropped). */
	int (*cache_response)(struct proxy_session *s);
	/* Extra headers for a relayed response head (Cache-Status). */
	bool (*response_headers)(struct proxy_session *s, struct buf *out);
	/* The relayed response ended: wholly (complete) or cut short. */
	void (*cache_response_done)(struct proxy_session *s, bool complete);
	/* A pull failed before its response started: true when the role
	 * answered instead (stale-if-error). */
	bool (*cache_upstream_failed)(struct proxy_session *s, enum upstream_error err);
	/* A request ended with its response written to cout: per-request state
	 * can go (the connection may idle for long). */
	void (*request_done)(struct proxy_session *s);
	/* Counts a response's status where the role keeps its own (per zone). */
	void (*count_status)(struct proxy_session *s, int status);
	/* The role's fields of an access log line (zone, cache, certificate). */
	void (*log_fields)(struct proxy_session *s, struct access_entry *e);
	/* Releases the role's per-session state. */
	void (*on_close)(struct proxy_session *s);
};

/* A worker's counters: bumped with METRIC_INC by the worker, read by the
 * admin listener. */
struct proxy_stats {
	uint64_t responses[6];      /* by status class: [2] is 2xx; [0] anything else */
	uint64_t handshakes_ok;
	uint64_t handshakes_failed;
	uint64_t connections;       /* accepted */
	uint64_t active;            /* open now */
	uint64_t idle;              /* open, waiting for a request */
};

/* Per-worker context shared by that worker's sessions. */
struct proxy_worker {
	struct loop *loop;
	const struct proxy_role *role;
	const struct proxy_limits *limits;
	struct upstream_pool *pool;
	const char *via;            /* "1.1 pullgate" */
	const char *forwarded_proto; /* "https" */
	unsigned active;            /* sessions open */
	bool draining;              /* stop keep-alive; close idle sessions */
	bool retired;               /* a newer configuration took over: gone once empty */
	struct proxy_session *sessions; /* all open sessions, for draining */
	/* Called when active drops to 0 while draining or retired. */
	void (*on_idle)(struct proxy_worker *pw);
	void *data;                 /* the role's per-worker, per-configuration state */
	struct proxy_stats *stats;  /* the worker's, shared by its configurations */
	struct access_log *access_log; /* NULL: off */
	const char *role_name;      /* "guard", "edge" */
};

#define PROXY_SERVED 1
#define PROXY_WAIT 2

enum session_phase {
	SESSION_HANDSHAKE,
	SESSION_WAIT,     /* a request parked by the role (a collapsed cache miss) */
	SESSION_HEAD,     /* waiting for (or parsing) a request head */
	SESSION_FORWARD,  /* a request is in flight */
	SESSION_FLUSH,    /* writing a final response before closing */
	SESSION_LINGER,   /* closed our side; draining the peer briefly */
	SESSION_CLOSED,
};

struct proxy_session {
	struct proxy_worker *pw;
	struct transport client;
	struct io_watch watch;
	struct timer timer;
	struct task run_task;
	struct task free_task;
	struct proxy_session *prev, *next;
	char peer_text[64];   /* "127.0.0.1:5555" */
	char peer_ip[48];
	enum session_phase phase;
	const char *close_reason;
	void *role_data;
	uint64_t requests;
	bool idle;             /* counted in stats->idle */

	struct buf cin;       /* bytes from the client */
	struct buf cout;      /* bytes to the client */

	/* The request being started: per-thread scratch pointing into cin, valid
	 * only while its head is handled (session_start_request). */
	struct http_request *req;
	bool req_parsed_once;  /* for the header timer: bytes of a head seen */
	enum http_method method;
	int minor_version;
	bool client_keep_alive;
	bool close_after;      /* answer with Connection: close, then close */
	bool req_idempotent;
	struct body_pump req_body;
	bool req_sent;         /* head and body fully written upstream */

	const char *scheme;    /* how the client reached us: "https" or "http" */
	int status;            /* the status of the last response we made or relayed */
	char *location;        /* Location of the next error response (redirects): owned, or NULL */
	enum upstream_error upstream_error;

	struct upstream_pool *pool; /* the request's upstream */
	struct upstream_conn *up;
	struct buf uin;        /* bytes from upstream */
	struct buf uout;       /* bytes to upstream */
	struct buf retry_head; /* the forwarded head, kept while a retry is possible */
	bool retried;
	bool resp_started;     /* a response head went into cout */
	/* The response head being relayed: per-thread scratch pointing into
	 * uin, valid only while its head is handled (session_parse_response). */
	struct http_response *resp;
	enum http_body_kind resp_kind; /* kept from the head */
	uint64_t resp_length;
	struct body_pump resp_body;
	bool resp_done;
	bool resp_keep_upstream;
	bool resp_relaying;    /* an upstream response is being relayed (cache_response_done due) */

	/* A response body from memory (the cache): copied into cout, then
	 * serve_release(serve_arg). */
	const char *serve_ptr;
	size_t serve_len, serve_off;
	void (*serve_release)(void *arg);
	void *serve_arg;
	bool serving;
	struct session_log *log;   /* the request in flight, for the access log */
	/* The tee the role asks for on the relayed response body. */
	void (*tee)(void *arg, const char *p, size_t n);
	void *tee_arg;
};

/* The access log (session_log.c): a request's start, the moment its pull
 * was sent and answered, and its one line when it ends. */
void session_log_begin(struct proxy_session *s, const struct http_request *req);
void session_log_mark(struct proxy_session *s, bool sent);
void session_log_end(struct proxy_session *s, int status, uint64_t bytes, const char *reason);
void session_log_free(struct proxy_session *s);
/* A request began and was not logged yet. */
bool session_log_pending(const struct proxy_session *s);

/* Counts a response (status class, and the role's own count). */
void proxy_session_count_status(struct proxy_session *s, int status);

/* Sets the body a role's PROXY_SERVED response sends after its head. */
void proxy_session_serve(struct proxy_session *s, const char *body, size_t len,
			 void (*release)(void *arg), void *arg);
/* Resumes a request parked with PROXY_WAIT (on the session's own thread). */
void proxy_session_resume(struct proxy_session *s);

/* Starts a session on an accepted socket; the transport is set up by the
 * caller (plain or TLS). Takes the transport. */
struct proxy_session *proxy_session_start(struct proxy_worker *pw, struct transport *t,
					  const struct sockaddr_storage *peer);
/* Closes with a reason (a static string); safe to call from any callback. */
void proxy_session_close(struct proxy_session *s, const char *reason);
/* Called when the worker starts draining: idle sessions close now, the
 * others after their current response. */
void proxy_session_drain(struct proxy_session *s);

/* Internals shared by the session's files. */
void session_run(struct proxy_session *s);
int session_start_request(struct proxy_session *s, size_t head_len);
bool session_respond_error(struct proxy_session *s, int status, const char *reason);
int session_parse_response(struct proxy_session *s);
bool session_forward_head(struct proxy_session *s, size_t head_len);
bool session_acquire_upstream(struct proxy_session *s);
void session_serve_release(struct proxy_session *s);

#endif
