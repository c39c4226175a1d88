/*
 * http_parser: a strict HTTP/1.1 message-head parser (RFC 9110/9112) for
 * requests and responses. A pure function over the caller's bytes: no I/O, no
 * allocation; the result holds slices into the caller's buffer, valid while
 * that buffer is unchanged. Call again with more bytes after HTTP_INCOMPLETE.
 *
 * This is the smuggling boundary: anything ambiguous is an error, never a
 * guess.
 */
#ifndef PULLGATE_HTTP_HTTP_PARSER_H
#define PULLGATE_HTTP_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define HTTP_MAX_HEADERS 128

/* Return values besides a positive count of consumed bytes. */
#define HTTP_INCOMPLETE (-2)
#define HTTP_ERROR (-1)

struct http_limits {
	size_t request_line_max; /* request line incl. CRLF; over it: 414 */
	size_t header_bytes_max; /* whole head incl. request line; over it: 431 */
	size_t header_count_max; /* <= HTTP_MAX_HEADERS; over it: 431 */
};

struct http_header {
	struct slice name;  /* token, as received */
	struct slice value; /* leading/trailing OWS removed */
};

enum http_body_kind {
	HTTP_BODY_NONE,    /* no body follows */
	HTTP_BODY_LENGTH,  /* exactly content_length bytes follow */
	HTTP_BODY_CHUNKED, /* chunked coding follows */
	HTTP_BODY_CLOSE,   /* responses only: body runs until the connection closes */
};

enum http_method {
	HTTP_METHOD_GET, HTTP_METHOD_HEAD, HTTP_METHOD_POST, HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE, HTTP_METHOD_OPTIONS, HTTP_METHOD_PATCH,
	HTTP_METHOD_TRACE, HTTP_METHOD_CONNECT,
};

struct http_request {
	enum http_method method;
	struct slice method_name;
	struct slice target;     /* origin-form "/p?q", absolute-form, or "*" (OPTIONS) */
	int minor_version;       /* 0 or 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t header_count;

	/* Derived while parsing. */
	enum http_body_kind body;   /* NONE, LENGTH or CHUNKED */
	uint64_t content_length;    /* when body == HTTP_BODY_LENGTH */
	bool keep_alive;            /* 1.1 unless "Connection: close"; 1.0 only with "keep-alive" */
	bool expect_continue;       /* "Expect: 100-continue" (any other Expect: 417) */
	struct slice host;          /* Host header value (may be empty for HTTP/1.0) */

	/* On HTTP_ERROR: the status to answer (400, 414, 417, 431, 501, 505)
	 * and a short static reason for the log. */
	int error_status;
	const char *error_reason;
};

struct http_response {
	int status;              /* 100..599 */
	struct slice reason;
	int minor_version;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t header_count;

	enum http_body_kind body;   /* NONE, LENGTH, CHUNKED or CLOSE */
	uint64_t content_length;
	bool keep_alive;            /* false when the peer will close or framing is CLOSE */

	const char *error_reason;   /* on HTTP_ERROR */
};

/* Parses a request head at buf[0..len). Returns the head's length in bytes
 * (> 0) when complete, HTTP_INCOMPLETE when more bytes are needed (and the
 * limits are not yet exceeded), or HTTP_ERROR with req->error_status set. */
int http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
		       struct http_request *req);

/* Parses a response head. request_method is the method of the request it
 * answers (HEAD and CONNECT change framing). 1xx responses parse as complete
 * heads with body NONE; the caller skips them. */
int http_parse_response(const char *buf, size_t len, const struct http_limits *lim,
			enum http_method request_method, struct http_response *resp);

/* The first header named name (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_header *headers, size_t count,
					   const char *name);

/* True when the comma-separated list value contains token (case-insensitive,
 * OWS around elements ignored). */
bool http_list_has_token(struct slice value, const char *token);
/* Sets *close and *keep_alive when a Connection value lists them (one pass;
 * neither is cleared). */
void http_connection_tokens(struct slice value, bool *close, bool *keep_alive);

/* True when a header must not be forwarded by a proxy: the fixed hop-by-hop
 * set (Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
 * Transfer-Encoding, Upgrade, Proxy-Authenticate, Proxy-Authorization) or a
 * name listed in one of the message's Connection headers. */
bool http_header_is_hop_by_hop(struct slice name, const struct http_header *headers,
			       size_t count);

/* The connection options of a message (the tokens of its Connection
 * headers), gathered once for asking about each of its headers. Borrows
 * headers. */
#define HTTP_CONN_OPTIONS_MAX 8
struct http_conn_options {
	size_t count;
	bool many;                      /* more than fit: look in the headers */
	struct slice token[HTTP_CONN_OPTIONS_MAX];
	const struct http_header *headers;
	size_t header_count;
};
void http_conn_options_init(struct http_conn_options *o, const struct http_header *headers,
			    size_t count);
/* http_header_is_hop_by_hop for the message o was made from. */
bool http_hop_by_hop(struct slice name, const struct http_conn_options *o);

/* The reason phrase for a status code ("OK", "Bad Gateway", ...). */
const char *http_status_reason(int status);

#endif
